#include "base/fiber/worker.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/time/clock.h"

namespace shale::fiber {
namespace {

thread_local Worker* current_worker = nullptr;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "fiber: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

size_t PageSize() {
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

}  // namespace

Worker::Worker(Scheduler* scheduler, int index) : scheduler_(scheduler), index_(index) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) Die("epoll_create1");
  event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) Die("eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // null: the eventfd
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev) != 0) Die("epoll_ctl eventfd");
  thread_ = std::thread([this] { Loop(); });
}

Worker::~Worker() {
  Stop();
  JoinThread();
  ::close(event_fd_);
  ::close(epoll_fd_);
}

Worker* Worker::Current() { return current_worker; }

void Worker::Post(std::function<void()> fn) {
  {
    absl::MutexLock lock(&mu_);
    posted_.push_back(std::move(fn));
  }
  const uint64_t one = 1;
  (void)!::write(event_fd_, &one, sizeof(one));
}

void Worker::Wake(Fiber* fiber) {
  {
    absl::MutexLock lock(&mu_);
    woken_.push_back(fiber);
  }
  const uint64_t one = 1;
  (void)!::write(event_fd_, &one, sizeof(one));
}

void Worker::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  const uint64_t one = 1;
  (void)!::write(event_fd_, &one, sizeof(one));
}

void Worker::JoinThread() {
  if (thread_.joinable()) thread_.join();
}

void Worker::Trampoline() {
  Worker* self = current_worker;
  Fiber* fiber = self->current_;
  fiber->fn();
  fiber->fn = nullptr;  // release what it captured while still on this stack
  fiber->done = true;
  self->Park();  // never resumed
}

void Worker::StartFiber(std::function<void()> fn) {
  auto* fiber = new Fiber;
  const size_t page = PageSize();
  const size_t size =
      (std::max(scheduler_->options_.stack_size, 16 * page) + page - 1) / page * page;
  void* stack = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) Die("mmap fiber stack");
  if (::mprotect(stack, page, PROT_NONE) != 0) Die("mprotect guard page");  // overflow faults
  fiber->stack = stack;
  fiber->stack_size = size;
  fiber->fn = std::move(fn);
  if (::getcontext(&fiber->context) != 0) Die("getcontext");
  fiber->context.uc_stack.ss_sp = static_cast<char*>(stack) + page;
  fiber->context.uc_stack.ss_size = size - page;
  fiber->context.uc_link = nullptr;
  ::makecontext(&fiber->context, &Worker::Trampoline, 0);
  ++fibers_;
  ready_.push_back(fiber);
}

void Worker::DestroyFiber(Fiber* fiber) {
  ::munmap(fiber->stack, fiber->stack_size);
  delete fiber;
  --fibers_;
  scheduler_->live_.fetch_sub(1);
}

void Worker::Resume(Fiber* fiber) {
  current_ = fiber;
  if (::swapcontext(&loop_context_, &fiber->context) != 0) Die("swapcontext");
  current_ = nullptr;
  if (fiber->done) DestroyFiber(fiber);
}

void Worker::Park() {
  Fiber* fiber = current_;
  if (::swapcontext(&fiber->context, &loop_context_) != 0) Die("swapcontext");
}

bool Worker::WaitFd(int fd, short events, absl::Time deadline) {
  Fiber* fiber = current_;
  epoll_event ev{};
  ev.events = EPOLLONESHOT | EPOLLRDHUP;
  if (events & POLLIN) ev.events |= EPOLLIN;
  if (events & POLLOUT) ev.events |= EPOLLOUT;
  ev.data.ptr = fiber;
  // The descriptor may still be registered (disarmed) from an earlier wait:
  // re-arm it, else add it. A descriptor that was closed left the set then.
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
    if (errno != ENOENT || ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      return true;  // not pollable (or closed): the caller's next call reports it
    }
  }
  fiber->waiting = true;
  fiber->timed_out = false;
  fiber->wait_fd = fd;
  if (deadline != absl::InfiniteFuture()) {
    fiber->timer = timers_.emplace(deadline, fiber);
    fiber->has_timer = true;
  }
  Park();
  return !fiber->timed_out;
}

void Worker::TakePosted() {
  std::vector<std::function<void()>> posted;
  std::vector<Fiber*> woken;
  {
    absl::MutexLock lock(&mu_);
    posted.swap(posted_);
    woken.swap(woken_);
  }
  for (auto& fn : posted) StartFiber(std::move(fn));
  for (Fiber* f : woken) ready_.push_back(f);
}

void Worker::ExpireTimers() {
  const absl::Time now = absl::Now();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    Fiber* fiber = timers_.begin()->second;
    timers_.erase(timers_.begin());
    fiber->has_timer = false;
    if (!fiber->waiting) continue;
    fiber->waiting = false;
    fiber->timed_out = true;
    // Take the descriptor out, so that it cannot fire for a fiber that has
    // moved on.
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fiber->wait_fd, nullptr);
    ready_.push_back(fiber);
  }
}

int Worker::EpollTimeoutMs() const {
  if (!ready_.empty()) return 0;
  if (timers_.empty()) return -1;
  const absl::Duration left = timers_.begin()->first - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))), 60'000));
}

void Worker::Loop() {
  current_worker = this;
  // Fibers write to sockets whose peer may be gone; OpenSSL does so with
  // write(2), which raises SIGPIPE. Blocked here, before any fiber's context
  // is made, so that every fiber has it blocked too (a context switch
  // restores the context's signal mask, and a SIGPIPE left pending under one
  // fiber would kill the process when the next context unblocked it).
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  const std::string name = scheduler_->options_.name + "-" + std::to_string(index_);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  epoll_event events[64];
  while (true) {
    TakePosted();
    while (!ready_.empty()) {
      Fiber* fiber = ready_.front();
      ready_.pop_front();
      Resume(fiber);
    }
    {
      absl::MutexLock lock(&mu_);
      if (stopping_ && fibers_ == 0 && posted_.empty()) break;
    }
    const int n = ::epoll_wait(epoll_fd_, events, 64, EpollTimeoutMs());
    if (n < 0 && errno != EINTR) Die("epoll_wait");
    for (int i = 0; i < n; ++i) {
      auto* fiber = static_cast<Fiber*>(events[i].data.ptr);
      if (fiber == nullptr) {
        uint64_t count;
        (void)!::read(event_fd_, &count, sizeof(count));
        continue;
      }
      if (!fiber->waiting) continue;  // its deadline already resumed it
      fiber->waiting = false;
      if (fiber->has_timer) {
        timers_.erase(fiber->timer);
        fiber->has_timer = false;
      }
      ready_.push_back(fiber);
    }
    ExpireTimers();
  }
  current_worker = nullptr;
}

}  // namespace shale::fiber
