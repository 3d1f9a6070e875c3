#include "topo/watch_queue.h"

namespace shale::topo {

WatchQueue::WatchQueue(WatchCallback cb) : cb_(std::move(cb)), thread_([this] { Run(); }) {}

WatchQueue::~WatchQueue() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void WatchQueue::Push(WatchEvent event) {
  absl::MutexLock l(&mu_);
  if (!stopping_) pending_.push_back(std::move(event));
}

void WatchQueue::Run() {
  for (;;) {
    WatchEvent event;
    {
      absl::MutexLock l(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !pending_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      event = std::move(pending_.front());
      pending_.pop_front();
    }
    cb_(event);
  }
}

}  // namespace shale::topo
