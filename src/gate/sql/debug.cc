#include "gate/sql/debug.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shale::gate::sql {
namespace {

absl::string_view SpanText(absl::string_view text, Span s) {
  return text.substr(s.begin, s.end - s.begin);
}

class Printer {
 public:
  explicit Printer(absl::string_view text) : text_(text) {}

  std::string Args(const Expr& e, size_t from, size_t to, absl::string_view sep = ", ") {
    std::vector<std::string> parts;
    for (size_t i = from; i < to && i < e.args.size(); ++i) parts.push_back(Print(*e.args[i]));
    return absl::StrJoin(parts, sep);
  }

  std::string Sub(const Expr& e) {
    return absl::StrCat("<", SpanText(text_, e.subquery->span), ">");
  }

  std::string Qualified(const Expr& e) {
    std::string out;
    if (!e.schema.empty()) absl::StrAppend(&out, e.schema, ".");
    if (!e.table.empty()) absl::StrAppend(&out, e.table, ".");
    return out;
  }

  std::string Print(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kInteger:
        return absl::StrCat(e.int_value);
      case ExprKind::kNumeric:
      case ExprKind::kFloat:
        return std::string(SpanText(text_, e.span));
      case ExprKind::kString:
        return absl::StrCat("'", e.str_value, "'");
      case ExprKind::kBlob:
        return absl::StrCat("x'", e.str_value, "'");
      case ExprKind::kNull:
        return "NULL";
      case ExprKind::kBool:
        return e.int_value ? "TRUE" : "FALSE";
      case ExprKind::kDefault:
        return "DEFAULT";
      case ExprKind::kParam:
        return absl::StrCat("$", e.int_value);
      case ExprKind::kColumn:
        return absl::StrCat(Qualified(e), e.quoted ? "\"" : "", e.name, e.quoted ? "\"" : "");
      case ExprKind::kStar:
        return absl::StrCat(Qualified(e), "*");
      case ExprKind::kFunction: {
        std::string out = absl::StrCat(e.schema.empty() ? "" : e.schema + ".", e.name);
        if (e.no_parens) return out;
        absl::StrAppend(&out, "(", e.distinct ? "DISTINCT " : "", e.star ? "*" : "");
        absl::StrAppend(&out, e.subquery ? Sub(e) : Args(e, 0, e.args.size()), ")");
        if (!e.filter.empty()) absl::StrAppend(&out, " FILTER");
        if (!e.over.empty()) absl::StrAppend(&out, " OVER");
        return out;
      }
      case ExprKind::kUnary:
        return absl::StrCat("(", e.op == Op::kOther ? e.op_text : std::string(OpName(e.op)), " ",
                            Print(*e.args[0]), ")");
      case ExprKind::kBinary: {
        std::string op = e.op == Op::kOther ? e.op_text : std::string(OpName(e.op));
        if (e.negated) op = absl::StrCat("NOT ", op);
        if (e.op == Op::kAnd || e.op == Op::kOr) {
          return absl::StrCat("(", Args(e, 0, e.args.size(), absl::StrCat(" ", op, " ")), ")");
        }
        std::string out = absl::StrCat("(", Print(*e.args[0]), " ", op, " ", Print(*e.args[1]));
        if (e.args.size() > 2) absl::StrAppend(&out, " ESCAPE ", Print(*e.args[2]));
        return out + ")";
      }
      case ExprKind::kIsNull:
        return absl::StrCat("(", Print(*e.args[0]), e.negated ? " IS NOT NULL)" : " IS NULL)");
      case ExprKind::kBetween:
        return absl::StrCat("(", Print(*e.args[0]), e.negated ? " NOT" : "", " BETWEEN ",
                            Print(*e.args[1]), " AND ", Print(*e.args[2]), ")");
      case ExprKind::kIn:
        return absl::StrCat("(", Print(*e.args[0]), e.negated ? " NOT" : "", " IN ",
                            e.subquery ? Sub(e) : "(" + Args(e, 1, e.args.size()) + ")", ")");
      case ExprKind::kCase: {
        std::string out = "CASE";
        size_t i = 0;
        if (e.has_operand) absl::StrAppend(&out, " ", Print(*e.args[i++]));
        const size_t pairs_end = e.args.size() - (e.has_else ? 1 : 0);
        for (; i + 1 < pairs_end; i += 2) {
          absl::StrAppend(&out, " WHEN ", Print(*e.args[i]), " THEN ", Print(*e.args[i + 1]));
        }
        if (e.has_else) absl::StrAppend(&out, " ELSE ", Print(*e.args.back()));
        return out + " END";
      }
      case ExprKind::kCast:
        return absl::StrCat("CAST(", Print(*e.args[0]), " AS ", e.name, ")");
      case ExprKind::kCollate:
        return absl::StrCat("(", Print(*e.args[0]), " COLLATE ", e.name, ")");
      case ExprKind::kExists:
        return absl::StrCat("EXISTS", Sub(e));
      case ExprKind::kSubquery:
        return Sub(e);
      case ExprKind::kRow:
        return absl::StrCat("ROW(", Args(e, 0, e.args.size()), ")");
      case ExprKind::kArray:
        return e.subquery ? absl::StrCat("ARRAY", Sub(e))
                          : absl::StrCat("ARRAY[", Args(e, 0, e.args.size()), "]");
      case ExprKind::kSubscript:
        return absl::StrCat(Print(*e.args[0]), "[", Args(e, 1, e.args.size(), ":"), "]");
    }
    return "?";
  }

 private:
  absl::string_view text_;
};

}  // namespace

std::string DebugString(const Expr& e, absl::string_view text) { return Printer(text).Print(e); }

}  // namespace shale::gate::sql
