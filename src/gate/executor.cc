#include "gate/executor.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "spdlog/spdlog.h"
#include "tablet/client/grpc_status.h"
#include "tablet/client/resharded.h"

namespace shale::gate {
namespace {

absl::Status OutcomeUnknown(const absl::Status& cause) {
  return SqlError(absl::StatusCode::kUnavailable, sqlstate::kStatementCompletionUnknown,
                  absl::StrCat("the tablet went away while running the statement; it may or "
                               "may not have been applied (",
                               cause.message(), ")"));
}

absl::Status Cancelled() {
  return SqlError(absl::StatusCode::kCancelled, sqlstate::kQueryCanceled,
                  "canceling statement due to user request");
}

}  // namespace

bool IsRetryable(const absl::Status& status, bool sent_unknown, bool write) {
  if (status.ok() || absl::IsCancelled(status)) return false;
  if (sent_unknown) return !write;
  const std::string state = SqlState(status);
  if (absl::IsFailedPrecondition(status)) {
    return absl::StartsWith(status.message(), "wrong target") ||
           absl::StrContains(status.message(), "is not serving") ||
           state == sqlstate::kReadOnlyTransaction;
  }
  if (absl::IsUnavailable(status)) {
    // Not 40003 (semi-sync: committed but unconfirmed): that one ran.
    return state != sqlstate::kStatementCompletionUnknown;
  }
  return false;
}

Executor::Executor(GateContext* ctx, SessionTarget target)
    : ctx_(ctx), target_(std::move(target)) {}

Executor::~Executor() { Rollback(); }

tablet::Target Executor::MakeTarget(const std::string& shard) const {
  tablet::Target t;
  t.set_keyspace(target_.keyspace);
  t.set_shard(shard);
  t.set_tablet_type(target_.tablet_type);
  return t;
}

void Executor::FillRequest(const ShardQuery& q, absl::Span<const tablet::Value> params,
                           int64_t txn_id, tablet::SessionRequest* request) const {
  request->Clear();
  tablet::ExecuteRequest* e = request->mutable_execute();
  *e->mutable_target() = MakeTarget(q.shard);
  e->set_sql(q.sql);
  e->set_transaction_id(txn_id);
  const int n = std::min<int>(q.num_binds, params.size());
  e->mutable_binds()->Reserve(n);
  for (int i = 0; i < n; ++i) *e->add_binds() = params[i];
}

absl::StatusOr<discovery::TabletHealthPtr> Executor::Pick(const std::string& shard) const {
  absl::StatusOr<discovery::PickedTablet> picked =
      ctx_->picker->Pick(target_.keyspace, shard, target_.tablet_type);
  if (!picked.ok()) return picked.status();
  return picked->tablet;
}

discovery::TabletHealthPtr Executor::OtherTablet(
    const std::string& shard, const discovery::TabletHealthPtr& failed) const {
  absl::StatusOr<discovery::TabletHealthPtr> t = Pick(shard);
  if (!t.ok()) return nullptr;
  if (failed == nullptr || (*t)->alias != failed->alias ||
      (*t)->primary_term > failed->primary_term) {
    return *t;
  }
  return nullptr;
}

void Executor::Track(TabletStream* stream) {
  absl::MutexLock lock(&cancel_mu_);
  in_flight_.push_back(stream);
  if (cancelled_) stream->Cancel();
}

void Executor::Untrack(TabletStream* stream) {
  absl::MutexLock lock(&cancel_mu_);
  std::erase(in_flight_, stream);
}

void Executor::Cancel() {
  absl::MutexLock lock(&cancel_mu_);
  cancelled_ = true;
  for (TabletStream* s : in_flight_) s->Cancel();
}

absl::StatusOr<std::vector<tablet::QueryResult>> Executor::Run(
    absl::Span<const ShardQuery> queries, bool write, absl::Span<const tablet::Value> params) {
  {
    absl::MutexLock lock(&cancel_mu_);
    cancelled_ = false;
  }
  applied_.clear();
  if (write && (target_.tablet_type != topodata::PRIMARY || read_only_txn_)) {
    return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kReadOnlyTransaction,
                    absl::StrCat("cannot change data in a read-only ",
                                 read_only_txn_ ? "transaction" : "session", " (target ",
                                 target_.ToString(), ")"));
  }
  if (in_txn_) return RunInTransaction(queries, params);
  return RunAutocommit(queries, write, params);
}

// ---- outside a transaction

absl::Status Executor::SendOne(const ShardQuery& q, absl::Span<const tablet::Value> params,
                               Attempt* attempt) {
  ASSIGN_OR_RETURN(attempt->tablet, Pick(q.shard));
  attempt->stream = ctx_->pool->Acquire(*attempt->tablet);
  FillRequest(q, params, 0, &request_);
  Track(attempt->stream.get());
  absl::Status s = attempt->stream->Send(request_);
  attempt->sent = s.ok();
  if (!s.ok()) Untrack(attempt->stream.get());
  return s;
}

