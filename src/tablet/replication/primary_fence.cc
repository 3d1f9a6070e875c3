#include "tablet/replication/primary_fence.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "spdlog/spdlog.h"

namespace shale::tablet::replication {
namespace {

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Millis(int64_t ns) { return absl::StrCat(ns / 1000000, " ms"); }

}  // namespace

PrimaryFence::PrimaryFence(Confirm confirm, FenceOptions options)
    : confirm_(std::move(confirm)),
      options_(std::move(options)),
      stall_limit_ns_(absl::ToInt64Nanoseconds(options_.stall_limit)),
      last_tick_ns_(Now()) {
  ticker_ = std::thread([this] { TickerLoop(); });
}

PrimaryFence::~PrimaryFence() { Stop(); }

void PrimaryFence::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    SetState(State::kOff);
  }
  if (ticker_.joinable()) ticker_.join();
}

int64_t PrimaryFence::Now() const { return options_.clock ? options_.clock() : SteadyNanos(); }

bool PrimaryFence::Stale(int64_t now) const { return now - last_tick_ns_.load() > stall_limit_ns_; }

void PrimaryFence::SetState(State s) {
  state_mu_ = s;
  state_.store(s);
  changed_.SignalAll();
}

void PrimaryFence::Arm() {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  last_tick_ns_.store(Now());
  detail_.clear();
  SetState(State::kOpen);
}

void PrimaryFence::Disarm() {
  absl::MutexLock lock(&mu_);
  SetState(State::kOff);
}

bool PrimaryFence::Holding() const {
  const State s = state_.load();
  if (s == State::kOff) return false;
  return s != State::kOpen || Stale(Now());
}

absl::Status PrimaryFence::Check(absl::Duration max_wait) {
  // Fast path: the primary, not paused.
  if (state_.load() == State::kOpen && !Stale(Now())) return absl::OkStatus();

  const absl::Time deadline = absl::Now() + max_wait;
  absl::MutexLock lock(&mu_);
  for (;;) {
    const int64_t now = Now();
    if (state_mu_ == State::kOpen && Stale(now)) {
      // Seen here first: the ticker was paused too and confirms once it runs.
      MarkPaused(now - last_tick_ns_.load());
    }
    switch (state_mu_) {
      case State::kOpen:
        return absl::OkStatus();
      case State::kOff:
        refusals_.fetch_add(1);
        return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kReadOnlyTransaction,
                        "this tablet is not the primary (any more): it writes no log entry");
      case State::kDeposed:
        refusals_.fetch_add(1);
        return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kReadOnlyTransaction,
                        absl::StrCat("this tablet is no longer the primary: it was paused for ",
                                     Millis(paused_ns_), " and ", detail_));
      case State::kPaused:
        break;
    }
    if (stopping_ || changed_.WaitWithDeadline(&mu_, deadline)) {
      if (state_mu_ != State::kPaused) continue;
      refusals_.fetch_add(1);
      return absl::UnavailableError(absl::StrCat(
          "this primary was paused for ", Millis(paused_ns_),
          " and cannot yet confirm with the topology that it is still the primary",
          detail_.empty() ? "" : absl::StrCat(" (", detail_, ")"), "; writes wait until it can"));
    }
  }
}

void PrimaryFence::TickerLoop() {
  for (;;) {
    bool confirm = false;
    {
      absl::MutexLock lock(&mu_);
      changed_.WaitWithTimeout(&mu_, options_.tick);
      if (stopping_) return;
      const int64_t now = Now();
      const int64_t gap = now - last_tick_ns_.load();
      if (state_mu_ == State::kOpen && gap > stall_limit_ns_) MarkPaused(gap);
      // The state is set before the new stamp: a commit that sees the new
      // stamp also sees kPaused.
      last_tick_ns_.store(now);
      confirm = state_mu_ == State::kPaused;
    }
    if (confirm) ConfirmPaused();
  }
}

void PrimaryFence::MarkPaused(int64_t gap_ns) {
  paused_ns_ = gap_ns;
  pauses_.fetch_add(1);
  unconfirmed_logged_ = false;
  SetState(State::kPaused);
  spdlog::warn(
      "primary fence: this primary was paused for {}; writes wait until the "
      "topology confirms it is still the primary",
      Millis(gap_ns));
}

void PrimaryFence::ConfirmPaused() {
  std::string detail;
  absl::StatusOr<FenceAnswer> answer = confirm_(&detail);
  absl::MutexLock lock(&mu_);
  if (state_mu_ != State::kPaused) return;  // disarmed or re-armed meanwhile
  if (!answer.ok()) {
    detail_ = answer.status().ToString();
    if (!unconfirmed_logged_) {  // once per pause; the next tick asks again
      spdlog::warn("primary fence: cannot confirm the primary role yet: {}", detail_);
      unconfirmed_logged_ = true;
    }
    return;  // the next tick asks again
  }
  detail_ = detail;
  if (*answer == FenceAnswer::kStillPrimary) {
    spdlog::info("primary fence: still the primary ({}); writes go on", detail_);
    last_tick_ns_.store(Now());
    SetState(State::kOpen);
  } else {
    spdlog::warn("primary fence: deposed while paused ({}); refusing writes", detail_);
    SetState(State::kDeposed);
  }
}

}  // namespace shale::tablet::replication
