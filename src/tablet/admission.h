#pragma once

// Admission bounds how many queries a tablet works on at once (issue 4,
// "bounded queues"). Beyond the limit a call fails at once with
// ResourceExhausted, a retryable error, instead of queueing without bound.
//
//   auto ticket = admission.Admit();
//   if (!ticket.ok()) return ticket.status();
//   ... work; the ticket's destructor frees the slot.
//
// Owned by the tablet server; thread-safe.

#include <atomic>
#include <cstdint>

#include "absl/status/statusor.h"

namespace shale::tablet {

class Admission {
 public:
  // A slot, freed on destruction. Movable.
  class Ticket {
   public:
    explicit Ticket(Admission* a) : a_(a) {}
    Ticket(Ticket&& o) noexcept : a_(o.a_) { o.a_ = nullptr; }
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket() {
      if (a_ != nullptr) a_->in_flight_.fetch_sub(1, std::memory_order_relaxed);
    }

   private:
    Admission* a_;
  };

  explicit Admission(int64_t max_in_flight) : max_(max_in_flight) {}

  // ResourceExhausted "tablet overloaded ..." when max_in_flight calls run.
  absl::StatusOr<Ticket> Admit();

  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  int64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }
  int64_t max_in_flight() const { return max_; }

 private:
  const int64_t max_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> rejected_{0};
};

}  // namespace shale::tablet
