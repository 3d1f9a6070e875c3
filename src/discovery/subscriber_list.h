#pragma once

// SubscriberList<Event>: the callbacks registered with Subscribe() on the
// HealthCheck and the SrvKeyspaceWatcher, and their delivery.
//
//   SubscriberList<TabletHealthPtr> subscribers;
//   int id = subscribers.Add([](const TabletHealthPtr& h) { ... });
//   subscribers.Notify(health);   // calls every subscriber, one at a time
//   subscribers.Remove(id);       // no call of that subscriber after this returns
//
// Notify calls are serialised: one event is delivered to every subscriber
// before the next Notify starts. Remove waits for a Notify in progress on
// another thread, so a subscriber's captures may die once Remove returns; a
// callback may Remove itself or another subscriber (no wait then). A callback
// must not call Add or Notify of the same list. Thread-safe.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace shale::discovery {

template <typename Event>
class SubscriberList {
 public:
  using Callback = std::function<void(const Event&)>;

  // Returns the subscription's id, for Remove.
  int Add(Callback cb) {
    absl::MutexLock l(&mu_);
    const int id = next_id_++;
    subs_[id] = std::make_shared<Sub>(std::move(cb));
    return id;
  }

  // Unknown ids are ignored.
  void Remove(int id) {
    {
      absl::MutexLock l(&mu_);
      auto it = subs_.find(id);
      if (it == subs_.end()) return;
      it->second->active.store(false, std::memory_order_release);
      subs_.erase(it);
      if (notifying_thread_ == std::this_thread::get_id()) return;  // from inside a callback
    }
    absl::MutexLock wait_for_notify(&notify_mu_);
  }

  void Notify(const Event& event) {
    absl::MutexLock notifying(&notify_mu_);
    std::vector<std::shared_ptr<Sub>> subs;
    {
      absl::MutexLock l(&mu_);
      if (subs_.empty()) return;
      notifying_thread_ = std::this_thread::get_id();
      subs.reserve(subs_.size());
      for (const auto& entry : subs_) subs.push_back(entry.second);
    }
    for (const auto& sub : subs) {
      if (sub->active.load(std::memory_order_acquire)) sub->cb(event);
    }
    absl::MutexLock l(&mu_);
    notifying_thread_ = std::thread::id();
  }

  size_t size() const {
    absl::MutexLock l(&mu_);
    return subs_.size();
  }

 private:
  struct Sub {
    explicit Sub(Callback c) : cb(std::move(c)) {}
    const Callback cb;
    std::atomic<bool> active{true};
  };

  absl::Mutex notify_mu_;  // held for the whole of one Notify
  mutable absl::Mutex mu_;
  // mu_ protects the following.
  int next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<int, std::shared_ptr<Sub>> subs_ ABSL_GUARDED_BY(mu_);
  std::thread::id notifying_thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::discovery
