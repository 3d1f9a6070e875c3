#include "base/fiber/io_wait.h"

#include <cerrno>
#include <deque>
#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/fiber/worker.h"

namespace shale::fiber {
namespace {

// Threads for RunBlocking: started on demand, kept while busy, ended after
// a while idle. One per process, never destroyed (its threads may outlive
// main's return).
class BlockingPool {
 public:
  static BlockingPool& Get() {
    static auto* pool = new BlockingPool;
    return *pool;
  }

  void Run(std::function<void()> job) {
    absl::MutexLock lock(&mu_);
    jobs_.push_back(std::move(job));
    // Every queued job needs a thread of its own: a job may wait for another.
    if (jobs_.size() > static_cast<size_t>(waiting_)) std::thread([this] { Serve(); }).detach();
  }

 private:
  static constexpr absl::Duration kIdleExit = absl::Seconds(30);

  void Serve() {
    absl::MutexLock lock(&mu_);
    auto has_job = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !jobs_.empty(); };
    while (true) {
      if (jobs_.empty()) {
        ++waiting_;
        const bool got = mu_.AwaitWithTimeout(absl::Condition(&has_job), kIdleExit);
        --waiting_;
        if (!got) return;
      }
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      mu_.Unlock();
      job();
      mu_.Lock();
    }
  }

  absl::Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;  // threads waiting for a job
};

}  // namespace

bool InFiber() {
  Worker* w = Worker::Current();
  return w != nullptr && w->current() != nullptr;
}

bool WaitFd(int fd, short events, absl::Time deadline) {
  Worker* w = Worker::Current();
  if (w != nullptr && w->current() != nullptr) return w->WaitFd(fd, events, deadline);
  pollfd p{fd, events, 0};
  while (true) {
    int ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      ms = static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))));
    }
    const int r = ::poll(&p, 1, ms);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return true;  // the caller's next call reports the problem
  }
}

void RunBlocking(absl::FunctionRef<void()> fn) {
  Worker* w = Worker::Current();
  Fiber* fiber = w != nullptr ? w->current() : nullptr;
  if (fiber == nullptr) {
    fn();
    return;
  }
  // fn and the fiber's stack stay valid: the fiber is parked until Wake.
  BlockingPool::Get().Run([&fn, w, fiber] {
    fn();
    w->Wake(fiber);
  });
  w->Park();
}

}  // namespace shale::fiber
