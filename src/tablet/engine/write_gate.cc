#include "tablet/engine/write_gate.h"

#include "absl/strings/str_cat.h"

namespace shale::tablet::engine {

void WriteGate::Ticket::Release() {
  if (gate_ != nullptr) gate_->Return();
  gate_ = nullptr;
}

absl::StatusOr<WriteGate::Ticket> WriteGate::Enter(absl::Duration max_wait) {
  absl::MutexLock lock(&mu_);
  if (frozen_) {
    std::shared_ptr<absl::Status> outcome = outcome_;
    ++waiting_;
    auto released = [this, &outcome]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !frozen_ || outcome_ != outcome;
    };
    const bool ok = mu_.AwaitWithTimeout(absl::Condition(&released), max_wait);
    --waiting_;
    if (!ok) {
      return absl::UnavailableError(absl::StrCat(
          "writes are frozen for a primary change for longer than ", absl::FormatDuration(max_wait),
          "; retry"));
    }
    if (!outcome->ok()) return *outcome;
  }
  ++active_;
  return Ticket(this);
}

void WriteGate::Return() {
  absl::MutexLock lock(&mu_);
  --active_;
}

void WriteGate::Freeze() {
  absl::MutexLock lock(&mu_);
  if (frozen_) return;
  frozen_ = true;
  outcome_ = std::make_shared<absl::Status>();
}

bool WriteGate::WaitDrained(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return active_ == 0; };
  return mu_.AwaitWithDeadline(absl::Condition(&drained), deadline);
}

void WriteGate::Thaw(absl::Status outcome) {
  absl::MutexLock lock(&mu_);
  if (!frozen_) return;
  *outcome_ = std::move(outcome);
  frozen_ = false;
}

void WriteGate::Release(absl::Status outcome) {
  absl::MutexLock lock(&mu_);
  if (!frozen_) return;
  *outcome_ = std::move(outcome);
  outcome_ = std::make_shared<absl::Status>();
}

bool WriteGate::frozen() const {
  absl::MutexLock lock(&mu_);
  return frozen_;
}

int64_t WriteGate::active() const {
  absl::MutexLock lock(&mu_);
  return active_;
}

int64_t WriteGate::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiting_;
}

}  // namespace shale::tablet::engine
