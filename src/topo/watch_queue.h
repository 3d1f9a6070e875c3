#pragma once

// WatchQueue delivers the events of one watch to its callback, in order, on a
// thread of its own, so that backends never call user code while holding
// their locks. Backends own one per watch (inside their WatchHandle).
//
// Lifecycle: constructed running; the destructor drops undelivered events,
// waits for an in-progress callback to return, and joins the thread.
// Thread-safe: Push may be called from any thread.

#include <deque>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "topo/conn.h"

namespace shale::topo {

class WatchQueue {
 public:
  explicit WatchQueue(WatchCallback cb);
  ~WatchQueue();
  WatchQueue(const WatchQueue&) = delete;
  WatchQueue& operator=(const WatchQueue&) = delete;

  void Push(WatchEvent event);

 private:
  void Run();

  const WatchCallback cb_;
  absl::Mutex mu_;
  std::deque<WatchEvent> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace shale::topo
