#include "gate/sql/ast.h"

#include "absl/strings/str_cat.h"

namespace shale::gate::sql {

std::string TableName::FullName() const {
  return schema.empty() ? name : absl::StrCat(schema, ".", name);
}

absl::string_view StatementKindName(StatementKind kind) {
  switch (kind) {
    case StatementKind::kEmpty:
      return "empty";
    case StatementKind::kSelect:
      return "select";
    case StatementKind::kInsert:
      return "insert";
    case StatementKind::kUpdate:
      return "update";
    case StatementKind::kDelete:
      return "delete";
    case StatementKind::kBegin:
      return "begin";
    case StatementKind::kCommit:
      return "commit";
    case StatementKind::kRollback:
      return "rollback";
    case StatementKind::kSavepoint:
      return "savepoint";
    case StatementKind::kRelease:
      return "release";
    case StatementKind::kRollbackTo:
      return "rollback to";
    case StatementKind::kSet:
      return "set";
    case StatementKind::kReset:
      return "reset";
    case StatementKind::kShow:
      return "show";
    case StatementKind::kCopy:
      return "copy";
    case StatementKind::kCreateTable:
      return "create table";
    case StatementKind::kDropTable:
      return "drop table";
    case StatementKind::kAlterTable:
      return "alter table";
    case StatementKind::kCreateIndex:
      return "create index";
    case StatementKind::kDropIndex:
      return "drop index";
    case StatementKind::kCreateView:
      return "create view";
    case StatementKind::kDropView:
      return "drop view";
    case StatementKind::kCreateTrigger:
      return "create trigger";
    case StatementKind::kDropTrigger:
      return "drop trigger";
    case StatementKind::kExplain:
      return "explain";
    case StatementKind::kOther:
      return "other";
  }
  return "?";
}

absl::string_view ExprKindName(ExprKind kind) {
  switch (kind) {
    case ExprKind::kInteger:
      return "integer";
    case ExprKind::kNumeric:
      return "numeric";
    case ExprKind::kFloat:
      return "float";
    case ExprKind::kString:
      return "string";
    case ExprKind::kBlob:
      return "blob";
    case ExprKind::kNull:
      return "null";
    case ExprKind::kBool:
      return "bool";
    case ExprKind::kDefault:
      return "default";
    case ExprKind::kParam:
      return "param";
    case ExprKind::kColumn:
      return "column";
    case ExprKind::kStar:
      return "star";
    case ExprKind::kFunction:
      return "function";
    case ExprKind::kUnary:
      return "unary";
    case ExprKind::kBinary:
      return "binary";
    case ExprKind::kIsNull:
      return "isnull";
    case ExprKind::kBetween:
      return "between";
    case ExprKind::kIn:
      return "in";
    case ExprKind::kCase:
      return "case";
    case ExprKind::kCast:
      return "cast";
    case ExprKind::kCollate:
      return "collate";
    case ExprKind::kExists:
      return "exists";
    case ExprKind::kSubquery:
      return "subquery";
    case ExprKind::kRow:
      return "row";
    case ExprKind::kArray:
      return "array";
    case ExprKind::kSubscript:
      return "subscript";
  }
  return "?";
}

absl::string_view OpName(Op op) {
  switch (op) {
    case Op::kNone:
      return "";
    case Op::kAnd:
      return "AND";
    case Op::kOr:
      return "OR";
    case Op::kNot:
      return "NOT";
    case Op::kEq:
      return "=";
    case Op::kNe:
      return "<>";
    case Op::kLt:
      return "<";
    case Op::kLe:
      return "<=";
    case Op::kGt:
      return ">";
    case Op::kGe:
      return ">=";
    case Op::kLike:
      return "LIKE";
    case Op::kILike:
      return "ILIKE";
    case Op::kGlob:
      return "GLOB";
    case Op::kRegexp:
      return "REGEXP";
    case Op::kMatch:
      return "MATCH";
    case Op::kSimilar:
      return "SIMILAR TO";
    case Op::kIs:
      return "IS";
    case Op::kIsNot:
      return "IS NOT";
    case Op::kIsDistinctFrom:
      return "IS DISTINCT FROM";
    case Op::kIsNotDistinctFrom:
      return "IS NOT DISTINCT FROM";
    case Op::kConcat:
      return "||";
    case Op::kAdd:
      return "+";
    case Op::kSub:
      return "-";
    case Op::kMul:
      return "*";
    case Op::kDiv:
      return "/";
    case Op::kMod:
      return "%";
    case Op::kPow:
      return "^";
    case Op::kNeg:
      return "-";
    case Op::kPlus:
      return "+";
    case Op::kOther:
      return "other";
  }
  return "?";
}

namespace {

void AppendConjuncts(const Expr* e, std::vector<const Expr*>* out) {
  if (e->kind == ExprKind::kBinary && e->op == Op::kAnd) {
    for (const auto& arg : e->args) AppendConjuncts(arg.get(), out);
  } else {
    out->push_back(e);
  }
}

// Walks a statement collecting base tables; ctes_ holds the CTEs in scope.
class TableCollector {
 public:
  std::vector<const TableName*> out;

