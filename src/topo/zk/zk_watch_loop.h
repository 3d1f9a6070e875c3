#pragma once

// Internal to topo/zk: the thread that runs one watch.
//
// A ZkWatchLoop registers with the session for a watch id, queues the notices
// for that id (and the connection changes), and hands them one at a time, in
// order, to a handler on its own thread. The handler re-reads nodes (which
// re-arms ZooKeeper's one-shot watches) and calls the user's WatchCallback on
// that same thread, so callbacks of one watch never overlap and may call back
// into the Conn. A handler that could not read asks for a retry with
// RetryLater; the loop then calls it with no notice after a backoff.
//
// Lifecycle: construct (registered, notices queue up), Start(handler), and
// destroy: the destructor unregisters, waits for a running handler to return
// and joins the thread; afterwards the handler is never called again.
// Thread-safe; RetryLater only from the handler.

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/backoff.h"
#include "topo/zk/zk_session.h"

namespace shale::topo::zk_internal {

class ZkWatchLoop : private ZkWatcher {
 public:
  // nullopt: a retry asked for with RetryLater.
  using Handler = std::function<void(const std::optional<ZkNotice>&)>;

  explicit ZkWatchLoop(std::shared_ptr<ZkSession> session);
  ~ZkWatchLoop() override;
  ZkWatchLoop(const ZkWatchLoop&) = delete;
  ZkWatchLoop& operator=(const ZkWatchLoop&) = delete;

  ZkSession& session() { return *session_; }
  // The id to pass to the session's watching calls.
  int64_t id() const { return id_; }

  // Starts the thread; call once.
  void Start(Handler handler);
  // From the handler: call it again with nullopt after a backoff, unless a
  // notice comes first. Backoff grows until a handler run does not ask again.
  void RetryLater();

 private:
  void OnNotice(const ZkNotice& notice) override;
  void Run();

  const std::shared_ptr<ZkSession> session_;
  int64_t id_ = 0;  // set by the constructor, then constant
  Handler handler_;  // set by Start, before the thread runs
  Backoff backoff_{absl::Milliseconds(50), absl::Seconds(5)};  // loop thread only
  bool retry_asked_ = false;                                   // loop thread only

  absl::Mutex mu_;  // protects the following
  std::deque<ZkNotice> pending_ ABSL_GUARDED_BY(mu_);
  absl::Time retry_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace shale::topo::zk_internal
