#pragma once

// Fibers: cooperative tasks, each with its own stack, many of them on a few
// worker threads (DESIGN §5: the query path is the hot path). A fiber runs
// ordinary blocking-style code; where it would wait for a socket
// (fiber::WaitFd, io_wait.h) it parks instead, and its worker thread runs
// the other fibers whose sockets are ready. Under load one epoll_wait then
// serves many connections, where a thread per connection would pay a
// sleep and a wake-up (two context switches) for every message.
//
//   fiber::Scheduler scheduler({.threads = 2});
//   scheduler.Spawn([fd] { ServeConnection(fd); });
//   ...
//   scheduler.Join();  // after every fiber has been told to end
//
// The rules for code that runs in a fiber: wait for sockets through
// fiber::WaitFd, and wrap anything that may block for long (a condition
// variable, a sleep, a blocking RPC) in fiber::RunBlocking. Never park (wait
// for a socket) while holding a mutex that another fiber may take: the
// worker thread would block on it with the holder parked behind it. A mutex
// held for a short computation is fine.
//
// Worker threads, and so every fiber, run with SIGPIPE blocked.
//
// Scheduler: owned by whoever serves the connections (the gateway's
// PostgreSQL server). Spawn and live_fibers may be called from any thread;
// Join from any thread that is not one of its workers. Each fiber stays on
// the worker that started it.

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace shale::fiber {

struct SchedulerOptions {
  int threads = 0;                  // worker threads; 0: one per CPU
  size_t stack_size = 8u << 20;     // reserved per fiber (like a thread); pages are used on touch
  std::string name = "fiber";       // worker thread names: NAME-0, NAME-1, ...
};

class Worker;

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options = {});
  ~Scheduler();  // Join()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts fn as a new fiber on the next worker (round robin). False once
  // Join has begun (fn is then not run).
  bool Spawn(std::function<void()> fn);
  // Waits until every fiber has returned, then stops the workers. Fibers are
  // not interrupted: the caller makes them end first (e.g. by shutting their
  // sockets down).
  void Join();

  int live_fibers() const { return live_.load(); }
  int threads() const { return static_cast<int>(workers_.size()); }

 private:
  friend class Worker;
  const SchedulerOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<size_t> next_{0};
  std::atomic<int> live_{0};
  std::atomic<bool> joining_{false};
};

}  // namespace shale::fiber
