// Planning of SELECT (planner.h): routing by the sharding column, and for a
// scatter the merge spec plus the text sent to every shard (helper columns
// appended for ORDER BY / GROUP BY keys the client did not select, AVG split
// into SUM and COUNT, LIMIT widened to cover OFFSET).

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "gate/planner.h"
#include "gate/sql/params.h"
#include "gate/text_edit.h"

namespace shale::gate {
namespace {

using merge::AggKind;
using sql::ExprKind;

bool IsSystemTable(const sql::TableName& t) {
  return t.schema == "pg_catalog" || t.schema == "information_schema" ||
         t.name.rfind("pg_", 0) == 0 || t.name.rfind("sqlite_", 0) == 0;
}

// The aggregate kind of a call the merger can combine, or nullopt.
std::optional<AggKind> AggregateKind(const sql::Expr& e) {
  if (e.kind != ExprKind::kFunction || !e.over.empty()) return std::nullopt;
  if (e.name == "count") return AggKind::kCount;
  if (e.name == "sum") return AggKind::kSum;
  if (e.name == "total") return AggKind::kTotal;
  if (e.name == "avg") return AggKind::kAvg;
  if (e.args.size() == 1 && e.name == "min") return AggKind::kMin;  // min(a, b) is scalar
  if (e.args.size() == 1 && e.name == "max") return AggKind::kMax;
  return std::nullopt;
}

bool IsOtherAggregate(const sql::Expr& e) {
  static const absl::flat_hash_set<std::string> kNames = {
      "group_concat", "string_agg", "array_agg", "json_group_array", "json_group_object",
      "bool_and",     "bool_or",    "every",     "stddev",           "variance"};
  return e.kind == ExprKind::kFunction && e.over.empty() && kNames.contains(e.name);
}

// Builds the merge spec and shard text of a scattered SELECT.
class ScatterPlanner {
 public:
  ScatterPlanner(const sql::Statement& stmt)
      : stmt_(stmt), sel_(*stmt.select()), core_(sel_.core()), edit_(stmt.text) {}

  absl::Status Build(Plan* p) {
    if (!core_.distinct_on.empty()) return Unsupported("DISTINCT ON across shards");
    if (core_.having != nullptr) return Unsupported("HAVING across shards");
    if (!core_.window.empty()) return Unsupported("window functions across shards");
    const bool star = HasStar();
    spec_.aggregate = !core_.group_by.empty();
    if (!star) {
      for (size_t i = 0; i < core_.items.size(); ++i) RETURN_IF_ERROR(PlanItem(i));
    } else if (spec_.aggregate) {
      return Unsupported("SELECT * with GROUP BY across shards");
    }
    for (const auto& g : core_.group_by) {
      ASSIGN_OR_RETURN(int col, ColumnFor(*g, 0, star));
      spec_.group_by.push_back(col);
    }
    for (const sql::OrderItem& o : sel_.order_by) {
      ASSIGN_OR_RETURN(int col, ColumnFor(*o.expr, o.position, star));
      merge::OrderKey key{col, o.desc, std::nullopt};
      if (o.nulls != sql::OrderItem::Nulls::kDefault) {
        key.nulls_first = o.nulls == sql::OrderItem::Nulls::kFirst;
      }
      spec_.order_by.push_back(key);
    }
    RETURN_IF_ERROR(PlanLimit());
    spec_.distinct = core_.distinct;
    if (!hidden_.empty()) {
      edit_.Insert(core_.items_span.end, absl::StrCat(", ", absl::StrJoin(hidden_, ", ")));
      spec_.visible_columns = static_cast<int>(core_.items.size());
      if (star) hidden_star_ = static_cast<int>(hidden_.size());
    }
    p->scatter_sql = sql::RewriteParams(edit_.Apply(stmt_.span.begin, stmt_.span.end));
    p->merge = spec_;
    p->star_hidden_columns = hidden_star_;
    p->select_items = static_cast<int>(core_.items.size());
    return absl::OkStatus();
  }

 private:
  bool HasStar() const {
    for (const sql::SelectItem& item : core_.items) {
      if (item.expr->kind == ExprKind::kStar) return true;
    }
    return false;
  }

  absl::Status PlanItem(size_t i) {
    const sql::Expr& e = *core_.items[i].expr;
    std::optional<AggKind> kind = AggregateKind(e);
    if (!kind.has_value()) {
      bool nested = false;
      sql::ForEachExpr(e, [&](const sql::Expr& x) {
        if (AggregateKind(x).has_value() || IsOtherAggregate(x)) nested = true;
      });
      if (nested) {
        return Unsupported(absl::StrCat("the expression ", stmt_.Text(e),
                                        " over aggregates across shards (select the "
                                        "aggregates themselves)"));
      }
      return absl::OkStatus();
    }
    if (e.distinct) {
      return Unsupported(absl::StrCat(stmt_.Text(e), ": aggregates over DISTINCT across shards"));
    }
    spec_.aggregate = true;
    merge::Aggregate agg{*kind, static_cast<int>(i), -1};
    if (*kind == AggKind::kAvg) {
      std::string args = std::string(stmt_.Text(e.args.front()->span));
      edit_.Replace(e.span, absl::StrCat("sum(", args, ")"));
      agg.count_column = AddHidden(absl::StrCat("count(", args, ")"));
    }
    spec_.aggregates.push_back(agg);
    return absl::OkStatus();
  }