absl::Status Executor::ReceiveOne(Attempt* attempt, tablet::QueryResult* result) {
  absl::StatusOr<const tablet::SessionResponse*> r = attempt->stream->Receive();
  Untrack(attempt->stream.get());
  if (!r.ok()) return r.status();
  absl::Status s = tablet::FromQueryError((*r)->error());
  if (s.ok()) *result = (*r)->execute().result();
  ctx_->pool->Release(std::move(attempt->stream));
  return s;
}

absl::StatusOr<std::vector<tablet::QueryResult>> Executor::RunAutocommit(
    absl::Span<const ShardQuery> queries, bool write, absl::Span<const tablet::Value> params) {
  std::vector<Attempt> attempts(queries.size());
  std::vector<absl::Status> sent(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) sent[i] = SendOne(queries[i], params, &attempts[i]);
  std::vector<tablet::QueryResult> results(queries.size());
  std::vector<bool> ok(queries.size());
  absl::Status first_error;
  for (size_t i = 0; i < queries.size(); ++i) {
    absl::Status s = sent[i].ok() ? ReceiveOne(&attempts[i], &results[i]) : sent[i];
    if (!s.ok()) {
      s = Retry(queries[i], write, params, s, std::move(attempts[i]), &results[i]);
    }
    ok[i] = s.ok();
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  if (!first_error.ok()) {
    if (tablet::IsResharded(first_error)) {
      for (size_t i = 0; i < queries.size(); ++i) {
        if (ok[i]) {
          applied_.push_back({target_.keyspace, queries[i].shard, std::move(results[i])});
        }
      }
    }
    return first_error;
  }
  return results;
}

absl::Status Executor::Retry(const ShardQuery& q, bool write,
                             absl::Span<const tablet::Value> params, absl::Status failure,
                             Attempt attempt, tablet::QueryResult* result) {
  const absl::Time since = absl::Now();
  const std::string shard_name = absl::StrCat(target_.keyspace, "/", q.shard);
  bool quick_retry_left = true;
  while (true) {
    {
      absl::MutexLock lock(&cancel_mu_);
      if (cancelled_) return Cancelled();
    }
    const bool unknown = attempt.stream != nullptr && attempt.stream->outcome_unknown();
    if (!IsRetryable(failure, unknown, write)) {
      if (unknown && write) return OutcomeUnknown(failure);
      return failure;
    }
    if (ctx_->metrics.retries != nullptr) ctx_->metrics.retries->Inc();
    discovery::TabletHealthPtr failed = attempt.tablet;
    // A stream that could not be used at all may just be stale: one quick
    // retry; otherwise wait for discovery to report another tablet (or a
    // newer term), through the buffer for primaries.
    const bool stream_level = absl::IsUnavailable(failure) && !unknown;
    if (!(stream_level && quick_retry_left)) {
      auto probe = [&] { return OtherTablet(q.shard, failed); };
      if (target_.tablet_type == topodata::PRIMARY) {
        absl::StatusOr<discovery::TabletHealthPtr> next =
            ctx_->buffer->Wait(shard_name, since, probe);
        if (!next.ok()) {
          return SqlError(next.status().code(), SqlStateOrDefault(next.status()),
                          absl::StrCat(next.status().message(), "; last error: ",
                                       failure.message()));
        }
      } else if (probe() == nullptr && !quick_retry_left) {
        return failure;
      }
    }
    quick_retry_left = false;
    attempt = Attempt();
    failure = SendOne(q, params, &attempt);
    if (failure.ok()) failure = ReceiveOne(&attempt, result);
    if (failure.ok()) return absl::OkStatus();
  }
}

// ---- inside a transaction

void Executor::Begin(bool read_only) {
  in_txn_ = true;
  read_only_txn_ = read_only;
}

std::vector<std::string> Executor::transaction_shards() const {
  std::vector<std::string> out;
  for (const ShardTxn& t : txns_) out.push_back(t.shard);
  return out;
}

absl::StatusOr<Executor::ShardTxn*> Executor::TxnFor(const std::string& shard) {
  for (ShardTxn& t : txns_) {
    if (t.shard == shard) return &t;
  }
  if (ctx_->transaction_mode == TransactionMode::kSingle && !txns_.empty()) {
    return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kFeatureNotSupported,
                    absl::StrCat("this transaction already uses shard ", txns_.front().shard,
                                 " and the statement needs shard ", shard,
                                 ": the gateway runs with --transaction-mode single"));
  }
  ShardTxn txn;
  txn.shard = shard;
  tablet::SessionRequest begin;
  *begin.mutable_begin()->mutable_target() = MakeTarget(shard);
  begin.mutable_begin()->set_read_only(read_only_txn_ ||
                                       target_.tablet_type != topodata::PRIMARY);
  // BEGIN has not changed anything yet: it may wait out a primary change.
  const absl::Time since = absl::Now();
  absl::Status last;
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<discovery::TabletHealthPtr> tablet = Pick(shard);
    if (tablet.ok()) {
      txn.tablet = *tablet;
      txn.stream = ctx_->pool->Acquire(*txn.tablet);
      absl::StatusOr<const tablet::SessionResponse*> r = txn.stream->Call(begin);
      if (r.ok()) {
        txn.txn_id = (*r)->begin().transaction_id();
        txns_.push_back(std::move(txn));
        return &txns_.back();
      }
      last = r.status();
    } else {
      last = tablet.status();
    }
    if (!IsRetryable(last, false, false) && !absl::IsUnavailable(last)) return last;
    if (absl::Now() - since > ctx_->buffer->window() || attempt > 1000) return last;
    discovery::TabletHealthPtr failed = txn.tablet;
    absl::StatusOr<discovery::TabletHealthPtr> next =
        ctx_->buffer->Wait(absl::StrCat(target_.keyspace, "/", shard), since,
                           [&] { return OtherTablet(shard, failed); });
    if (!next.ok()) return last;
  }
}

