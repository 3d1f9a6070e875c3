#pragma once

// ServingPrimary: whether this tablet's shard still serves PRIMARY traffic,
// and the write freeze of a resharding primary switch (issue 10,
// docs/resharding.md "The primary switch"; the Reshard service's
// FreezeWrites / ThawWrites, rpc_reshard_switch.cc).
//
//  - Serving: a shard serves PRIMARY while its Shard record's served_types
//    lists PRIMARY (the record as the tablet observes it: read at startup and
//    on every change, through the ReplicationManager's Shard watch), and
//    until ThawWrites(resharded) says it stopped (at once, before the watch
//    shows it). A shard that does not serve PRIMARY refuses every user
//    statement aimed at PRIMARY (autocommit statements and Begin; reads too,
//    the gateway re-plans them) with the resharded error
//    (tablet/client/resharded.h). Statements of transactions already open,
//    ExecuteFetchAsDba and internal writes (streams) are not concerned.
//  - Freeze: Leadership::FreezeWrites (the freeze of a planned migration:
//    new writes wait at the WriteGate, open write transactions get a grace
//    period then roll back with 40001, admitted writes finish) and the log
//    position after the last write. Thaw(resharded=false) lets the waiting
//    writes run here. Thaw(resharded=true) marks the shard as not serving and
//    gives the resharded error to the writes that waited, and to any
//    statement that passed Admit before the mark and reaches the gate later
//    (the gate stays frozen until those are gone, then opens for DBA writes).
//    Without a ThawWrites within max_freeze, a thread of this class re-reads
//    the Shard record and thaws by itself: as resharded=false if the record
//    still serves PRIMARY, else as resharded=true (while the topology cannot
//    be read the writes keep waiting; they time out at the gate as
//    Unavailable, retryable).
//  - Denied tables (MoveTables): the Shard record's denied_tables, plus the
//    tables a ThawWrites named ahead of the record (an ahead entry is
//    dropped once a record lists it, so a later record without it, say after
//    ReverseTraffic, serves it again). CheckTables gives MovedTableError
//    (IsResharded) for a statement on one of them; the engine calls it for
//    every user statement on a writable engine, in transactions too, and for
//    a write after the WriteGate, so the writes that waited at the freeze
//    meet the thaw's tables (EngineOptions::check_user_statement).
//    ExecuteFetchAsDba and internal writes (streams) are not concerned.
//    Names compare case-insensitively (ASCII, as SQLite's).
//
// Owned by the TabletServer; the topo::Server, Leadership and WriteGate are
// borrowed and outlive it (Stop() before they go). Thread-safe: the query
// path calls Admit from gRPC and session threads, the engine CheckTables from
// statement threads, the Shard watch calls OnShardRecord, the Reshard service
// Freeze/Thaw; one thread of its own runs the auto-thaw.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "replication_data.pb.h"
#include "tablet/engine/write_gate.h"
#include "tablet/leadership.h"
#include "tablet_data.pb.h"
#include "topo/server.h"
#include "topodata.pb.h"

namespace shale::tablet {

// Whether a Shard record's served_types list PRIMARY (in any cell).
bool ServesPrimary(const topodata::Shard& shard);

class ServingPrimary {
 public:
  // One admitted PRIMARY statement, from Admit until the engine call ends.
  class Ticket {
   public:
    Ticket() = default;
    explicit Ticket(ServingPrimary* owner) : owner_(owner) {}
    ~Ticket() { Release(); }
    Ticket(Ticket&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    void Release();
    ServingPrimary* owner_ = nullptr;
  };

  ServingPrimary(topo::Server* ts, std::string keyspace, std::string shard,
                 Leadership* leadership, engine::WriteGate* gate);
  ~ServingPrimary();
  ServingPrimary(const ServingPrimary&) = delete;
  ServingPrimary& operator=(const ServingPrimary&) = delete;

  // Ends the auto-thaw thread (a freeze still on stays for the gate's owner
  // to end). Idempotent.
  void Stop();

  // The Shard record as the tablet observes it. Until the first one, PRIMARY
  // statements get Unavailable (retryable) and the thread reads the record.
  void OnShardRecord(const topodata::Shard& shard);

  // A user statement aimed at target, outside a transaction (or its Begin):
  // the resharded error if target is PRIMARY and the shard no longer serves
  // primary traffic; else a ticket to hold while the statement runs.
  absl::StatusOr<Ticket> Admit(const Target& target);

  bool serves_primary() const;
  bool frozen() const;

  // FreezeWrites: FailedPrecondition unless primary; DeadlineExceeded if the
  // admitted writes do not finish within flush_timeout (the freeze is then
  // abandoned). Again while frozen: flushes again and restarts the clock.
  absl::StatusOr<LogPosition> Freeze(absl::Duration max_freeze, absl::Duration grace,
                                     absl::Duration flush_timeout);
  // ThawWrites. denied_tables join the denied tables first (those the
  // record does not deny already). Without a freeze: resharded still marks
  // the shard as not serving (a repeated call is harmless).
  void Thaw(bool resharded, const std::vector<std::string>& denied_tables = {});

  // MovedTableError for the first of tables that is denied; else OK.
  absl::Status CheckTables(const std::vector<std::string>& tables) const;

 private:
  void Return();
  bool ServesLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes a Shard record's denied_tables (and drops the ahead entries it lists).
  void SetRecordDeniedLocked(const topodata::Shard& shard) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool DeniedLocked(const std::string& lower) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateAnyDeniedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the freeze of epoch (if it is still the current one): OK, or marks
  // the shard as not serving and starts the drain (below).
  void ThawLocked(bool resharded) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The auto-thaw, and the drain after a resharded thaw: the gate stays
  // frozen and hands the resharded error to whatever reaches it until the
  // statements admitted before the mark are gone, then opens.
  void Loop();

  topo::Server* const ts_;
  const std::string keyspace_;
  const std::string shard_;
  Leadership* const leadership_;
  engine::WriteGate* const gate_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  // mu_ protects the following.
  bool record_serves_ ABSL_GUARDED_BY(mu_) = true;  // the newest observed record
  // No record observed yet (the watch could not start): PRIMARY statements
  // get Unavailable until the thread has read it.
  bool have_record_ ABSL_GUARDED_BY(mu_) = false;
  // ThawWrites(resharded) came while the observed record still served
  // PRIMARY: refuse until the watch shows the flip.
  bool resharded_ahead_of_record_ ABSL_GUARDED_BY(mu_) = false;
  int64_t admitted_ ABSL_GUARDED_BY(mu_) = 0;  // tickets out
  bool frozen_ ABSL_GUARDED_BY(mu_) = false;
  int64_t freeze_epoch_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by every freeze and thaw
  absl::Time thaw_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool draining_ ABSL_GUARDED_BY(mu_) = false;  // a resharded thaw waits for old tickets
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Denied tables, lower case: the newest record's, and ThawWrites' ahead of it.
  absl::flat_hash_set<std::string> record_denied_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> ahead_denied_ ABSL_GUARDED_BY(mu_);
  // Whether either set is non-empty: CheckTables takes no lock without.
  std::atomic<bool> any_denied_{false};
};

}  // namespace shale::tablet
