#include "topo/zk/zk_watch_loop.h"

#include <utility>

namespace shale::topo::zk_internal {

ZkWatchLoop::ZkWatchLoop(std::shared_ptr<ZkSession> session) : session_(std::move(session)) {
  id_ = session_->Register(this);  // last: notices may arrive at once
}

ZkWatchLoop::~ZkWatchLoop() {
  session_->Unregister(id_);
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void ZkWatchLoop::Start(Handler handler) {
  handler_ = std::move(handler);
  thread_ = std::thread([this] { Run(); });
}

void ZkWatchLoop::RetryLater() {
  retry_asked_ = true;
  absl::Duration pause = backoff_.Next();
  absl::MutexLock l(&mu_);
  retry_at_ = absl::Now() + pause;
}

void ZkWatchLoop::OnNotice(const ZkNotice& notice) {
  absl::MutexLock l(&mu_);
  pending_.push_back(notice);
}

void ZkWatchLoop::Run() {
  for (;;) {
    std::optional<ZkNotice> notice;
    {
      absl::MutexLock l(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !pending_.empty() || absl::Now() >= retry_at_;
      };
      mu_.AwaitWithDeadline(absl::Condition(&ready), retry_at_);
      if (stopping_) return;
      if (!pending_.empty()) {
        notice = std::move(pending_.front());
        pending_.pop_front();
      } else if (absl::Now() < retry_at_) {
        continue;
      }
      retry_at_ = absl::InfiniteFuture();
    }
    retry_asked_ = false;
    handler_(notice);
    if (!retry_asked_) backoff_.Reset();
  }
}

}  // namespace shale::topo::zk_internal
