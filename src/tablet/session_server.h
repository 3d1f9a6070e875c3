#pragma once

// SessionServer listens on the tablet's session port (port_map["session"];
// the protocol is in tablet/client/session_socket.h) and serves each
// connection on its own fiber (base/fiber) through a SessionHandler: read a
// request, run it, write the answer. It is the gateway's query path; gRPC's
// Query.Session stream carries the same sessions for other clients.
//
// It also listens on the abstract Unix socket SessionSocketName(port) for
// clients on the same machine. Waiting for the next request parks the fiber, so under load a few worker
// threads take many requests per wake-up. Autocommit SELECTs
// (SessionHandler::IsQuickRead) run on the fiber; everything else, which may
// wait for the writer, a commit or a migration, runs through
// fiber::RunBlocking so that it never stalls the other sessions.
//
// Lifecycle: Start() binds (port 0 picks a free port) and starts the
// acceptor thread; Stop() (also run by the destructor) closes the listener,
// shuts every connection down and waits for their fibers, which finish the
// request they are running. Owned by the TabletServer; the TabletContext is
// borrowed and must outlive it. Thread-safe.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "base/fiber/scheduler.h"
#include "tablet/services.h"

namespace shale::tablet {

class SessionServer {
 public:
  explicit SessionServer(TabletContext* ctx) : ctx_(ctx) {}
  ~SessionServer() { Stop(); }
  SessionServer(const SessionServer&) = delete;
  SessionServer& operator=(const SessionServer&) = delete;

  // Unavailable when bind_address:port cannot be bound.
  absl::Status Start(const std::string& bind_address, int port);
  void Stop();

  int port() const { return port_; }
  int64_t connections() const;                 // open now
  int64_t accepted() const { return accepted_.load(); }

 private:
  void AcceptLoop();
  void Serve(int fd);

  TabletContext* const ctx_;
  int listen_fd_ = -1;
  int local_fd_ = -1;  // the abstract Unix socket (SessionSocketName), if bound
  int port_ = 0;
  std::thread acceptor_;
  std::unique_ptr<fiber::Scheduler> fibers_;
  std::atomic<int64_t> accepted_{0};
  mutable absl::Mutex mu_;
  // mu_ protects the following.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<int> open_fds_ ABSL_GUARDED_BY(mu_);  // connections being served
  int64_t threads_ ABSL_GUARDED_BY(mu_) = 0;               // connection fibers alive
};

}  // namespace shale::tablet
