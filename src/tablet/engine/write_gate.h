#pragma once

// WriteGate: the door every user write passes on its way to the writer, the
// "write queue" of the TN-migration seed (DESIGN §4, planned migration).
//
// Normally open: Enter returns a Ticket at once and counts it. Freeze() makes
// later Enters wait (they do not fail); WaitDrained waits for the tickets
// already out to come back ("flush the commit queue": an autocommit write
// holds its ticket until its semi-sync acknowledgement, an interactive write
// transaction from Begin to Commit/Rollback). Thaw(outcome) opens the gate
// again and hands `outcome` to every write that waited: OK lets them run
// here; an error (the tunnel's "moved" status after a migration) is returned
// to them so the caller can forward them to the new primary.
//
// Owned by the tablet server; the Engine borrows it (EngineOptions). Tickets
// borrow the gate and must be gone before it is destroyed. Thread-safe.

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace shale::tablet::engine {

class WriteGate {
 public:
  // One admitted write; returns itself to the gate when destroyed.
  class Ticket {
   public:
    Ticket() = default;
    explicit Ticket(WriteGate* gate) : gate_(gate) {}
    ~Ticket() { Release(); }
    Ticket(Ticket&& other) noexcept : gate_(other.gate_) { other.gate_ = nullptr; }
    Ticket& operator=(Ticket&& other) noexcept {
      if (this != &other) {
        Release();
        gate_ = other.gate_;
        other.gate_ = nullptr;
      }
      return *this;
    }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    void Release();

   private:
    WriteGate* gate_ = nullptr;
  };

  WriteGate() = default;
  WriteGate(const WriteGate&) = delete;
  WriteGate& operator=(const WriteGate&) = delete;

  // Admits one write, waiting while the gate is frozen (up to max_wait, then
  // Unavailable, retryable). When the freeze ends with an error outcome, that
  // error is returned instead of a ticket.
  absl::StatusOr<Ticket> Enter(absl::Duration max_wait = absl::Seconds(30));

  // New writes wait from now on. Idempotent.
  void Freeze();
  // Waits until no ticket is out (or deadline); true when drained.
  bool WaitDrained(absl::Time deadline);
  // Opens the gate; the writes that waited get `outcome` (OK: they proceed).
  void Thaw(absl::Status outcome = absl::OkStatus());
  // Hands `outcome` to the writes waiting now and stays frozen for later ones
  // (a resharding thaw: ServingPrimary). No-op when not frozen.
  void Release(absl::Status outcome);

  bool frozen() const;
  int64_t active() const;
  int64_t waiting() const;

 private:
  void Return();

  mutable absl::Mutex mu_;
  bool frozen_ ABSL_GUARDED_BY(mu_) = false;
  int64_t active_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t waiting_ ABSL_GUARDED_BY(mu_) = 0;
  // The outcome of the current freeze, shared with the writes waiting on it.
  std::shared_ptr<absl::Status> outcome_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::tablet::engine
