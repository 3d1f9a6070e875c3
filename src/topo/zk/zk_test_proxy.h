#pragma once

// ZkTestProxy forwards loopback TCP connections to a ZooKeeper server and can
// cut them, so a test can partition one client from the server while others
// stay connected (for session expiry tests):
//
//   ASSERT_OK_AND_ASSIGN(auto proxy, ZkTestProxy::Start(zk->port()));
//   auto conn = ZkConn::Open(absl::StrCat("zk://127.0.0.1:", proxy->port(), "/root"), ...);
//   proxy->Partition();  // the client loses the server; its session expires
//   proxy->Heal();       // it reconnects (and finds its session expired)
//
// While partitioned, open connections are shut down and new ones are closed
// as soon as they are accepted.
//
// Lifecycle: Start() runs an accept thread and one forwarding thread per
// connection; the destructor shuts every socket down and joins the threads.
// Thread-safe.

#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace shale::topo {

class ZkTestProxy {
 public:
  // Listens on a free loopback port. Internal if a socket call fails.
  static absl::StatusOr<std::unique_ptr<ZkTestProxy>> Start(int target_port);
  ~ZkTestProxy();
  ZkTestProxy(const ZkTestProxy&) = delete;
  ZkTestProxy& operator=(const ZkTestProxy&) = delete;

  int port() const { return port_; }
  void Partition();
  void Heal();

 private:
  ZkTestProxy(int listen_fd, int port, int target_port, int wake_read, int wake_write);
  void AcceptLoop();
  void Forward(int client_fd, int server_fd);

  const int listen_fd_;
  const int port_;
  const int target_port_;
  const int wake_read_;   // the accept loop polls it: written to on shutdown
  const int wake_write_;

  absl::Mutex mu_;  // protects the following
  bool partitioned_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::set<int> open_fds_ ABSL_GUARDED_BY(mu_);  // both ends of every forwarded connection
  std::vector<std::thread> forwarders_ ABSL_GUARDED_BY(mu_);
  std::thread acceptor_;
};

}  // namespace shale::topo
