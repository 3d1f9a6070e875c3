#pragma once

// ZkTestServer runs a real standalone ZooKeeper server for tests: Debian's
// zookeeper package (/usr/share/java/zookeeper.jar and its dependencies) on
// the system JRE, on a free loopback port, with a fresh temp data dir and a
// short tickTime (100ms), so that sessions can be as short as 200ms.
//
//   ASSERT_OK_AND_ASSIGN(auto zk, ZkTestServer::Start());
//   auto conn = OpenConn(zk->Address("/test"));
//
// Stop() kills the server like a crash; Restart() starts it again on the same
// port and data dir, so sessions, ephemeral nodes and data survive, as after
// a real server restart. Start() and Restart() return once the server serves
// clients (probed with a ZooKeeper connect request, until a deadline).
//
// Lifecycle: Start() -> [Stop() / Restart()]* -> destructor, which kills the
// server and removes the temp dir. The server also dies with the thread that
// started it (see Subprocess). Not thread-safe: use from one thread.
//
// Environment: SHALE_ZK_CLASSPATH overrides the server classpath; JAVA_HOME
// picks the java binary (default: java in $PATH); SHALE_ZK_LOG_LEVEL sets the
// server's log level on stderr (default: error).

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/subprocess.h"

namespace shale::topo {

class ZkTestServer {
 public:
  // Starts a server. NotFound if java or the ZooKeeper jars are missing;
  // DeadlineExceeded if it does not answer within start_timeout.
  static absl::StatusOr<std::unique_ptr<ZkTestServer>> Start(
      absl::Duration start_timeout = absl::Seconds(60));
  ~ZkTestServer();
  ZkTestServer(const ZkTestServer&) = delete;
  ZkTestServer& operator=(const ZkTestServer&) = delete;

  // Kills the server (SIGKILL) and waits for it to exit. OK if not running.
  absl::Status Stop();
  // Starts the server again on the same port and data dir and waits until it
  // answers. FailedPrecondition if it is running.
  absl::Status Restart(absl::Duration start_timeout = absl::Seconds(60));
  bool running() const { return process_ != nullptr; }

  int port() const { return port_; }
  // "127.0.0.1:PORT".
  std::string hosts() const;
  // "zk://127.0.0.1:PORT" + root.
  std::string Address(absl::string_view root) const;

  // A loopback port that nothing listens on right now. Internal on error.
  static absl::StatusOr<int> FreePort();

 private:
  ZkTestServer() = default;
  absl::Status Launch(absl::Duration start_timeout);

  std::string dir_;  // temp dir with zoo.cfg and data/; removed by the destructor
  int port_ = 0;
  std::unique_ptr<Subprocess> process_;  // null while stopped
};

}  // namespace shale::topo
