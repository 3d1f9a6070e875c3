#include "tablet/record_publisher.h"

#include "base/backoff.h"
#include "spdlog/spdlog.h"
#include "topo/tablet_alias.h"

namespace shale::tablet {

RecordPublisher::RecordPublisher(topo::Server* ts, RecordPublisherOptions options)
    : ts_(ts), options_(options) {}

RecordPublisher::~RecordPublisher() { Stop(absl::ZeroDuration()); }

void RecordPublisher::Start() { thread_ = std::thread([this] { Loop(); }); }

void RecordPublisher::Stop(absl::Duration grace) {
  {
    absl::MutexLock l(&mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    stop_deadline_ = absl::Now() + grace;
  }
  if (thread_.joinable()) thread_.join();
}

void RecordPublisher::Publish(const topodata::Tablet& record) {
  absl::MutexLock l(&mu_);
  pending_ = record;
  ++published_;
}

PublishStatus RecordPublisher::Status() const {
  absl::MutexLock l(&mu_);
  PublishStatus s;
  s.published = published_;
  s.written = written_;
  s.in_sync = written_ == published_;
  s.failed_attempts = failed_attempts_;
  s.last_error = last_error_;
  return s;
}

bool RecordPublisher::WaitForSync(absl::Duration timeout) const {
  absl::MutexLock l(&mu_);
  auto synced = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return written_ == published_; };
  return mu_.AwaitWithTimeout(absl::Condition(&synced), timeout);
}

void RecordPublisher::Loop() {
  Backoff backoff(options_.initial_backoff, options_.max_backoff);
  for (;;) {
    topodata::Tablet record;
    int64_t generation = 0;
    {
      absl::MutexLock l(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || published_ != written_;
      };
      mu_.Await(absl::Condition(&ready));
      if (published_ == written_) return;  // stopping with nothing to write
      if (stopping_ && absl::Now() >= stop_deadline_) {
        spdlog::warn("tablet record: stopping with generation {} unwritten: {}", published_,
                     last_error_);
        return;
      }
      record = *pending_;
      generation = published_;
    }
    absl::Status s = ts_->PutTablet(record);
    absl::MutexLock l(&mu_);
    if (s.ok()) {
      if (failed_attempts_ > 0) {
        spdlog::info("tablet record {} written after {} failed attempts",
                     topo::TabletAlias::FromProto(record.alias()).ToString(), failed_attempts_);
      }
      written_ = generation;
      failed_attempts_ = 0;
      last_error_.clear();
      backoff.Reset();
      continue;
    }
    ++failed_attempts_;
    last_error_ = std::string(s.ToString());
    if (failed_attempts_ == 1 || failed_attempts_ % 20 == 0) {
      spdlog::warn("tablet record write failed (attempt {}), retrying in the background: {}",
                   failed_attempts_, last_error_);
    }
    // Wait out the backoff, but leave early when stopping.
    absl::Duration delay = backoff.Next();
    if (stopping_) delay = std::min(delay, stop_deadline_ - absl::Now());
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    if (!stopping_ && delay > absl::ZeroDuration()) {
      mu_.AwaitWithTimeout(absl::Condition(&stop), delay);
    } else if (delay > absl::ZeroDuration()) {
      mu_.Unlock();
      absl::SleepFor(delay);
      mu_.Lock();
    }
  }
}

}  // namespace shale::tablet
