#pragma once

// StateManager holds what a tablet is right now: its type, whether it serves,
// whether it is read-only, its primary term (DESIGN §3). The tablet process is
// the authority on this state (the tabletmanager-model seed): every change is
// applied here at once, under one lock, and then handed to the
// RecordPublisher, which brings the topology record up to date in the
// background. A failed record write never fails a change.
//
// Changes bump a generation counter; WaitForChange lets the health stream
// send on every change.
//
// Lifecycle: constructed by the tablet server from the record that startup
// resolved (startup.h), then Start() applies it to the engine and publishes
// it. Owned by the tablet server; the Engine and RecordPublisher are borrowed
// and must outlive it (either may be null in tests).
// Thread-safe: every method may be called from any thread.

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tablet/engine/engine.h"
#include "tablet/record_publisher.h"
#include "topodata.pb.h"

namespace shale::tablet {

// A consistent copy of the state, taken under the lock.
struct StateSnapshot {
  topodata::Tablet record;  // what the record should say
  bool serving = false;     // PRIMARY, REPLICA and RDONLY serve queries
  bool read_only = true;    // the engine refuses user writes
  int64_t generation = 0;   // bumped by every change
};

// Whether a tablet of this type serves queries.
bool IsServingType(topodata::TabletType type);

class StateManager {
 public:
  StateManager(topodata::Tablet record, engine::Engine* engine, RecordPublisher* publisher);
  StateManager(const StateManager&) = delete;
  StateManager& operator=(const StateManager&) = delete;

  // Applies the initial state (read-only unless PRIMARY) and publishes it.
  void Start();

  StateSnapshot Snapshot() const;
  topodata::TabletType type() const;

  // Blocks until the generation differs from seen or timeout passes; returns
  // the current generation.
  int64_t WaitForChange(int64_t seen, absl::Duration timeout) const;

  // Changes the tablet type at once. InvalidArgument for UNKNOWN or an
  // unknown value; FailedPrecondition for a change to or from PRIMARY, which
  // is leadership and goes through a reparent (it writes the Shard record).
  // Changing to the current type is a no-op.
  absl::Status ChangeType(topodata::TabletType type);

  // Read-only mode of the engine. SetReadWrite: FailedPrecondition unless
  // the tablet is PRIMARY. SetReadOnly always succeeds. Neither touches the
  // record (read-only is not part of it) but both count as a change.
  absl::Status SetReadOnly();
  absl::Status SetReadWrite();

  // Applies the global Shard record (RefreshState, and startup): a PRIMARY
  // that sees another primary with a newer term demotes itself to REPLICA
  // (fencing by term); a PRIMARY named by the record takes its term and start
  // time. Returns true if the state changed.
  bool ApplyShardRecord(const topodata::Shard& shard);

  // Becomes PRIMARY with the given term (after the Shard record was written
  // by the caller: leadership writes the topology first).
  void BecomePrimary(int64_t term, absl::Time term_start);

  // Stops being the primary (demotion, the end of a planned migration):
  // type REPLICA, read-only. The primary term stays as it was. No-op for a
  // non-primary.
  void BecomeReplica();

  // A health problem to report ("" when healthy); counts as a change.
  void SetHealthError(const std::string& error);
  std::string health_error() const;

 private:
  // Applies engine read-only mode for the current type, bumps the generation
  // and publishes the record.
  void ChangedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  engine::Engine* const engine_;
  RecordPublisher* const publisher_;

  mutable absl::Mutex mu_;
  // mu_ protects the following.
  topodata::Tablet record_ ABSL_GUARDED_BY(mu_);
  bool read_only_ ABSL_GUARDED_BY(mu_) = true;
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::string health_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::tablet
