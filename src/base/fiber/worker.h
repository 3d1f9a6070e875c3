#pragma once

// Internal to base/fiber: one worker thread of a Scheduler, and its fibers.
//
// A Worker owns an epoll set, an eventfd (to be woken by other threads), the
// fibers it started, and a thread that runs Loop: resume every ready fiber
// until it parks or ends, then epoll_wait for sockets, posts and deadlines.
// Post and Wake are called from any thread; everything else runs on the
// worker's own thread (Loop, or a fiber running on it).

#include <ucontext.h>

#include <deque>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/fiber/scheduler.h"

namespace shale::fiber {

// One fiber: its stack, saved registers and state. Owned by its Worker,
// touched only on the worker's thread (Wake takes it from elsewhere, but
// only to queue it).
struct Fiber {
  ucontext_t context;
  void* stack = nullptr;  // mmap'ed, with a guard page at the low end
  size_t stack_size = 0;
  std::function<void()> fn;
  bool done = false;
  bool waiting = false;    // parked in WaitFd (on epoll and/or a deadline)
  bool timed_out = false;  // the last WaitFd ended at its deadline
  int wait_fd = -1;
  bool has_timer = false;
  std::multimap<absl::Time, Fiber*>::iterator timer;
};

class Worker {
 public:
  Worker(Scheduler* scheduler, int index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // The worker running the calling thread, or null on any other thread.
  static Worker* Current();
  // The fiber running now on this worker (null in the loop itself).
  Fiber* current() const { return current_; }

  // Any thread: start a fiber running fn.
  void Post(std::function<void()> fn);
  // Any thread: queue a parked fiber (not waiting in WaitFd) to resume.
  void Wake(Fiber* fiber);
  // Any thread: the loop ends once this worker has no fibers left.
  void Stop();
  void JoinThread();

  // From a fiber of this worker: see fiber::WaitFd.
  bool WaitFd(int fd, short events, absl::Time deadline);
  // From a fiber of this worker: switch to the loop until Wake(fiber).
  void Park();

 private:
  void Loop();
  static void Trampoline();
  void StartFiber(std::function<void()> fn);
  void Resume(Fiber* fiber);
  void TakePosted();
  void ExpireTimers();
  int EpollTimeoutMs() const;
  void DestroyFiber(Fiber* fiber);

  Scheduler* const scheduler_;
  const int index_;
  int epoll_fd_ = -1;
  int event_fd_ = -1;
  std::thread thread_;

  // Loop's thread only.
  ucontext_t loop_context_;
  Fiber* current_ = nullptr;
  std::deque<Fiber*> ready_;
  std::multimap<absl::Time, Fiber*> timers_;
  int fibers_ = 0;

  absl::Mutex mu_;
  std::vector<std::function<void()>> posted_ ABSL_GUARDED_BY(mu_);
  std::vector<Fiber*> woken_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace shale::fiber
