#include "ctld/ddl_runner.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/backoff.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "spdlog/spdlog.h"
#include "tablet/client/tablet_client.h"

namespace shale::ctld {
namespace {

constexpr absl::string_view kHashVindex = "hash";

// The primary is changing, not there yet, or busy: try again.
bool IsRetryable(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) ||
         absl::IsResourceExhausted(s) ||
         (absl::IsFailedPrecondition(s) &&
          (absl::StartsWith(s.message(), "wrong target") ||
           absl::StrContains(s.message(), "is not serving") ||
           SqlState(s) == sqlstate::kReadOnlyTransaction));
}

// A re-run that finds the change already made on this shard.
bool AlreadyApplied(const DdlStatement& ddl, const absl::Status& s) {
  const absl::string_view m = s.message();
  switch (ddl.kind) {
    case DdlKind::kCreateTable:
    case DdlKind::kCreateIndex:
      return absl::IsAlreadyExists(s);
    case DdlKind::kDropTable:
      return absl::IsNotFound(s) || absl::StrContains(m, "no such table");
    case DdlKind::kAlterTable:
      return absl::StrContains(m, "duplicate column name") ||
             absl::StrContains(m, "no such column") ||
             (!ddl.renamed_to.empty() && (absl::IsNotFound(s) || absl::IsAlreadyExists(s)));
    case DdlKind::kOther:
      return absl::IsAlreadyExists(s) || absl::StrContains(m, "no such");
  }
  return false;
}

bool Contains(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

}  // namespace

absl::StatusOr<topodata::VSchema::Table> DdlRunner::Layout(const DdlStatement& ddl,
                                                           const topodata::Keyspace& keyspace,
                                                           bool sharded) const {
  topodata::VSchema::Table table;
  if (ddl.replicated) {
    table.set_type(topodata::VSchema::REFERENCE);
    return table;
  }
  table.set_type(topodata::VSchema::SHARDED);
  std::string column = ddl.distributed_by;
  if (column.empty()) {
    if (!sharded) return table;  // an unsharded keyspace: the table lives on its one shard
    column = absl::AsciiStrToLower(keyspace.sharding_column_name());
    if (column.empty()) {
      return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kInvalidParameterValue,
                      absl::StrCat("table ", ddl.table,
                                   ": the keyspace has no sharding column; add DISTRIBUTED BY "
                                   "(column) or DISTRIBUTED REPLICATED"));
    }
    if (!ddl.columns.empty() && !Contains(ddl.columns, column)) {
      // Without the keyspace's column, the table is sharded by the first
      // column of its primary key.
      if (ddl.primary_key.empty()) {
        return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kUndefinedColumn,
                        absl::StrCat("table ", ddl.table, " has neither the column \"", column,
                                     "\", the keyspace's sharding column, nor a primary key; "
                                     "add DISTRIBUTED BY (column) or DISTRIBUTED REPLICATED"));
      }
      column = ddl.primary_key.front();
    }
  } else if (!ddl.columns.empty() && !Contains(ddl.columns, column)) {
    return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kUndefinedColumn,
                    absl::StrCat("DISTRIBUTED BY (", column, "): table ", ddl.table,
                                 " has no such column"));
  }
  topodata::VSchema::ColumnVindex* cv = table.add_column_vindexes();
  cv->set_column(column);
  cv->set_name(std::string(kHashVindex));
  return table;
}

absl::StatusOr<meta::ShardOutcome> DdlRunner::ApplyOnShard(const std::string& keyspace,
                                                           const std::string& shard,
                                                           const DdlStatement& ddl,
                                                           absl::Time deadline) {
  meta::ShardOutcome outcome;
  outcome.set_shard(shard);
  Backoff backoff(absl::Milliseconds(50), absl::Seconds(1));
  absl::Status last;
  for (;;) {
    absl::Status s = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(topo::ShardInfo info, ts_->GetShard(keyspace, shard));
      if (!info.record.has_primary_alias()) {
        return absl::UnavailableError("the shard has no primary");
      }
      const topo::TabletAlias alias = topo::TabletAlias::FromProto(info.record.primary_alias());
      outcome.set_primary(alias.ToString());
      ASSIGN_OR_RETURN(std::unique_ptr<tablet::TabletClient> client,
                       tablet::TabletClient::ForTablet(*ts_, alias));
      tablet::ExecuteRequest request;
      request.mutable_target()->set_keyspace(keyspace);
      request.mutable_target()->set_shard(shard);
      request.mutable_target()->set_tablet_type(topodata::PRIMARY);
      request.set_sql(ddl.shard_sql);
      const absl::Duration timeout =
          std::max(absl::Milliseconds(100), std::min(options_.call_timeout, deadline - absl::Now()));
      return client->Call(client->query(), &tablet::Query::Stub::Execute, request, timeout)
          .status();
    }();
    if (s.ok()) {
      outcome.set_outcome("applied");
      return outcome;
    }
    if (AlreadyApplied(ddl, s)) {
      outcome.set_outcome("already applied");
      return outcome;
    }
    if (!IsRetryable(s) && !absl::IsNotFound(s)) return s;
    last = s;
    if (absl::Now() + absl::Milliseconds(50) >= deadline) {
      return absl::Status(s.code(), absl::StrCat("shard ", shard, " had no primary that took the "
                                                 "statement in time; last error: ",
                                                 s.message()));
    }
    spdlog::info("DDL on {}/{} waits for its primary: {}", keyspace, shard, s.ToString());
    absl::SleepFor(std::min(backoff.Next(), deadline - absl::Now()));
  }
}

