#pragma once

// PrimaryFence keeps a primary that was paused from taking writes it may no
// longer take (DESIGN §4, fencing). A primary stopped (SIGSTOP, a frozen VM,
// a stall far longer than a scheduling hiccup) looks dead to ctld, which
// promotes a replica after failover_after (1.5 s). When the old primary runs
// again it still believes it is the primary until the Shard record's watch
// tells it otherwise: a few milliseconds in which it would commit and, under
// durability none, acknowledge writes that the shard then throws away.
//
// The fence closes that window with the process's own monotonic clock: a
// ticker thread stamps the time every `tick`. A gap longer than
// `stall_limit` (well below failover_after), seen by the ticker or by a
// commit that finds the stamp stale, means the process was paused: from then
// on commits wait while the ticker asks the topology whether the Shard record
// still names this tablet (`confirm`). Confirmed: writes go on. Another
// primary named: writes are refused, and the caller's confirm callback hands
// the record to the tablet, which demotes itself. No answer: writes keep
// waiting (then fail, retryably) until the topology answers.
//
// The LogWriter checks the fence before a data transaction commits (a
// refusal rolls it back) and again after it is durable but before replicas
// or the client hear of it (a refusal there reports the outcome unknown).
// Stamp checks cost two atomic loads and a clock read.
//
// What it does not cover: a primary cut off from ctld but still reachable by
// its clients, without a pause, keeps its role until it sees the Shard
// record; semi_sync keeps it from acknowledging writes then.
//
// Owned by the ReplicationManager, which arms it when the tablet becomes
// primary and disarms it when it stops being one. Thread-safe: Check from
// any writer thread, Arm/Disarm from role changes, one ticker thread of its
// own.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace shale::tablet::replication {

// What the topology said when a paused primary asked.
enum class FenceAnswer {
  kStillPrimary,  // the Shard record names this tablet
  kDeposed,       // it names another tablet
};

struct FenceOptions {
  absl::Duration stall_limit = absl::Milliseconds(300);
  absl::Duration tick = absl::Milliseconds(50);
  // Monotonic nanoseconds; tests replace it to simulate a pause.
  std::function<int64_t()> clock;
};

class PrimaryFence {
 public:
  // Asks the topology; an error (unreachable, no primary recorded) is retried
  // on the next tick. `detail` receives a description for errors and logs
  // ("the Shard record names zone1-102 at term 3").
  using Confirm = std::function<absl::StatusOr<FenceAnswer>(std::string* detail)>;

  PrimaryFence(Confirm confirm, FenceOptions options = {});
  ~PrimaryFence();
  PrimaryFence(const PrimaryFence&) = delete;
  PrimaryFence& operator=(const PrimaryFence&) = delete;

  // Ends the ticker (waiting for a confirmation in progress); the fence is
  // off afterwards. Idempotent; the destructor calls it.
  void Stop();

  // The tablet became the primary: writes are open from now.
  void Arm();
  // The tablet is not the primary: Check fails, so a write that passed the
  // engine's read-only check just before a demotion cannot commit a log
  // entry (a non-primary's entry is a divergent log); commits waiting fail.
  void Disarm();

  // OK when a primary's commit may go on. After a pause it waits up to
  // max_wait for the topology's answer: FailedPrecondition / 25006 when
  // another tablet is the primary now (or the fence is disarmed),
  // Unavailable when no answer came.
  absl::Status Check(absl::Duration max_wait) ABSL_LOCKS_EXCLUDED(mu_);

  // True while an armed fence holds writes (a pause not yet confirmed, or
  // deposed): GetState then reports the tablet read-only.
  bool Holding() const;

  int64_t pauses() const { return pauses_.load(); }
  int64_t refusals() const { return refusals_.load(); }

 private:
  enum class State { kOff, kOpen, kPaused, kDeposed };

  int64_t Now() const;
  bool Stale(int64_t now) const;
  void TickerLoop();
  // The ticker's confirmation round after a pause.
  void ConfirmPaused() ABSL_LOCKS_EXCLUDED(mu_);
  void SetState(State s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MarkPaused(int64_t gap_ns) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Confirm confirm_;
  const FenceOptions options_;
  const int64_t stall_limit_ns_;
  std::atomic<State> state_{State::kOff};  // mirrors state_mu_ for the fast path
  std::atomic<int64_t> last_tick_ns_;
  std::atomic<int64_t> pauses_{0};
  std::atomic<int64_t> refusals_{0};

  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  State state_mu_ ABSL_GUARDED_BY(mu_) = State::kOff;
  int64_t paused_ns_ ABSL_GUARDED_BY(mu_) = 0;  // the gap that caused kPaused
  std::string detail_ ABSL_GUARDED_BY(mu_);     // the last answer or error
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool unconfirmed_logged_ ABSL_GUARDED_BY(mu_) = false;
  std::thread ticker_;
};

}  // namespace shale::tablet::replication
