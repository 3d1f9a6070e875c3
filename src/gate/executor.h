#pragma once

// Executor runs a session's statements on tablets (DESIGN §5): it picks the
// tablet for each (shard, type) through discovery, borrows a Query.Session
// stream from the pool, sends every shard's request before reading any
// answer (a scatter costs one round trip, not one per shard), and keeps the
// session's transactions: one tablet transaction per shard, begun lazily on
// the shard's first statement and held on a pinned stream until COMMIT or
// ROLLBACK.
//
// Resharding: the resharded error is not retried here (the statement must
// be planned again: GateSession does it); inside a transaction that already
// began on the shard it becomes a retryable 40001.
//
// Primary changes: a statement outside a transaction that failed because its
// primary is changing (the tablet is no longer primary, not serving, going
// away, or the stream could not be used) is held in the PrimaryBuffer and
// sent again to the new primary. A write whose stream broke after it was
// sent is never sent again: its outcome is unknown, and the client gets
// SQLSTATE 40003 (statement_completion_unknown) rather than a possible
// duplicate.
//
// Owned by one client session and used by its thread; Cancel() may be
// called from any thread.

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "gate/gate_context.h"
#include "gate/target.h"
#include "tablet_data.pb.h"

namespace shale::gate {

// One shard's part of a statement.
struct ShardQuery {
  std::string shard;
  std::string sql;
  int num_binds = 0;  // the statement's first num_binds parameters are bound
};

class Executor {
 public:
  Executor(GateContext* ctx, SessionTarget target);
  ~Executor();  // rolls back open transactions
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs each query on its shard; one result per query, in order. write
  // marks statements that change data (refused on non-primary targets with
  // 25006). Errors carry a SQLSTATE.
  absl::StatusOr<std::vector<tablet::QueryResult>> Run(absl::Span<const ShardQuery> queries,
                                                       bool write,
                                                       absl::Span<const tablet::Value> params);

  // Starts a transaction; shard transactions begin on first use.
  void Begin(bool read_only);
  // Commits every shard transaction in the order they began. If one fails
  // after others committed, the error says which committed (XX000).
  absl::Status Commit();
  // Rolls back every shard transaction (errors are logged, not returned:
  // the tablets roll back on their own when the stream ends).
  void Rollback();
  bool in_transaction() const { return in_txn_; }
  bool read_only_transaction() const { return read_only_txn_; }
  // Shards the open transaction has touched.
  std::vector<std::string> transaction_shards() const;

  // Ends the statement in flight, if any (CancelRequest).
  void Cancel();

  // After Run outside a transaction failed with the resharded error
  // (tablet/client/resharded.h): the shard queries of that statement that
  // did run, with their results, so that a re-planned statement runs only
  // the rest. Empty otherwise; taking them clears them.
  struct Applied {
    std::string keyspace;
    std::string shard;
    tablet::QueryResult result;
  };
  std::vector<Applied> TakeApplied() { return std::move(applied_); }

  const SessionTarget& target() const { return target_; }

 private:
  struct ShardTxn {
    std::string shard;
    discovery::TabletHealthPtr tablet;
    std::unique_ptr<TabletStream> stream;
    int64_t txn_id = 0;
  };
  // A request being run outside a transaction.
  struct Attempt {
    discovery::TabletHealthPtr tablet;
    std::unique_ptr<TabletStream> stream;
    bool sent = false;
  };

  tablet::Target MakeTarget(const std::string& shard) const;
  void FillRequest(const ShardQuery& q, absl::Span<const tablet::Value> params, int64_t txn_id,
                   tablet::SessionRequest* request) const;
  absl::StatusOr<discovery::TabletHealthPtr> Pick(const std::string& shard) const;
  // The tablet to use for shard now, if it is not the one that failed (or
  // that one with a newer primary term); else null, to keep waiting.
  discovery::TabletHealthPtr OtherTablet(const std::string& shard,
                                         const discovery::TabletHealthPtr& failed) const;

  absl::StatusOr<std::vector<tablet::QueryResult>> RunInTransaction(
      absl::Span<const ShardQuery> queries, absl::Span<const tablet::Value> params);
  absl::StatusOr<ShardTxn*> TxnFor(const std::string& shard);
  absl::StatusOr<std::vector<tablet::QueryResult>> RunAutocommit(
      absl::Span<const ShardQuery> queries, bool write, absl::Span<const tablet::Value> params);
  // Sends q to a freshly picked tablet; on failure *attempt says what happened.
  absl::Status SendOne(const ShardQuery& q, absl::Span<const tablet::Value> params,
                       Attempt* attempt);
  // Reads q's answer into *result.
  absl::Status ReceiveOne(Attempt* attempt, tablet::QueryResult* result);
  // Runs q again after a failure, through the buffer for primaries, until it
  // succeeds or may not be retried.
  absl::Status Retry(const ShardQuery& q, bool write, absl::Span<const tablet::Value> params,
                     absl::Status failure, Attempt attempt, tablet::QueryResult* result);
  void Track(TabletStream* stream);
  void Untrack(TabletStream* stream);

  GateContext* const ctx_;
  const SessionTarget target_;
  bool in_txn_ = false;
  bool read_only_txn_ = false;
  std::deque<ShardTxn> txns_;  // a deque: pointers stay valid as it grows
  std::vector<Applied> applied_;
  tablet::SessionRequest request_;  // reused

  absl::Mutex cancel_mu_;
  std::vector<TabletStream*> in_flight_ ABSL_GUARDED_BY(cancel_mu_);
  bool cancelled_ ABSL_GUARDED_BY(cancel_mu_) = false;
};

// True when a failure means the statement did not run and the shard's
// primary (or the tablet) is changing, so it may be sent again. sent_unknown:
// the stream broke after the request was written.
bool IsRetryable(const absl::Status& status, bool sent_unknown, bool write);

}  // namespace shale::gate