absl::StatusOr<meta::DdlResponse> DdlRunner::Run(DdlKind call, const meta::DdlRequest& request) {
  ASSIGN_OR_RETURN(DdlStatement ddl, ParseDdl(request.sql()));
  if (ddl.kind != call) {
    return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kInvalidParameterValue,
                    absl::StrCat(DdlKindName(call), " was sent a statement for ",
                                 DdlKindName(ddl.kind)));
  }
  const std::string& ks = request.keyspace();
  ASSIGN_OR_RETURN(topo::KeyspaceInfo keyspace, ts_->GetKeyspace(ks));
  ASSIGN_OR_RETURN(std::vector<std::string> shards, ts_->ListShards(ks));
  if (shards.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("keyspace ", ks, " has no shards"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<topo::LockHandle> lock,
                   ts_->LockKeyspace(ks, absl::StrCat(DdlKindName(call), " ", ddl.table),
                                     options_.lock_timeout));
  ASSIGN_OR_RETURN(topodata::VSchema vschema, ts_->GetVSchema(ks));
  const bool sharded =
      shards.size() > 1 || !keyspace.record.sharding_column_name().empty() || vschema.sharded();

  meta::DdlResponse response;
  response.set_table(ddl.table);
  const bool known = vschema.tables().contains(ddl.table);
  if (ddl.kind == DdlKind::kCreateTable && !known) {
    // The VSchema is published only once every shard has the table; the id
    // of a run that then fails is never used (ids are not reused), and the
    // re-run that completes the change gets a fresh one.
    ASSIGN_OR_RETURN(topodata::VSchema::Table table, Layout(ddl, keyspace.record, sharded));
    ASSIGN_OR_RETURN(int64_t id, ts_->AllocateTableId());
    table.set_table_id(id);
    (*vschema.mutable_tables())[ddl.table] = table;
    if (table.column_vindexes_size() > 0) {
      (*vschema.mutable_vindexes())[std::string(kHashVindex)].set_type(std::string(kHashVindex));
    }
    vschema.set_sharded(sharded);
  }

  const absl::Duration wait = request.shard_wait_ms() > 0
                                  ? absl::Milliseconds(request.shard_wait_ms())
                                  : options_.shard_wait;
  std::vector<std::string> done;
  for (const std::string& shard : shards) {
    absl::StatusOr<meta::ShardOutcome> outcome =
        ApplyOnShard(ks, shard, ddl, absl::Now() + wait);
    if (!outcome.ok()) {
      const absl::Status& s = outcome.status();
      return absl::Status(
          s.code(),
          absl::StrCat(s.message(), " [", DdlKindName(call), " ", ddl.table, " stopped at shard ",
                       ks, "/", shard, "; done on ",
                       done.empty() ? "no shard" : absl::StrJoin(done, ", "),
                       "; running the statement again completes it]"));
    }
    done.push_back(shard);
    *response.add_shards() = *outcome;
  }
  // Found done everywhere: a re-run completing an earlier, interrupted run
  // succeeds, but a plain repeat is an error, as in PostgreSQL.
  const bool nothing_done =
      std::all_of(response.shards().begin(), response.shards().end(),
                  [](const meta::ShardOutcome& o) { return o.outcome() != "applied"; });
  if (nothing_done && ddl.kind == DdlKind::kCreateTable && known && !ddl.if_not_exists) {
    return SqlError(absl::StatusCode::kAlreadyExists, sqlstate::kDuplicateTable,
                    absl::StrCat("relation \"", ddl.table, "\" already exists"));
  }
  if (nothing_done && ddl.kind == DdlKind::kDropTable && !known && !ddl.if_exists) {
    return SqlError(absl::StatusCode::kNotFound, sqlstate::kUndefinedTable,
                    absl::StrCat("table \"", ddl.table, "\" does not exist"));
  }

  // Publish the catalog change.
  bool changed = ddl.kind == DdlKind::kCreateTable;
  if (ddl.kind == DdlKind::kDropTable) changed = vschema.mutable_tables()->erase(ddl.table) > 0;
  if (ddl.kind == DdlKind::kAlterTable && !ddl.renamed_to.empty()) {
    auto it = vschema.tables().find(ddl.table);
    if (it != vschema.tables().end()) {
      (*vschema.mutable_tables())[ddl.renamed_to] = it->second;
      vschema.mutable_tables()->erase(ddl.table);
      changed = true;
    }
  }
  if (absl::Status held = lock->Check(); !held.ok()) {
    return absl::AbortedError(absl::StrCat("lost the lock of keyspace ", ks,
                                           " before publishing the VSchema: ", held.message(),
                                           "; run the statement again"));
  }
  if (changed) RETURN_IF_ERROR(ts_->SaveVSchema(ks, vschema));
  const std::string& name = ddl.renamed_to.empty() ? ddl.table : ddl.renamed_to;
  auto it = vschema.tables().find(name);
  response.set_table_id(it == vschema.tables().end() ? 0 : it->second.table_id());
  *response.mutable_vschema() = vschema;
  spdlog::info("{} {} on keyspace {}: {} shard(s), table id {}", std::string(DdlKindName(call)),
               ddl.table, ks,
               response.shards_size(), response.table_id());
  return response;
}

}  // namespace shale::ctld
