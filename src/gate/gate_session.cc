#include "gate/gate_session.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/fiber/io_wait.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "gate/merge/merge.h"
#include "gate/planner.h"
#include "gate/route.h"
#include "gate/routing_rules.h"
#include "gate/show.h"
#include "gate/sql/lexer.h"
#include "gate/sql/parser.h"
#include "key/key_range.h"
#include "tablet/client/resharded.h"

namespace shale::gate {
namespace {

std::string Tag(const Plan& plan, const tablet::QueryResult& data) {
  if (plan.verb == "SELECT" || plan.verb == "EXPLAIN") {
    return absl::StrCat("SELECT ", data.rows_size());
  }
  if (plan.verb == "INSERT") return absl::StrCat("INSERT 0 ", data.rows_affected());
  if (plan.verb == "UPDATE" || plan.verb == "DELETE") {
    return absl::StrCat(plan.verb, " ", data.rows_affected());
  }
  return plan.verb;
}

// Places helper columns of a `SELECT *` scatter once the column count is known.
merge::MergeSpec ResolveStarColumns(const Plan& plan, const std::vector<tablet::QueryResult>& rs) {
  merge::MergeSpec spec = *plan.merge;
  if (plan.star_hidden_columns == 0) return spec;
  int fields = 0;
  for (const auto& r : rs) fields = std::max(fields, r.fields_size());
  const int first_hidden = fields - plan.star_hidden_columns;
  auto fix = [&](int& col) {
    if (col >= kStarHiddenBase) col = first_hidden + (col - kStarHiddenBase - plan.select_items);
  };
  for (int& c : spec.group_by) fix(c);
  for (auto& k : spec.order_by) fix(k.column);
  for (auto& a : spec.aggregates) {
    fix(a.column);
    if (a.count_column >= 0) fix(a.count_column);
  }
  spec.visible_columns = first_hidden;
  return spec;
}

// Combines the results of a statement that ran on several shards without a
// merge spec (writes, RETURNING): rows concatenated, counts added.
tablet::QueryResult Concatenate(std::vector<tablet::QueryResult> rs) {
  tablet::QueryResult out = std::move(rs.front());
  for (size_t i = 1; i < rs.size(); ++i) {
    if (out.fields_size() == 0) *out.mutable_fields() = rs[i].fields();
    for (auto& row : *rs[i].mutable_rows()) *out.add_rows() = std::move(row);
    out.set_rows_affected(out.rows_affected() + rs[i].rows_affected());
  }
  return out;
}

}  // namespace

GateStatement::GateStatement(sql::Statement parsed) : parsed_(std::move(parsed)) {}

const std::vector<std::string>& GateStatement::tables() const {
  std::call_once(tables_once_, [this] { tables_ = NamedTables(parsed_); });
  return tables_;
}

absl::StatusOr<std::shared_ptr<const Plan>> GateStatement::PlanFor(
    const KeyspaceSchema& schema, const SessionTarget& target) const {
  {
    absl::MutexLock lock(&mu_);
    // The cached schema keeps its records alive, so equal addresses mean
    // the same records.
    if (cached_.plan != nullptr && cached_.schema->keyspace() == schema.keyspace() &&
        &cached_.schema->srv() == &schema.srv() &&
        &cached_.schema->vschema() == &schema.vschema()) {
      return cached_.plan;
    }
  }
  ASSIGN_OR_RETURN(Plan plan, PlanStatement(parsed_, schema, target));
  auto shared = std::make_shared<const Plan>(std::move(plan));
  absl::MutexLock lock(&mu_);
  cached_ = {schema, shared};
  return shared;
}

GateSession::GateSession(GateContext* ctx, SessionTarget target, std::string user)
    : ctx_(ctx), target_(target), user_(std::move(user)), executor_(ctx, target) {}

GateSession::~GateSession() = default;

void GateSession::Cancel() {
  executor_.Cancel();
  absl::MutexLock lock(&cancel_mu_);
  for (const auto& e : routed_executors_) e->Cancel();
}

std::vector<Executor*> GateSession::Executors() {
  std::vector<Executor*> out = {&executor_};
  absl::MutexLock lock(&cancel_mu_);
  for (const auto& e : routed_executors_) out.push_back(e.get());
  return out;
}

Executor* GateSession::ExecutorFor(const SessionTarget& target) {
  if (target.keyspace == target_.keyspace) return &executor_;
  Executor* e = nullptr;
  {
    absl::MutexLock lock(&cancel_mu_);
    for (const auto& r : routed_executors_) {
      if (r->target().keyspace == target.keyspace) e = r.get();
    }
    if (e == nullptr) {
      routed_executors_.push_back(std::make_unique<Executor>(ctx_, target));
      e = routed_executors_.back().get();
    }
  }
  if (executor_.in_transaction() && !e->in_transaction()) {
    e->Begin(executor_.read_only_transaction());
  }
  return e;
}

absl::StatusOr<GateSession::KeyspaceRoute> GateSession::ResolveRoute(
    const GateStatement& stmt, const KeyspaceSchema& session) {
  if (!target_.shard.empty() || session.srv().routing_rules().empty()) {
    return KeyspaceRoute{session, target_, &executor_};
  }
  ASSIGN_OR_RETURN(std::string keyspace, RoutedKeyspace(stmt.tables(), session.srv(),
                                                        target_.keyspace, target_.tablet_type));
  if (keyspace == target_.keyspace) return KeyspaceRoute{session, target_, &executor_};
  SessionTarget target = target_;
  target.keyspace = std::move(keyspace);
  ASSIGN_OR_RETURN(KeyspaceSchema schema, SchemaFor(target));
  Executor* executor = ExecutorFor(target);
  return KeyspaceRoute{std::move(schema), std::move(target), executor};
}

absl::StatusOr<std::vector<std::shared_ptr<const pgwire::Statement>>> GateSession::PrepareSimple(
    absl::string_view query) {
  ASSIGN_OR_RETURN(std::vector<absl::string_view> parts, sql::SplitStatements(query));
  std::vector<std::shared_ptr<const pgwire::Statement>> out;
  out.reserve(parts.size());
  for (absl::string_view part : parts) {
    ASSIGN_OR_RETURN(sql::Statement parsed, sql::Parse(part));
    if (parsed.kind == sql::StatementKind::kEmpty) continue;
    out.push_back(std::make_shared<GateStatement>(std::move(parsed)));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const pgwire::Statement>> GateSession::Prepare(
    absl::string_view query, absl::Span<const uint32_t>) {
  ASSIGN_OR_RETURN(sql::Statement parsed, sql::Parse(query));
  if (parsed.kind == sql::StatementKind::kEmpty) return nullptr;
  return std::make_shared<GateStatement>(std::move(parsed));
}

absl::StatusOr<pgwire::Result> GateSession::ExecuteText(absl::string_view sql,
                                                        absl::Span<const tablet::Value> params) {
  ASSIGN_OR_RETURN(sql::Statement parsed, sql::Parse(sql));
  GateStatement stmt(std::move(parsed));
  return Run(stmt, params);
}

absl::StatusOr<pgwire::Result> GateSession::Execute(const pgwire::Statement& stmt,
                                                    absl::Span<const tablet::Value> params) {
  return Run(static_cast<const GateStatement&>(stmt), params);
}

pgwire::TxnStatus GateSession::txn_status() const {
  if (failed_) return pgwire::TxnStatus::kFailed;
  return executor_.in_transaction() ? pgwire::TxnStatus::kInBlock : pgwire::TxnStatus::kIdle;
}

absl::Status GateSession::Fail(absl::Status status) {
  if (executor_.in_transaction()) {
    RollbackAll();
    failed_ = true;
  }
  return status;
}

void GateSession::RollbackAll() {
  for (Executor* e : Executors()) e->Rollback();
}

absl::Status GateSession::CommitAll() {
  std::vector<std::string> committed;  // keyspaces whose shards committed
  absl::Status result;
  for (Executor* e : Executors()) {
    if (!result.ok()) {
      e->Rollback();
      continue;
    }
    const bool used = !e->transaction_shards().empty();
    absl::Status s = e->Commit();  // rolls its shards back on failure
    if (s.ok()) {
      if (used) committed.push_back(e->target().keyspace);
      continue;
    }
    result = committed.empty()
                 ? s
                 : SqlError(absl::StatusCode::kInternal, sqlstate::kInternalError,
                            absl::StrCat("the transaction committed in keyspace(s) ",
                                         absl::StrJoin(committed, ", "),
                                         " but failed in keyspace ", e->target().keyspace, ": ",
                                         s.message()));
  }
  return result;
}

absl::StatusOr<pgwire::Result> GateSession::Run(const GateStatement& stmt,
                                                absl::Span<const tablet::Value> params) {
  const sql::StatementKind kind = stmt.parsed().kind;
  if (ctx_->metrics.statements != nullptr) {
    ctx_->metrics.statements->WithLabels({std::string(sql::StatementKindName(kind))})->Inc();
  }
  if (failed_ && kind != sql::StatementKind::kCommit && kind != sql::StatementKind::kRollback) {
    return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kInFailedTransaction,
                    "current transaction is aborted, commands ignored until end of "
                    "transaction block");
  }
  absl::StatusOr<KeyspaceSchema> schema = SchemaFor(target_);
  if (!schema.ok()) return Fail(schema.status());
  absl::StatusOr<KeyspaceRoute> route = ResolveRoute(stmt, *schema);
  if (!route.ok()) return Fail(route.status());
  absl::StatusOr<std::shared_ptr<const Plan>> plan = stmt.PlanFor(route->schema, route->target);
  if (!plan.ok()) return Fail(plan.status());
  if ((*plan)->kind != PlanKind::kQuery) return RunControl(**plan, *route);
  if ((*plan)->ddl) {
    absl::StatusOr<pgwire::Result> r = RunDdl(**plan, stmt.parsed(), *route);
    if (!r.ok()) return Fail(r.status());
    return r;
  }
  absl::StatusOr<pgwire::Result> r = RunQuery(**plan, stmt.parsed(), *route, params);
  if (!r.ok() && tablet::IsResharded(r.status())) {
    r = RunResharded(stmt, params, *std::move(schema), *route, r.status());
  }
  if (!r.ok()) return Fail(r.status());
  return r;
}

absl::StatusOr<pgwire::Result> GateSession::RunResharded(const GateStatement& stmt,
                                                         absl::Span<const tablet::Value> params,
                                                         KeyspaceSchema session,
                                                         const KeyspaceRoute& route,
                                                         absl::Status failure) {
  // A session bound to one shard (ks:-80) has nothing to re-plan.
  if (target_.tablet_type != topodata::PRIMARY || !target_.shard.empty()) return failure;
  const absl::Time since = absl::Now();
  std::vector<Executor::Applied> applied = route.executor->TakeApplied();
  const std::string what = absl::StrCat("keyspace ", route.target.keyspace, " (resharded)");
  // The SrvKeyspace can reach this gateway before a new shard's primary has
  // seen its own Shard record serve PRIMARY; that primary then refuses too,
  // and no further SrvKeyspace change comes. So the wait for a change is cut
  // into growing pauses, and the statement is planned and sent again after
  // each, until the buffer window ends.
  absl::Duration pause = absl::Milliseconds(10);
  while (true) {
    // session holds the session keyspace's SrvKeyspace (with the routing
    // rules) the statement was routed with; a change of a routed keyspace's
    // is covered by the pauses.
    absl::Status held = ctx_->buffer->Hold(what, since, [&](absl::Time deadline) {
      if (ctx_->schemas->WaitForSrvKeyspaceChange(target_.keyspace, &session.srv(),
                                                  std::min(deadline, absl::Now() + pause))) {
        return true;
      }
      return absl::Now() < deadline;
    });
    pause = std::min(pause * 2, absl::Milliseconds(320));
    if (!held.ok()) {
      return SqlError(held.code(), SqlStateOrDefault(held),
                      absl::StrCat(held.message(), "; last error: ", failure.message()));
    }
    if (ctx_->metrics.retries != nullptr) ctx_->metrics.retries->Inc();
    ASSIGN_OR_RETURN(session, SchemaFor(target_));
    ASSIGN_OR_RETURN(KeyspaceRoute now, ResolveRoute(stmt, session));
    ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, stmt.PlanFor(now.schema, now.target));
    if (plan->kind != PlanKind::kQuery || plan->ddl) return failure;
    absl::StatusOr<pgwire::Result> r = RunQuery(*plan, stmt.parsed(), now, params, &applied);
    if (r.ok() || !tablet::IsResharded(r.status())) return r;
    failure = r.status();
  }
}

absl::StatusOr<KeyspaceSchema> GateSession::SchemaFor(const SessionTarget& target) {
  absl::StatusOr<KeyspaceSchema> local = ctx_->schemas->Get(target.keyspace);
  if (target.tablet_type == topodata::PRIMARY || !target.shard.empty() || !local.ok()) {
    return local;
  }
  // Replica traffic may cross to another cell (RoutingPolicy): it is then
  // routed with that cell's serving graph, which can differ from ours while
  // a keyspace is resharded ("percolating the cell back up").
  absl::StatusOr<std::vector<ShardRef>> shards = local->Shards(target.tablet_type);
  if (!shards.ok() || shards->empty()) return local;
  absl::StatusOr<discovery::PickedTablet> picked =
      ctx_->picker->Pick(target.keyspace, shards->front().name, target.tablet_type);
  if (!picked.ok() || picked->cell == ctx_->cell) return local;
  absl::StatusOr<KeyspaceSchema> remote = ctx_->schemas->Get(target.keyspace, picked->cell);
  return remote.ok() ? remote : local;
}

absl::StatusOr<pgwire::Result> GateSession::RunQuery(const Plan& plan, const sql::Statement& stmt,
                                                     const KeyspaceRoute& route,
                                                     absl::Span<const tablet::Value> params,
                                                     std::vector<Executor::Applied>* applied) {
  if (params.size() < static_cast<size_t>(stmt.max_param)) {
    return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kProtocolViolation,
                    absl::StrCat("the statement has ", stmt.max_param, " parameters but ",
                                 params.size(), " were given"));
  }
  if (route.executor->in_transaction() && target_.tablet_type == topodata::PRIMARY &&
      target_.shard.empty()) {
    RETURN_IF_ERROR(CheckTransactionShards(route));
  }
  ASSIGN_OR_RETURN(std::vector<ShardQuery> queries,
                   Route(plan, stmt, route.schema, route.target, params));
  if (queries.size() > 1 && ctx_->metrics.scatters != nullptr) ctx_->metrics.scatters->Inc();
  std::vector<Executor::Applied> none;
  if (applied == nullptr || !plan.write) {
    applied = &none;  // a read simply runs again everywhere
  }
  if (!applied->empty()) {
    // Parts of this write ran before a reshard: skip the shards that ran it;
    // a new shard overlapping one of them would apply those rows twice, and
    // so would any shard of another keyspace (the table moved there with
    // the rows those parts wrote).
    std::vector<ShardQuery> rest;
    for (ShardQuery& q : queries) {
      bool ran = false;
      for (const Executor::Applied& a : *applied) {
        const bool same_keyspace = a.keyspace == route.target.keyspace;
        if (same_keyspace && a.shard == q.shard) {
          ran = true;
          break;
        }
        absl::StatusOr<key::KeyRange> ra = key::KeyRange::Parse(a.shard);
        absl::StatusOr<key::KeyRange> rq = key::KeyRange::Parse(q.shard);
        if (!same_keyspace || (ra.ok() && rq.ok() && ra->Overlaps(*rq))) {
          return SqlError(absl::StatusCode::kAborted, sqlstate::kStatementCompletionUnknown,
                          absl::StrCat("the statement ran on shard ", a.keyspace, "/", a.shard,
                                       " while the ", same_keyspace ? "keyspace" : "table",
                                       " was resharded, and shard ", route.target.keyspace, "/",
                                       q.shard, " now covers part of it: the rest was not run"));
        }
      }
      if (!ran) rest.push_back(std::move(q));
    }
    queries = std::move(rest);
  }
  std::vector<tablet::QueryResult> results;
  if (!queries.empty()) {
    absl::StatusOr<std::vector<tablet::QueryResult>> ran =
        route.executor->Run(queries, plan.write, params);
    if (!ran.ok()) {
      // A first run leaves them in the executor for RunResharded to take.
      if (applied != &none) {
        for (Executor::Applied& a : route.executor->TakeApplied()) {
          applied->push_back(std::move(a));
        }
      }
      return ran.status();
    }
    results = *std::move(ran);
  }
  for (Executor::Applied& a : *applied) results.push_back(std::move(a.result));
  applied->clear();
  pgwire::Result out;
  out.returns_rows = plan.returns_rows;
  if (results.size() == 1) {
    out.data = std::move(results.front());
  } else if (plan.merge.has_value()) {
    merge::MergeSpec spec = ResolveStarColumns(plan, results);
    ASSIGN_OR_RETURN(out.data, merge::Merge(std::move(results), spec));
  } else {
    out.data = Concatenate(std::move(results));
  }
  out.command_tag = Tag(plan, out.data);
  return out;
}

