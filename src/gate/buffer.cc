#include "gate/buffer.h"

#include "absl/strings/str_cat.h"
#include "base/fiber/io_wait.h"
#include "base/sqlstate.h"

namespace shale::gate {

PrimaryBuffer::PrimaryBuffer(Options options, metrics::MetricsRegistry* registry)
    : options_(options) {
  auto* requests = registry->AddCounterFamily(
      "shale_gate_buffer_requests_total",
      "Primary requests held while a shard's primary changed, by outcome.", {"result"});
  released_ = requests->WithLabels({"released"});
  timed_out_ = requests->WithLabels({"timeout"});
  overflowed_ = requests->WithLabels({"overflow"});
  buffered_gauge_ = registry->AddGauge("shale_gate_buffered_requests",
                                       "Primary requests held in the buffer now.");
  wait_seconds_ = registry->AddHistogram("shale_gate_buffer_wait_seconds",
                                         "How long buffered requests were held.",
                                         metrics::LatencyBuckets());
}

int PrimaryBuffer::buffered() const {
  absl::MutexLock lock(&mu_);
  return buffered_;
}

void PrimaryBuffer::Notify() {
  absl::MutexLock lock(&mu_);
  ++generation_;
  changed_.SignalAll();
}

absl::StatusOr<bool> PrimaryBuffer::Buffered(
    const std::string& shard_name, absl::Time since,
    const std::function<bool(absl::Time deadline)>& held) {
  const absl::Time start = absl::Now();
  const absl::Time deadline = since + options_.window;
  {
    absl::MutexLock lock(&mu_);
    if (buffered_ >= options_.max_buffered) {
      overflowed_->Inc();
      return SqlError(absl::StatusCode::kResourceExhausted, sqlstate::kTooManyConnections,
                      absl::StrCat("the primary of ", shard_name, " is changing and the buffer "
                                   "already holds ", buffered_, " requests"));
    }
    ++buffered_;
    buffered_gauge_->Set(buffered_);
  }
  bool released = false;
  // Held off the connection's fiber, so that its worker serves the others.
  fiber::RunBlocking([&] { released = held(deadline); });
  {
    absl::MutexLock lock(&mu_);
    --buffered_;
    buffered_gauge_->Set(buffered_);
  }
  wait_seconds_->ObserveDuration(absl::Now() - start);
  (released ? released_ : timed_out_)->Inc();
  return released;
}

absl::StatusOr<discovery::TabletHealthPtr> PrimaryBuffer::Wait(const std::string& shard_name,
                                                               absl::Time since,
                                                               const Probe& probe) {
  discovery::TabletHealthPtr found;
  absl::StatusOr<bool> released = Buffered(shard_name, since, [&](absl::Time deadline) {
    while (true) {
      int64_t seen;
      {
        absl::MutexLock lock(&mu_);
        seen = generation_;
      }
      found = probe();
      if (found != nullptr || absl::Now() >= deadline) break;
      absl::MutexLock lock(&mu_);
      // Probe again on any health change, and at least every 50 ms (a change
      // that is not a health event, such as a topology record, also counts).
      const absl::Time wake = std::min(deadline, absl::Now() + absl::Milliseconds(50));
      while (generation_ == seen && !changed_.WaitWithDeadline(&mu_, wake)) {
      }
    }
    return found != nullptr;
  });
  if (!released.ok()) return released.status();
  if (*released) return found;
  return SqlError(absl::StatusCode::kUnavailable, sqlstate::kConnectionFailure,
                  absl::StrCat("no serving primary for ", shard_name, " within the ",
                               absl::FormatDuration(options_.window), " buffer window"));
}

absl::Status PrimaryBuffer::Hold(const std::string& what, absl::Time since,
                                 const std::function<bool(absl::Time deadline)>& wait) {
  absl::StatusOr<bool> released = Buffered(what, since, wait);
  if (!released.ok()) return released.status();
  if (*released) return absl::OkStatus();
  return SqlError(absl::StatusCode::kUnavailable, sqlstate::kConnectionFailure,
                  absl::StrCat(what, ": not released within the ",
                               absl::FormatDuration(options_.window), " buffer window"));
}

}  // namespace shale::gate
