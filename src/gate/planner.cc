#include "gate/planner.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "gate/sql/params.h"

namespace shale::gate {
namespace {

using sql::ExprKind;
using sql::StatementKind;

bool IsValue(const sql::Expr* e) {
  return e != nullptr && (e->kind == ExprKind::kParam || e->kind == ExprKind::kInteger ||
                          e->kind == ExprKind::kString || e->kind == ExprKind::kFloat ||
                          e->kind == ExprKind::kBlob);
}

bool IsColumn(const sql::Expr* e, absl::string_view column, absl::string_view name,
              absl::string_view alias) {
  if (e == nullptr || e->kind != ExprKind::kColumn || e->name != column) return false;
  return e->table.empty() || e->table == name || (!alias.empty() && e->table == alias);
}

Plan ControlPlan(PlanKind kind, absl::string_view verb) {
  Plan p;
  p.kind = kind;
  p.verb = std::string(verb);
  return p;
}

absl::StatusOr<Plan> PlanDdl(const sql::Statement& stmt) {
  Plan p;
  p.verb = absl::AsciiStrToUpper(sql::StatementKindName(stmt.kind));
  const sql::DdlStmt* ddl = stmt.ddl();
  if (ddl != nullptr && ddl->temporary) {
    return Unsupported("temporary tables (a session's statements may run on different tablets)");
  }
  p.write = true;
  p.ddl = true;
  p.routing.mode = Routing::Mode::kAllShards;
  p.sql = ShardText(stmt, stmt.span);
  return p;
}

absl::StatusOr<Plan> PlanCopy(const sql::Statement& stmt) {
  const sql::CopyStmt& copy = *stmt.copy();
  if (copy.direction != sql::CopyStmt::Direction::kFrom ||
      copy.endpoint != sql::CopyStmt::Endpoint::kStdin) {
    return Unsupported("COPY other than COPY table FROM STDIN");
  }
  if (copy.format == sql::CopyStmt::Format::kBinary) return Unsupported("COPY in binary format");
  Plan p;
  p.kind = PlanKind::kCopyIn;
  p.verb = "COPY";
  p.write = true;
  p.copy_table = copy.table.name;
  for (const sql::Name& c : copy.columns) p.copy_columns.push_back(c.value);
  p.copy_csv = copy.format == sql::CopyStmt::Format::kCsv;
  p.copy_header = copy.header;
  if (copy.delimiter.has_value()) {
    if (copy.delimiter->size() != 1) {
      return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kInvalidParameterValue,
                      "COPY delimiter must be a single one-byte character");
    }
    p.copy_delimiter = *copy.delimiter;
  }
  p.copy_null = copy.null_string;
  return p;
}

std::string VerbOf(const sql::Statement& stmt) {
  std::string v = absl::AsciiStrToUpper(sql::StatementKindName(stmt.kind));
  return v;
}

}  // namespace

absl::Status Unsupported(absl::string_view what) {
  return SqlError(absl::StatusCode::kUnimplemented, sqlstate::kFeatureNotSupported,
                  absl::StrCat("the Shale gateway does not support ", what));
}

std::string ShardText(const sql::Statement& stmt, sql::Span span) {
  return sql::RewriteParams(stmt.Text(span));
}

std::vector<const sql::Expr*> ShardingValues(const sql::Expr* where, absl::string_view column,
                                             absl::string_view name, absl::string_view alias) {
  for (const sql::Expr* c : sql::Conjuncts(where)) {
    if (c->kind == ExprKind::kBinary && c->op == sql::Op::kEq && c->args.size() == 2) {
      if (IsColumn(c->arg(0), column, name, alias) && IsValue(c->arg(1))) return {c->arg(1)};
      if (IsColumn(c->arg(1), column, name, alias) && IsValue(c->arg(0))) return {c->arg(0)};
    }
    if (c->kind == ExprKind::kIn && !c->negated && c->subquery == nullptr &&
        IsColumn(c->arg(0), column, name, alias)) {
      std::vector<const sql::Expr*> values;
      bool all = true;
      for (size_t i = 1; i < c->args.size(); ++i) {
        if (!IsValue(c->arg(i))) all = false;
        values.push_back(c->arg(i));
      }
      if (all && !values.empty()) return values;
    }
  }
  return {};
}

absl::StatusOr<Plan> PlanStatement(const sql::Statement& stmt, const KeyspaceSchema& schema,
                                   const SessionTarget& target) {
  switch (stmt.kind) {
    case StatementKind::kEmpty:
      return ControlPlan(PlanKind::kEmpty, "");
    case StatementKind::kSelect:
      return PlanSelect(stmt, schema, target);
    case StatementKind::kInsert:
      return PlanInsert(stmt, schema);
    case StatementKind::kUpdate:
    case StatementKind::kDelete:
      return PlanUpdateDelete(stmt, schema);
    case StatementKind::kBegin: {
      Plan p = ControlPlan(PlanKind::kBegin, "BEGIN");
      p.read_only_txn = stmt.transaction()->read_only.value_or(false);
      return p;
    }
    case StatementKind::kCommit:
      return ControlPlan(PlanKind::kCommit, "COMMIT");
    case StatementKind::kRollback:
      return ControlPlan(PlanKind::kRollback, "ROLLBACK");
    case StatementKind::kSavepoint:
    case StatementKind::kRelease:
    case StatementKind::kRollbackTo:
      return Unsupported("savepoints yet");
    case StatementKind::kSet:
    case StatementKind::kReset:
    case StatementKind::kShow: {
      const sql::VariableStmt& v = *stmt.variable();
      Plan p = ControlPlan(stmt.kind == StatementKind::kShow ? PlanKind::kShow : PlanKind::kSet,
                           stmt.kind == StatementKind::kReset ? "RESET"
                           : stmt.kind == StatementKind::kSet ? "SET"
                                                              : "SHOW");
      p.variable = v.name;
      p.value = v.to_default || stmt.kind == StatementKind::kReset
                    ? std::string()
                    : (v.values.size() == 1 ? v.values[0] : v.value);
      p.returns_rows = stmt.kind == StatementKind::kShow;
      return p;
    }
    case StatementKind::kCopy:
      return PlanCopy(stmt);
    case StatementKind::kCreateTable:
    case StatementKind::kDropTable:
    case StatementKind::kAlterTable:
    case StatementKind::kCreateIndex:
    case StatementKind::kDropIndex:
    case StatementKind::kCreateView:
    case StatementKind::kDropView:
    case StatementKind::kCreateTrigger:
    case StatementKind::kDropTrigger:
      return PlanDdl(stmt);
    case StatementKind::kExplain: {
      Plan p;
      p.verb = "EXPLAIN";
      p.returns_rows = true;
      p.routing.mode = Routing::Mode::kAnyShard;
      p.sql = ShardText(stmt, stmt.span);
      return p;
    }
    case StatementKind::kOther:
      return Unsupported(absl::StrCat("\"", absl::AsciiStrToUpper(stmt.other()->keywords),
                                      "\" statements"));
  }
  return Unsupported(VerbOf(stmt));
}

}  // namespace shale::gate
