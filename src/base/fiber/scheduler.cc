#include "base/fiber/scheduler.h"

#include <thread>

#include "base/fiber/worker.h"

namespace shale::fiber {

Scheduler::Scheduler(SchedulerOptions options) : options_(std::move(options)) {
  int threads = options_.threads;
  if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>(this, i));
}

Scheduler::~Scheduler() { Join(); }

bool Scheduler::Spawn(std::function<void()> fn) {
  if (joining_.load()) return false;
  live_.fetch_add(1);
  workers_[next_.fetch_add(1) % workers_.size()]->Post(std::move(fn));
  return true;
}

void Scheduler::Join() {
  joining_ = true;
  for (auto& w : workers_) w->Stop();
  for (auto& w : workers_) w->JoinThread();
}

}  // namespace shale::fiber