  void Stmt(const Statement& s) {
    if (const SelectStmt* sel = s.select()) {
      Select(*sel);
    } else if (const InsertStmt* ins = s.insert()) {
      size_t mark = PushCtes(ins->ctes, false);
      for (const ValuesRow& row : ins->rows) Exprs(row.values);
      if (ins->select) Select(*ins->select);
      for (const OnConflict& oc : ins->on_conflict) {
        for (const Assignment& a : oc.set) E(a.value.get());
        E(oc.where.get());
      }
      Items(ins->returning);
      ctes_.resize(mark);
    } else if (const UpdateStmt* up = s.update()) {
      size_t mark = PushCtes(up->ctes, false);
      for (const Assignment& a : up->set) E(a.value.get());
      Refs(up->from);
      E(up->where.get());
      Items(up->returning);
      ctes_.resize(mark);
    } else if (const DeleteStmt* del = s.del()) {
      size_t mark = PushCtes(del->ctes, false);
      Refs(del->using_tables);
      E(del->where.get());
      Items(del->returning);
      ctes_.resize(mark);
    } else if (const DdlStmt* ddl = s.ddl()) {
      if (ddl->query) Select(*ddl->query);
    } else if (const CopyStmt* copy = s.copy()) {
      if (copy->query) Select(*copy->query);
    } else if (const ExplainStmt* ex = s.explain()) {
      if (ex->inner) Stmt(*ex->inner);
    }
  }

  void Select(const SelectStmt& s) {
    size_t mark = PushCtes(s.ctes, s.recursive);
    for (const SelectCore& core : s.cores) Core(core);
    for (const OrderItem& o : s.order_by) E(o.expr.get());
    E(s.limit.get());
    E(s.offset.get());
    ctes_.resize(mark);
  }

 private:
  // Visits the CTE bodies and leaves the CTEs in scope; returns the mark to
  // restore. A non-recursive CTE body sees only the CTEs before it.
  size_t PushCtes(const std::vector<Cte>& ctes, bool recursive) {
    size_t mark = ctes_.size();
    if (recursive) {
      for (const Cte& c : ctes) ctes_.push_back(&c);
    }
    for (const Cte& c : ctes) {
      if (c.query) Stmt(*c.query);
      if (!recursive) ctes_.push_back(&c);
    }
    return mark;
  }

  bool IsCte(const TableName& t) const {
    if (!t.schema.empty()) return false;
    for (const Cte* c : ctes_) {
      if (c->name.value == t.name) return true;
    }
    return false;
  }

  void Core(const SelectCore& c) {
    if (c.nested) Select(*c.nested);
    Exprs(c.distinct_on);
    Items(c.items);
    Refs(c.from);
    E(c.where.get());
    Exprs(c.group_by);
    E(c.having.get());
    for (const ValuesRow& row : c.values) Exprs(row.values);
  }

  void Refs(const std::vector<TableRef>& refs) {
    for (const TableRef& r : refs) {
      switch (r.kind) {
        case TableRef::Kind::kTable:
          if (!IsCte(r.table)) out.push_back(&r.table);
          break;
        case TableRef::Kind::kSubquery:
          Select(*r.subquery);
          break;
        case TableRef::Kind::kFunction:
          E(r.function.get());
          break;
      }
      E(r.on.get());
    }
  }

  void Items(const std::vector<SelectItem>& items) {
    for (const SelectItem& item : items) E(item.expr.get());
  }
  void Exprs(const std::vector<std::unique_ptr<Expr>>& exprs) {
    for (const auto& e : exprs) E(e.get());
  }
  void E(const Expr* e) {
    if (e == nullptr) return;
    for (const auto& arg : e->args) E(arg.get());
    if (e->subquery) Select(*e->subquery);
  }

  std::vector<const Cte*> ctes_;
};

}  // namespace

std::vector<const Expr*> Conjuncts(const Expr* where) {
  std::vector<const Expr*> out;
  if (where != nullptr) AppendConjuncts(where, &out);
  return out;
}

void ForEachExpr(const Expr& e, absl::FunctionRef<void(const Expr&)> fn) {
  fn(e);
  for (const auto& arg : e.args) ForEachExpr(*arg, fn);
}

std::vector<const TableName*> ReadTables(const Statement& stmt) {
  TableCollector collector;
  collector.Stmt(stmt);
  return std::move(collector.out);
}

}  // namespace shale::gate::sql
