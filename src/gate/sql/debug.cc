#include "gate/sql/debug.h"

#include "absl/strings/str_cat.h"

namespace shale::gate::sql {
namespace {

// Appends to one output string so that each level of recursion has a small
// frame (expressions may be kMaxExprHeight deep).
class Printer {
 public:
  Printer(absl::string_view text, std::string* out) : text_(text), out_(out) {}

  void Print(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kInteger:
        absl::StrAppend(out_, e.int_value);
        return;
      case ExprKind::kNumeric:
      case ExprKind::kFloat:
        Put(Source(e.span));
        return;
      case ExprKind::kString:
        absl::StrAppend(out_, "'", e.str_value, "'");
        return;
      case ExprKind::kBlob:
        absl::StrAppend(out_, "x'", e.str_value, "'");
        return;
      case ExprKind::kNull:
        Put("NULL");
        return;
      case ExprKind::kBool:
        Put(e.int_value ? "TRUE" : "FALSE");
        return;
      case ExprKind::kDefault:
        Put("DEFAULT");
        return;
      case ExprKind::kParam:
        absl::StrAppend(out_, "$", e.int_value);
        return;
      case ExprKind::kColumn:
        Qualifiers(e);
        absl::StrAppend(out_, e.quoted ? "\"" : "", e.name, e.quoted ? "\"" : "");
        return;
      case ExprKind::kStar:
        Qualifiers(e);
        Put("*");
        return;
      case ExprKind::kFunction:
        if (!e.schema.empty()) absl::StrAppend(out_, e.schema, ".");
        Put(e.name);
        if (e.no_parens) return;
        absl::StrAppend(out_, "(", e.distinct ? "DISTINCT " : "", e.star ? "*" : "");
        if (e.subquery) {
          Sub(e);
        } else {
          Args(e, 0, ", ");
        }
        Put(")");
        if (!e.filter.empty()) Put(" FILTER");
        if (!e.over.empty()) Put(" OVER");
        return;
      case ExprKind::kUnary:
        absl::StrAppend(out_, "(", OpText(e), " ");
        Print(*e.args[0]);
        Put(")");
        return;
      case ExprKind::kBinary:
        Binary(e);
        return;
      case ExprKind::kIsNull:
        Put("(");
        Print(*e.args[0]);
        Put(e.negated ? " IS NOT NULL)" : " IS NULL)");
        return;
      case ExprKind::kBetween:
        Put("(");
        Print(*e.args[0]);
        Put(e.negated ? " NOT BETWEEN " : " BETWEEN ");
        Print(*e.args[1]);
        Put(" AND ");
        Print(*e.args[2]);
        Put(")");
        return;
      case ExprKind::kIn:
        Put("(");
        Print(*e.args[0]);
        Put(e.negated ? " NOT IN " : " IN ");
        if (e.subquery) {
          Sub(e);
        } else {
          Put("(");
          Args(e, 1, ", ");
          Put(")");
        }
        Put(")");
        return;
      case ExprKind::kCase:
        Case(e);
        return;
      case ExprKind::kCast:
        Put("CAST(");
        Print(*e.args[0]);
        absl::StrAppend(out_, " AS ", e.name, ")");
        return;
      case ExprKind::kCollate:
        Put("(");
        Print(*e.args[0]);
        absl::StrAppend(out_, " COLLATE ", e.name, ")");
        return;
      case ExprKind::kExists:
        Put("EXISTS");
        Sub(e);
        return;
      case ExprKind::kSubquery:
        Sub(e);
        return;
      case ExprKind::kRow:
        Put("ROW(");
        Args(e, 0, ", ");
        Put(")");
        return;
      case ExprKind::kArray:
        Put("ARRAY");
        if (e.subquery) {
          Sub(e);
          return;
        }
        Put("[");
        Args(e, 0, ", ");
        Put("]");
        return;
      case ExprKind::kSubscript:
        Print(*e.args[0]);
        Put("[");
        Args(e, 1, ":");
        Put("]");
        return;
    }
  }

 private:
  void Put(absl::string_view s) { out_->append(s.data(), s.size()); }
  absl::string_view Source(Span s) const { return text_.substr(s.begin, s.end - s.begin); }

  std::string OpText(const Expr& e) const {
    std::string op = e.op == Op::kOther ? e.op_text : std::string(OpName(e.op));
    return e.negated ? absl::StrCat("NOT ", op) : op;
  }

  void Args(const Expr& e, size_t from, absl::string_view sep) {
    for (size_t i = from; i < e.args.size(); ++i) {
      if (i > from) Put(sep);
      Print(*e.args[i]);
    }
  }

  void Sub(const Expr& e) { absl::StrAppend(out_, "<", Source(e.subquery->span), ">"); }

  void Qualifiers(const Expr& e) {
    if (!e.schema.empty()) absl::StrAppend(out_, e.schema, ".");
    if (!e.table.empty()) absl::StrAppend(out_, e.table, ".");
  }

  void Binary(const Expr& e) {
    const std::string op = absl::StrCat(" ", OpText(e), " ");
    Put("(");
    if (e.op == Op::kAnd || e.op == Op::kOr) {
      Args(e, 0, op);
    } else {
      Print(*e.args[0]);
      Put(op);
      Print(*e.args[1]);
      if (e.args.size() > 2) {
        Put(" ESCAPE ");
        Print(*e.args[2]);
      }
    }
    Put(")");
  }

  void Case(const Expr& e) {
    Put("CASE");
    size_t i = 0;
    if (e.has_operand) {
      Put(" ");
      Print(*e.args[i++]);
    }
    const size_t pairs_end = e.args.size() - (e.has_else ? 1 : 0);
    for (; i + 1 < pairs_end; i += 2) {
      Put(" WHEN ");
      Print(*e.args[i]);
      Put(" THEN ");
      Print(*e.args[i + 1]);
    }
    if (e.has_else) {
      Put(" ELSE ");
      Print(*e.args.back());
    }
    Put(" END");
  }

  absl::string_view text_;
  std::string* out_;
};

}  // namespace

std::string DebugString(const Expr& e, absl::string_view text) {
  std::string out;
  Printer(text, &out).Print(e);
  return out;
}

}  // namespace shale::gate::sql
