#include "changes/merge_queue.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace shale::changes {

MergeQueue::MergeQueue(KeyspacePosition start, MergeQueueOptions options)
    : options_(options), pushed_(std::move(start)) {
  consumed_ = pushed_.ToString();
}

size_t MergeQueue::Bytes(const MergedEvent& e) {
  return e.event.ByteSizeLong() + e.position.size() + e.shard.size();
}

bool MergeQueue::Full() const {
  return events_.size() >= options_.max_events || bytes_ >= options_.max_bytes;
}

bool MergeQueue::Push(const std::string& shard, std::vector<tablet::ChangeEvent> events) {
  absl::MutexLock lock(&mu_);
  auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_ || !Full(); };
  if (!mu_.AwaitWithTimeout(absl::Condition(&room), options_.stall_timeout)) {
    const size_t buffered = events_.size();
    events_.clear();
    bytes_ = 0;
    closed_ = true;
    status_ = absl::ResourceExhaustedError(absl::StrCat(
        "subscriber too slow: ", buffered, " events buffered; resume with --from ", consumed_));
    return false;
  }
  if (closed_) return false;
  for (tablet::ChangeEvent& e : events) {
    pushed_.Set(shard, e.position());
    MergedEvent m{shard, pushed_.ToString(), std::move(e)};
    bytes_ += Bytes(m);
    events_.push_back(std::move(m));
  }
  return true;
}

absl::StatusOr<std::vector<MergedEvent>> MergeQueue::Pop(size_t max, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_ || !events_.empty(); };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  std::vector<MergedEvent> out;
  if (events_.empty()) {
    if (closed_) return status_;
    return out;
  }
  while (!events_.empty() && out.size() < max) {
    bytes_ -= Bytes(events_.front());
    out.push_back(std::move(events_.front()));
    events_.pop_front();
  }
  if (!out.empty()) consumed_ = out.back().position;
  return out;
}

void MergeQueue::Close(absl::Status status) {
  absl::MutexLock lock(&mu_);
  if (closed_) return;
  closed_ = true;
  status_ = status.ok() ? absl::CancelledError("subscription stopped") : std::move(status);
}

std::string MergeQueue::ConsumedPosition() const {
  absl::MutexLock lock(&mu_);
  return consumed_;
}

size_t MergeQueue::size() const {
  absl::MutexLock lock(&mu_);
  return events_.size();
}

}  // namespace shale::changes
