#include "gate/route.h"

#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"

namespace shale::gate {
namespace {

using sql::ExprKind;

absl::StatusOr<std::string> ShardOf(const sql::Expr& e, const KeyspaceSchema& schema,
                                    topodata::TabletType type,
                                    absl::Span<const tablet::Value> params) {
  ASSIGN_OR_RETURN(tablet::Value v, ValueOf(e, params));
  ASSIGN_OR_RETURN(key::KeyspaceId id, schema.KeyspaceIdOf(v));
  return schema.ShardFor(id, type);
}

}  // namespace

absl::StatusOr<tablet::Value> ValueOf(const sql::Expr& e, absl::Span<const tablet::Value> params) {
  tablet::Value v;
  switch (e.kind) {
    case ExprKind::kInteger:
      v.set_int64(e.int_value);
      return v;
    case ExprKind::kFloat:
      v.set_float64(e.float_value);
      return v;
    case ExprKind::kString:
      v.set_text(e.str_value);
      return v;
    case ExprKind::kBlob:
      v.set_blob(absl::HexStringToBytes(e.str_value));
      return v;
    case ExprKind::kParam:
      if (e.int_value < 1 || e.int_value > static_cast<int64_t>(params.size())) {
        return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kProtocolViolation,
                        absl::StrCat("there is no parameter $", e.int_value));
      }
      return params[e.int_value - 1];
    default:
      break;
  }
  return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kInvalidParameterValue,
                  "a sharding value must be a literal or a $n parameter");
}

absl::StatusOr<std::vector<ShardQuery>> Route(const Plan& plan, const sql::Statement& stmt,
                                              const KeyspaceSchema& schema,
                                              const SessionTarget& target,
                                              absl::Span<const tablet::Value> params) {
  const int all_binds = stmt.max_param;
  const topodata::TabletType type = target.tablet_type;
  if (!target.shard.empty()) return std::vector<ShardQuery>{{target.shard, plan.sql, all_binds}};
  switch (plan.routing.mode) {
    case Routing::Mode::kAnyShard: {
      ASSIGN_OR_RETURN(std::vector<ShardRef> shards, schema.Shards(type));
      if (shards.empty()) break;
      return std::vector<ShardQuery>{{shards.front().name, plan.sql, all_binds}};
    }
    case Routing::Mode::kAllShards: {
      ASSIGN_OR_RETURN(std::vector<ShardRef> shards, schema.Shards(type));
      std::vector<ShardQuery> out;
      out.reserve(shards.size());
      const std::string& sql = plan.merge.has_value() ? plan.scatter_sql : plan.sql;
      for (ShardRef& s : shards) out.push_back({std::move(s.name), sql, all_binds});
      return out;
    }
    case Routing::Mode::kByValues: {
      if (plan.insert.has_value()) {
        const InsertSplit& split = *plan.insert;
        std::map<std::string, std::vector<size_t>> rows_by_shard;
        for (size_t i = 0; i < split.row_values.size(); ++i) {
          ASSIGN_OR_RETURN(std::string shard, ShardOf(*split.row_values[i], schema, type, params));
          rows_by_shard[shard].push_back(i);
        }
        std::vector<ShardQuery> out;
        for (auto& [shard, rows] : rows_by_shard) {
          ShardQuery q{shard, split.prefix, split.fixed_max_param};
          for (size_t k = 0; k < rows.size(); ++k) {
            if (k > 0) q.sql.append(", ");
            q.sql.append(split.rows[rows[k]]);
            q.num_binds = std::max(q.num_binds, split.row_max_param[rows[k]]);
          }
          q.sql.append(split.suffix);
          out.push_back(std::move(q));
        }
        return out;
      }
      std::vector<ShardQuery> out;
      for (const sql::Expr* e : plan.routing.values) {
        ASSIGN_OR_RETURN(std::string shard, ShardOf(*e, schema, type, params));
        bool seen = false;
        for (const ShardQuery& q : out) seen = seen || q.shard == shard;
        if (!seen) out.push_back({std::move(shard), plan.sql, all_binds});
      }
      if (out.size() > 1 && plan.merge.has_value()) {
        for (ShardQuery& q : out) q.sql = plan.scatter_sql;
      }
      return out;
    }
  }
  return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kObjectNotInPrerequisiteState,
                  absl::StrCat("keyspace ", schema.keyspace(), " has no shards"));
}

}  // namespace shale::gate