absl::Status GateSession::CheckTransactionShards(const KeyspaceRoute& route) {
  if (ctx_->transaction_mode == TransactionMode::kSingle) {
    for (const Executor* e : Executors()) {
      if (e == route.executor || e->transaction_shards().empty()) continue;
      return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kFeatureNotSupported,
                      absl::StrCat("this transaction already uses keyspace ",
                                   e->target().keyspace, " and the statement runs in keyspace ",
                                   route.target.keyspace,
                                   " (routing rules): the gateway runs with --transaction-mode "
                                   "single"));
    }
  }
  const std::vector<std::string> used = route.executor->transaction_shards();
  if (used.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<ShardRef>> serving = route.schema.Shards(topodata::PRIMARY);
  if (!serving.ok()) return absl::OkStatus();  // routing reports it
  for (const std::string& shard : used) {
    bool found = false;
    for (const ShardRef& ref : *serving) found = found || ref.name == shard;
    if (!found) {
      return SqlError(absl::StatusCode::kAborted, sqlstate::kSerializationFailure,
                      absl::StrCat("the transaction was rolled back because ",
                                   route.target.keyspace, "/", shard,
                                   " stopped serving primary traffic (resharding) while it was "
                                   "open; retry it"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<pgwire::Result> GateSession::RunDdl(const Plan& plan, const sql::Statement& stmt,
                                                   const KeyspaceRoute& route) {
  if (executor_.in_transaction()) {
    return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kActiveSqlTransaction,
                    absl::StrCat(plan.verb, " cannot run inside a transaction block: schema "
                                            "changes are applied cluster-wide by ctld"));
  }
  if (target_.tablet_type != topodata::PRIMARY || !target_.shard.empty()) {
    return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kReadOnlyTransaction,
                    absl::StrCat("schema changes need the keyspace's primary target (connect to "
                                 "database ", target_.keyspace, "), not ", target_.ToString()));
  }
  if (route.target.keyspace != target_.keyspace) {
    // The table is moving (MoveTables) and both keyspaces hold it: a change
    // applied to one would leave the other behind.
    return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kFeatureNotSupported,
                    absl::StrCat(plan.verb, " on ", absl::StrJoin(NamedTables(stmt), ", "),
                                 " is refused: keyspace ", target_.keyspace,
                                 " routes the table to keyspace ", route.target.keyspace,
                                 " (a MoveTables in progress); change its schema after the move "
                                 "completes"));
  }
  // ctld's RPC and the wait for the catalog take a while: off the fiber.
  absl::Status done;
  fiber::RunBlocking([&] {
    done = IsDrop(stmt.kind) ? ctx_->table_dropper->Run(target_.keyspace, stmt)
                             : ctx_->table_creator->Run(target_.keyspace, stmt);
  });
  RETURN_IF_ERROR(done);
  pgwire::Result out;
  out.command_tag = plan.verb;
  return out;
}

absl::StatusOr<pgwire::Result> GateSession::RunControl(const Plan& plan,
                                                       const KeyspaceRoute& route) {
  pgwire::Result out;
  out.command_tag = plan.verb;
  switch (plan.kind) {
    case PlanKind::kBegin:
      if (!executor_.in_transaction()) executor_.Begin(plan.read_only_txn);
      return out;
    case PlanKind::kCommit:
      if (failed_) {
        failed_ = false;
        RollbackAll();
        out.command_tag = "ROLLBACK";
        return out;
      }
      RETURN_IF_ERROR(CommitAll());
      return out;
    case PlanKind::kRollback:
      failed_ = false;
      RollbackAll();
      return out;
    case PlanKind::kSet:
      if (plan.value.empty()) {
        settings_.erase(plan.variable);
      } else {
        settings_[plan.variable] = plan.value;
      }
      return out;
    case PlanKind::kShow:
      return Show(plan);
    case PlanKind::kCopyIn: {
      ASSIGN_OR_RETURN(copy_,
                       CopySession::Start(ctx_, route.executor, route.schema, route.target, plan));
      out.copy_in = copy_->copy_in();
      return out;
    }
    case PlanKind::kEmpty:
    case PlanKind::kQuery:
      break;
  }
  return out;
}

absl::StatusOr<pgwire::Result> GateSession::Show(const Plan& plan) {
  pgwire::Result out;
  out.returns_rows = true;
  out.command_tag = "SHOW";
  ASSIGN_OR_RETURN(out.data, ShowResult(*ctx_, plan.variable, target_.keyspace, settings_));
  return out;
}

absl::Status GateSession::CopyData(absl::string_view chunk) {
  if (copy_ == nullptr) {
    return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kProtocolViolation,
                    "CopyData outside COPY FROM STDIN");
  }
  absl::Status s = copy_->Data(chunk);
  if (!s.ok()) {
    copy_->Abort();
    copy_.reset();
    return Fail(s);
  }
  return s;
}

absl::StatusOr<std::string> GateSession::CopyDone() {
  if (copy_ == nullptr) {
    return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kProtocolViolation,
                    "CopyDone outside COPY FROM STDIN");
  }
  std::unique_ptr<CopySession> copy = std::move(copy_);
  absl::StatusOr<int64_t> rows = copy->Done();
  if (!rows.ok()) {
    copy->Abort();
    return Fail(rows.status());
  }
  return absl::StrCat("COPY ", *rows);
}

void GateSession::CopyFail(absl::string_view) {
  if (copy_ == nullptr) return;
  copy_->Abort();
  copy_.reset();
}

}  // namespace shale::gate
