#pragma once

// EtcdTestServer runs a real etcd (Debian's etcd-server, /usr/bin/etcd) for
// tests: one member or a small cluster, each member on free loopback ports
// (client and peer) with its data in a fresh temp dir.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<EtcdTestServer> etcd, EtcdTestServer::Start());
//   auto conn = EtcdConn::Open(etcd->Address("/test1"), {});
//   etcd->Stop();      // outage: the member's process is gone
//   etcd->Restart();   // same ports, same data
//
// Start() returns once every member answers a read (about 0.3-0.5s for one
// member). Members run with a 50ms heartbeat and a 500ms election timeout, so
// etcd's minimum lease TTL is 1s and lock-expiry tests stay short. The binary
// is $SHALE_ETCD_BINARY if set, else /usr/bin/etcd, else `etcd` from $PATH.
//
// Lifecycle and ownership: the destructor SIGKILLs every member and removes
// the temp dir. Each member also gets SIGKILL if the thread that started it
// (Start or Restart) exits, so call those from the test's main thread.
// Not thread-safe: use from one thread.

#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/subprocess.h"

namespace shale::topo {

class EtcdTestServer {
 public:
  // Starts a cluster of `members` members and waits until each answers.
  // NotFound if no etcd binary exists; Unavailable if it does not come up
  // within 30s (the message includes its exit status if it died).
  static absl::StatusOr<std::unique_ptr<EtcdTestServer>> Start(int members = 1);

  // A one-member server shared by the whole test process, started on first
  // use and killed at exit. Callers isolate themselves with a fresh ROOT.
  // Returns the same error on every call if it could not start. Do not
  // Stop() it: use a server of your own for outage tests.
  static absl::StatusOr<EtcdTestServer*> Shared();

  ~EtcdTestServer();
  EtcdTestServer(const EtcdTestServer&) = delete;
  EtcdTestServer& operator=(const EtcdTestServer&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  // "127.0.0.1:PORT" of a member's client port.
  std::string endpoint(int member = 0) const;
  // "etcd://H:P[,H:P...]ROOT" naming every member; root is "" or like "/t1".
  std::string Address(absl::string_view root) const;
  // Same, naming only the given members, in that order.
  std::string AddressOf(const std::vector<int>& members, absl::string_view root) const;

  // Stops a member (signal, by default SIGTERM, then SIGKILL after 10s) and
  // reaps it; Stop(m, SIGKILL) is a crash. FailedPrecondition if it is not running.
  absl::Status Stop(int member = 0, int signal = SIGTERM);
  // Starts a stopped member again on the same ports and data dir and waits
  // until it answers. FailedPrecondition if it is running.
  absl::Status Restart(int member = 0);
  bool running(int member = 0) const;

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    std::unique_ptr<Subprocess> process;  // null while stopped
  };

  EtcdTestServer() = default;
  absl::Status Launch(int member);
  absl::Status WaitReady(int member);
  std::string InitialCluster() const;

  std::string binary_;
  std::string dir_;  // the temp dir, removed by the destructor
  std::vector<Member> members_;
};

}  // namespace shale::topo