absl::StatusOr<std::vector<tablet::QueryResult>> Executor::RunInTransaction(
    absl::Span<const ShardQuery> queries, absl::Span<const tablet::Value> params) {
  std::vector<ShardTxn*> txns;
  for (const ShardQuery& q : queries) {
    ASSIGN_OR_RETURN(ShardTxn * t, TxnFor(q.shard));
    txns.push_back(t);
  }
  std::vector<absl::Status> sent(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    FillRequest(queries[i], params, txns[i]->txn_id, &request_);
    Track(txns[i]->stream.get());
    sent[i] = txns[i]->stream->Send(request_);
  }
  std::vector<tablet::QueryResult> results(queries.size());
  absl::Status first_error;
  for (size_t i = 0; i < queries.size(); ++i) {
    absl::Status s = sent[i];
    if (s.ok()) {
      absl::StatusOr<const tablet::SessionResponse*> r = txns[i]->stream->Receive();
      s = r.ok() ? tablet::FromQueryError((*r)->error()) : r.status();
      if (s.ok()) results[i] = (*r)->execute().result();
    }
    Untrack(txns[i]->stream.get());
    if (tablet::IsResharded(s)) {
      // The shard's transaction began before its primary traffic moved.
      s = SqlError(absl::StatusCode::kAborted, sqlstate::kSerializationFailure,
                   absl::StrCat("the transaction was rolled back because ", target_.keyspace,
                                "/", queries[i].shard,
                                " stopped serving primary traffic (resharding) while it was "
                                "open; retry it (",
                                s.message(), ")"));
    }
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  if (!first_error.ok()) return first_error;
  return results;
}

absl::Status Executor::Commit() {
  std::vector<std::string> committed;
  absl::Status result;
  for (ShardTxn& t : txns_) {
    if (!result.ok()) break;
    tablet::SessionRequest commit;
    *commit.mutable_commit()->mutable_target() = MakeTarget(t.shard);
    commit.mutable_commit()->set_transaction_id(t.txn_id);
    absl::StatusOr<const tablet::SessionResponse*> r = t.stream->Call(commit);
    if (r.ok()) {
      committed.push_back(t.shard);
      continue;
    }
    result = r.status();
    if (!committed.empty()) {
      result = SqlError(absl::StatusCode::kInternal, sqlstate::kInternalError,
                        absl::StrCat("the transaction committed on shard(s) ",
                                     absl::StrJoin(committed, ", "), " but failed on shard ",
                                     t.shard, ": ", r.status().message()));
    }
  }
  if (!result.ok()) {
    // Roll back what did not commit.
    std::deque<ShardTxn> rest;
    for (ShardTxn& t : txns_) {
      if (std::find(committed.begin(), committed.end(), t.shard) == committed.end()) {
        rest.push_back(std::move(t));
      } else {
        ctx_->pool->Release(std::move(t.stream));
      }
    }
    txns_ = std::move(rest);
    Rollback();
    return result;
  }
  for (ShardTxn& t : txns_) ctx_->pool->Release(std::move(t.stream));
  txns_.clear();
  in_txn_ = false;
  read_only_txn_ = false;
  return absl::OkStatus();
}

void Executor::Rollback() {
  for (ShardTxn& t : txns_) {
    if (t.stream == nullptr || t.stream->broken()) continue;
    tablet::SessionRequest rollback;
    *rollback.mutable_rollback()->mutable_target() = MakeTarget(t.shard);
    rollback.mutable_rollback()->set_transaction_id(t.txn_id);
    absl::StatusOr<const tablet::SessionResponse*> r = t.stream->Call(rollback);
    if (!r.ok()) {
      spdlog::debug("rollback on {}/{}: {}", target_.keyspace, t.shard, r.status().ToString());
    }
    ctx_->pool->Release(std::move(t.stream));
  }
  txns_.clear();
  in_txn_ = false;
  read_only_txn_ = false;
}

}  // namespace shale::gate