  // The result column holding e: an ORDER BY position, a select item with the
  // same text or alias, or a new helper column.
  absl::StatusOr<int> ColumnFor(const sql::Expr& e, int position, bool star) {
    const int items = static_cast<int>(core_.items.size());
    if (position > 0) {
      if (star) return Unsupported("ORDER BY position with SELECT * across shards");
      if (position > items) {
        return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kInvalidColumnReference,
                        absl::StrCat("ORDER BY position ", position, " is not in select list"));
      }
      return position - 1;
    }
    if (!star) {
      for (int i = 0; i < items; ++i) {
        const sql::SelectItem& item = core_.items[i];
        if (stmt_.Text(*item.expr) == stmt_.Text(e)) return i;
        if (e.kind == ExprKind::kColumn && e.table.empty() && !item.alias.empty() &&
            item.alias.value == e.name) {
          return i;
        }
      }
    }
    if (std::optional<AggKind> kind = AggregateKind(e); kind.has_value()) {
      if (*kind == AggKind::kAvg || e.distinct) {
        return Unsupported(absl::StrCat("ORDER BY ", stmt_.Text(e),
                                        " across shards unless it is also selected"));
      }
      int col = AddHidden(std::string(stmt_.Text(e)));
      spec_.aggregates.push_back({*kind, col, -1});
      return col;
    }
    return AddHidden(std::string(stmt_.Text(e)));
  }

  int AddHidden(std::string text) {
    hidden_.push_back(std::move(text));
    return static_cast<int>(core_.items.size() + hidden_.size() - 1) + (HasStar() ? kStarHiddenBase : 0);
  }

  absl::StatusOr<int64_t> LiteralCount(const sql::Expr* e, absl::string_view what) {
    if (e->kind != ExprKind::kInteger) {
      return Unsupported(absl::StrCat(what, " ", stmt_.Text(*e),
                                      " across shards (use an integer literal)"));
    }
    return e->int_value;
  }

  absl::Status PlanLimit() {
    if (sel_.limit == nullptr && sel_.offset == nullptr) return absl::OkStatus();
    int64_t offset = 0;
    if (sel_.offset != nullptr) {
      ASSIGN_OR_RETURN(offset, LiteralCount(sel_.offset.get(), "OFFSET"));
    }
    spec_.offset = offset;
    std::string shard_limit;
    if (sel_.limit != nullptr) {
      ASSIGN_OR_RETURN(int64_t limit, LiteralCount(sel_.limit.get(), "LIMIT"));
      spec_.limit = limit;
      if (limit >= 0 && !spec_.aggregate) shard_limit = absl::StrCat(" LIMIT ", limit + offset);
    }
    // Swallow the white space before the clause too, so the text stays tidy.
    sql::Span span = sel_.limit_span;
    while (span.begin > 0 && absl::ascii_isspace(stmt_.text[span.begin - 1])) --span.begin;
    edit_.Replace(span, shard_limit);
    return absl::OkStatus();
  }

  const sql::Statement& stmt_;
  const sql::SelectStmt& sel_;
  const sql::SelectCore& core_;
  TextEdit edit_;
  merge::MergeSpec spec_;
  std::vector<std::string> hidden_;
  int hidden_star_ = 0;
};

}  // namespace

absl::StatusOr<Plan> PlanSelect(const sql::Statement& stmt, const KeyspaceSchema& schema,
                                const SessionTarget& target) {
  const sql::SelectStmt& sel = *stmt.select();
  Plan p;
  p.verb = "SELECT";
  p.returns_rows = true;
  p.sql = ShardText(stmt, stmt.span);
  p.routing.mode = Routing::Mode::kAnyShard;
  std::vector<const sql::TableName*> tables = sql::ReadTables(stmt);
  for (const sql::TableName* t : tables) {
    if (IsSystemTable(*t)) {
      return Unsupported(absl::StrCat("system catalogs (", t->FullName(), ")"));
    }
  }
  if (!target.shard.empty()) return p;  // the session addresses one shard
  std::vector<std::pair<const sql::TableName*, TableRouting>> sharded;
  for (const sql::TableName* t : tables) {
    ASSIGN_OR_RETURN(TableRouting r, schema.Table(t->name));
    if (r.kind != TableRouting::Kind::kSharded) continue;
    bool seen = false;
    for (const auto& s : sharded) seen = seen || s.first->name == t->name;
    if (!seen) sharded.push_back({t, r});
  }
  if (sharded.empty()) return p;
  if (sharded.size() > 1) {
    return Unsupported(absl::StrCat("a join of sharded tables ", sharded[0].first->name, " and ",
                                    sharded[1].first->name,
                                    " across shards (address one shard with KEYSPACE:SHARD, or "
                                    "make one of them a reference table)"));
  }
  const sql::TableName& table = *sharded[0].first;
  const std::string& column = sharded[0].second.column;
  const sql::TableRef* ref = nullptr;
  if (!sel.compound()) {
    for (const sql::TableRef& r : sel.core().from) {
      if (r.kind == sql::TableRef::Kind::kTable && r.table.name == table.name) ref = &r;
    }
  }
  if (ref != nullptr) {
    p.routing.values =
        ShardingValues(sel.core().where.get(), column, table.name, ref->alias.value);
  }
  if (!p.routing.values.empty()) {
    p.routing.mode = Routing::Mode::kByValues;
    if (p.routing.values.size() > 1) {
      // An IN list may span shards: merge as a scatter would.
      ScatterPlanner planner(stmt);
      RETURN_IF_ERROR(planner.Build(&p));
    }
    return p;
  }
  if (sel.compound()) return Unsupported("UNION, INTERSECT and EXCEPT across shards");
  if (stmt.has_cte) return Unsupported("WITH across shards");
  if (ref == nullptr) {
    return Unsupported(absl::StrCat("subqueries over sharded table ", table.name,
                                    " across shards"));
  }
  p.routing.mode = Routing::Mode::kAllShards;
  ScatterPlanner planner(stmt);
  RETURN_IF_ERROR(planner.Build(&p));
  return p;
}

}  // namespace shale::gate
