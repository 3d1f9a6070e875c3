// Planning of INSERT, UPDATE and DELETE (planner.h).

#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "gate/planner.h"
#include "gate/sql/params.h"

namespace shale::gate {
namespace {

using sql::ExprKind;

bool IsRoutableValue(const sql::Expr* e) {
  return e->kind == ExprKind::kParam || e->kind == ExprKind::kInteger ||
         e->kind == ExprKind::kString || e->kind == ExprKind::kFloat ||
         e->kind == ExprKind::kBlob;
}

int MaxParam(const sql::Expr& e) {
  int max_param = 0;
  sql::ForEachExpr(e, [&](const sql::Expr& x) {
    if (x.kind == ExprKind::kParam) max_param = std::max<int>(max_param, x.int_value);
  });
  return max_param;
}

// A write to an unsharded table goes to its one shard, to a reference table
// to every shard; true when p is routed so.
bool RoutesWithoutValues(const TableRouting& table, Plan* p) {
  switch (table.kind) {
    case TableRouting::Kind::kUnsharded:
      p->routing.mode = Routing::Mode::kAnyShard;
      return true;
    case TableRouting::Kind::kReference:
      p->routing.mode = Routing::Mode::kAllShards;
      return true;
    case TableRouting::Kind::kSharded:
      break;
  }
  return false;
}

Plan WritePlan(const sql::Statement& stmt, absl::string_view verb, bool returns_rows) {
  Plan p;
  p.verb = std::string(verb);
  p.write = true;
  p.returns_rows = returns_rows;
  p.sql = ShardText(stmt, stmt.span);
  return p;
}

// Splits the VALUES rows of a sharded INSERT for per-shard sending.
absl::StatusOr<InsertSplit> SplitRows(const sql::Statement& stmt, const sql::InsertStmt& ins,
                                      int column_index, absl::string_view column) {
  InsertSplit split;
  const uint32_t rows_begin = ins.rows.front().span.begin;
  const uint32_t rows_end = ins.rows.back().span.end;
  split.prefix = sql::RewriteParams(stmt.Text({stmt.span.begin, rows_begin}));
  split.suffix = sql::RewriteParams(stmt.Text({rows_end, stmt.span.end}));
  for (const sql::ValuesRow& row : ins.rows) {
    if (static_cast<int>(row.values.size()) <= column_index) {
      return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kSyntaxError,
                      "INSERT has more target columns than expressions");
    }
    const sql::Expr* v = row.values[column_index].get();
    if (!IsRoutableValue(v)) {
      return Unsupported(absl::StrCat("an INSERT whose sharding column ", column,
                                      " is not a literal or a $n parameter (",
                                      stmt.Text(*v), ")"));
    }
    split.row_values.push_back(v);
    split.rows.push_back(sql::RewriteParams(stmt.Text(row.span)));
    int max_param = 0;
    for (const auto& value : row.values) max_param = std::max(max_param, MaxParam(*value));
    split.row_max_param.push_back(max_param);
  }
  for (const sql::OnConflict& oc : ins.on_conflict) {
    for (const auto& e : oc.target) split.fixed_max_param = std::max(split.fixed_max_param, MaxParam(*e));
    for (const sql::Assignment& a : oc.set) {
      split.fixed_max_param = std::max(split.fixed_max_param, MaxParam(*a.value));
    }
    if (oc.where) split.fixed_max_param = std::max(split.fixed_max_param, MaxParam(*oc.where));
    if (oc.target_where) {
      split.fixed_max_param = std::max(split.fixed_max_param, MaxParam(*oc.target_where));
    }
  }
  for (const sql::SelectItem& item : ins.returning) {
    split.fixed_max_param = std::max(split.fixed_max_param, MaxParam(*item.expr));
  }
  return split;
}

}  // namespace

absl::StatusOr<Plan> PlanInsert(const sql::Statement& stmt, const KeyspaceSchema& schema) {
  const sql::InsertStmt& ins = *stmt.insert();
  Plan p = WritePlan(stmt, "INSERT", !ins.returning.empty());
  ASSIGN_OR_RETURN(TableRouting table, schema.Table(ins.table.name));
  if (RoutesWithoutValues(table, &p)) return p;
  if (ins.source != sql::InsertStmt::Source::kValues) {
    return Unsupported(absl::StrCat("INSERT ... ", ins.source == sql::InsertStmt::Source::kSelect
                                                       ? "SELECT"
                                                       : "DEFAULT VALUES",
                                    " into sharded table ", ins.table.name));
  }
  int column_index = -1;
  for (size_t i = 0; i < ins.columns.size(); ++i) {
    if (ins.columns[i].value == table.column) column_index = static_cast<int>(i);
  }
  if (column_index < 0) {
    return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kNotNullViolation,
                    absl::StrCat("INSERT into sharded table ", ins.table.name,
                                 " must name its sharding column ", table.column,
                                 " in the column list"));
  }
  for (const sql::OnConflict& oc : ins.on_conflict) {
    for (const sql::Assignment& a : oc.set) {
      for (const sql::Name& n : a.columns) {
        if (n.value == table.column) {
          return Unsupported("changing the sharding column in ON CONFLICT DO UPDATE");
        }
      }
    }
  }
  ASSIGN_OR_RETURN(InsertSplit split, SplitRows(stmt, ins, column_index, table.column));
  p.routing.mode = Routing::Mode::kByValues;
  p.routing.values = split.row_values;
  if (split.rows.size() > 1) p.insert = std::move(split);
  return p;
}

absl::StatusOr<Plan> PlanUpdateDelete(const sql::Statement& stmt, const KeyspaceSchema& schema) {
  const bool is_update = stmt.kind == sql::StatementKind::kUpdate;
  const sql::TableName& name = is_update ? stmt.update()->table : stmt.del()->table;
  const sql::Name& alias = is_update ? stmt.update()->alias : stmt.del()->alias;
  const sql::Expr* where = is_update ? stmt.update()->where.get() : stmt.del()->where.get();
  const bool returning =
      is_update ? !stmt.update()->returning.empty() : !stmt.del()->returning.empty();
  Plan p = WritePlan(stmt, is_update ? "UPDATE" : "DELETE", returning);
  if (is_update && stmt.update()->has_from()) return Unsupported("UPDATE ... FROM");
  if (!is_update && !stmt.del()->using_tables.empty()) return Unsupported("DELETE ... USING");
  ASSIGN_OR_RETURN(TableRouting table, schema.Table(name.name));
  if (RoutesWithoutValues(table, &p)) return p;
  if (is_update) {
    for (const sql::Assignment& a : stmt.update()->set) {
      for (const sql::Name& n : a.columns) {
        if (n.value == table.column) {
          return Unsupported(absl::StrCat(
              "UPDATE of the sharding column ", table.column,
              " (the row would move to another shard: DELETE it and INSERT it again)"));
        }
      }
    }
  }
  p.routing.values = ShardingValues(where, table.column, name.name, alias.value);
  p.routing.mode =
      p.routing.values.empty() ? Routing::Mode::kAllShards : Routing::Mode::kByValues;
  return p;
}

}  // namespace shale::gate
