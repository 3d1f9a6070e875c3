#include "gate/copy_session.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"

namespace shale::gate {
namespace {

// SQLite's default limit on parameters in one statement is 32766.
constexpr int kMaxBindsPerStatement = 30000;

std::string QuoteIdent(absl::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

CopySession::CopySession(Executor* executor, KeyspaceSchema schema, SessionTarget target,
                         copy::CopyOptions options)
    : executor_(executor),
      schema_(std::move(schema)),
      target_(std::move(target)),
      options_(options),
      decoder_(options) {}

absl::StatusOr<std::unique_ptr<CopySession>> CopySession::Start(GateContext* ctx,
                                                                Executor* executor,
                                                                const KeyspaceSchema& schema,
                                                                const SessionTarget& target,
                                                                const Plan& plan) {
  ASSIGN_OR_RETURN(TableRouting routing, schema.Table(plan.copy_table));
  std::vector<std::string> columns = plan.copy_columns;
  if (columns.empty()) {
    // The table's columns, in order, from an empty read on one shard.
    ASSIGN_OR_RETURN(std::vector<ShardRef> shards, schema.Shards(topodata::PRIMARY));
    if (shards.empty()) return absl::FailedPreconditionError("the keyspace has no shards");
    ShardQuery probe{target.shard.empty() ? shards.front().name : target.shard,
                     absl::StrCat("SELECT * FROM ", QuoteIdent(plan.copy_table), " LIMIT 0"), 0};
    ASSIGN_OR_RETURN(std::vector<tablet::QueryResult> r,
                     executor->Run({probe}, false, {}));
    for (const tablet::Field& f : r.front().fields()) columns.push_back(f.name());
  }
  copy::CopyOptions options;
  options.csv = plan.copy_csv;
  options.delimiter = plan.copy_delimiter.empty() ? (options.csv ? ',' : '\t')
                                                  : plan.copy_delimiter.front();
  options.null_string = plan.copy_null.has_value() ? *plan.copy_null
                                                   : (options.csv ? "" : "\\N");
  options.header = plan.copy_header;
  options.num_columns = static_cast<int>(columns.size());
  auto session = std::unique_ptr<CopySession>(new CopySession(executor, schema, target, options));
  session->table_ = plan.copy_table;
  session->columns_ = std::move(columns);
  session->routing_ = routing;
  session->batch_rows_ = std::max<int>(
      1, std::min<int>(500, kMaxBindsPerStatement / std::max<int>(1, options.num_columns)));
  if (routing.kind == TableRouting::Kind::kSharded && target.shard.empty()) {
    for (size_t i = 0; i < session->columns_.size(); ++i) {
      if (session->columns_[i] == routing.column) session->shard_column_ = static_cast<int>(i);
    }
    if (session->shard_column_ < 0) {
      return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kNotNullViolation,
                      absl::StrCat("COPY into sharded table ", plan.copy_table,
                                   " must include its sharding column ", routing.column));
    }
  }
  if (!executor->in_transaction()) {
    executor->Begin(false);
    session->own_txn_ = true;
  }
  return session;
}

pgwire::CopyIn CopySession::copy_in() const {
  return {static_cast<int>(columns_.size()), options_.csv};
}

absl::Status CopySession::Data(absl::string_view chunk) {
  RETURN_IF_ERROR(decoder_.Feed(chunk, &pending_));
  if (static_cast<int>(pending_.size()) >= batch_rows_) return Flush();
  return absl::OkStatus();
}

absl::Status CopySession::Flush() {
  if (pending_.empty()) return absl::OkStatus();
  // Rows per shard.
  std::map<std::string, std::vector<size_t>> by_shard;
  if (!target_.shard.empty()) {
    for (size_t i = 0; i < pending_.size(); ++i) by_shard[target_.shard].push_back(i);
  } else if (routing_.kind == TableRouting::Kind::kSharded) {
    for (size_t i = 0; i < pending_.size(); ++i) {
      ASSIGN_OR_RETURN(key::KeyspaceId id, schema_.KeyspaceIdOf(pending_[i][shard_column_]));
      ASSIGN_OR_RETURN(std::string shard, schema_.ShardFor(id, topodata::PRIMARY));
      by_shard[shard].push_back(i);
    }
  } else {
    ASSIGN_OR_RETURN(std::vector<ShardRef> shards, schema_.Shards(topodata::PRIMARY));
    const bool all = routing_.kind == TableRouting::Kind::kReference;
    for (const ShardRef& s : shards) {
      for (size_t i = 0; i < pending_.size(); ++i) by_shard[s.name].push_back(i);
      if (!all) break;
    }
  }
  std::vector<std::string> quoted;
  for (const std::string& c : columns_) quoted.push_back(QuoteIdent(c));
  const std::string prefix = absl::StrCat("INSERT INTO ", QuoteIdent(table_), " (",
                                          absl::StrJoin(quoted, ", "), ") VALUES ");
  const int width = static_cast<int>(columns_.size());
  for (auto& [shard, rows] : by_shard) {
    ShardQuery q{shard, prefix, static_cast<int>(rows.size()) * width};
    std::vector<tablet::Value> binds;
    binds.reserve(q.num_binds);
    int n = 0;
    for (size_t k = 0; k < rows.size(); ++k) {
      q.sql.append(k == 0 ? "(" : ", (");
      for (int c = 0; c < width; ++c) {
        absl::StrAppend(&q.sql, c == 0 ? "?" : ", ?", ++n);
        binds.push_back(pending_[rows[k]][c]);
      }
      q.sql.push_back(')');
    }
    RETURN_IF_ERROR(executor_->Run({q}, true, binds).status());
  }
  copied_ += pending_.size();
  pending_.clear();
  return absl::OkStatus();
}

absl::StatusOr<int64_t> CopySession::Done() {
  RETURN_IF_ERROR(decoder_.Finish(&pending_));
  RETURN_IF_ERROR(Flush());
  if (own_txn_) {
    own_txn_ = false;
    RETURN_IF_ERROR(executor_->Commit());
  }
  return copied_;
}

void CopySession::Abort() {
  if (own_txn_) {
    own_txn_ = false;
    executor_->Rollback();
  }
}

}  // namespace shale::gate
