// Expressions: operators by precedence climbing, prefix and postfix
// operators, type names. Primary expressions are in parser_primary.cc.

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "gate/sql/parser_internal.h"

namespace shale::gate::sql::internal {
namespace {

struct OpInfo {
  int prec;
  Op op;
};

// A symbolic binary operator's precedence; kPrecNone for tokens that are no
// binary operator here (:: and : are postfix / subscript syntax).
OpInfo SymbolInfo(absl::string_view s) {
  if (s.size() == 1) {
    switch (s[0]) {
      case '=':
        return {kPrecCmp, Op::kEq};
      case '<':
        return {kPrecCmp, Op::kLt};
      case '>':
        return {kPrecCmp, Op::kGt};
      case '+':
        return {kPrecAdd, Op::kAdd};
      case '-':
        return {kPrecAdd, Op::kSub};
      case '*':
        return {kPrecMul, Op::kMul};
      case '/':
        return {kPrecMul, Op::kDiv};
      case '%':
        return {kPrecMul, Op::kMod};
      case '^':
        return {kPrecPow, Op::kPow};
      case ':':
        return {kPrecNone, Op::kNone};
      default:
        return {kPrecOther, Op::kOther};
    }
  }
  if (s == "==") return {kPrecCmp, Op::kEq};
  if (s == "<>" || s == "!=") return {kPrecCmp, Op::kNe};
  if (s == "<=") return {kPrecCmp, Op::kLe};
  if (s == ">=") return {kPrecCmp, Op::kGe};
  if (s == "||") return {kPrecOther, Op::kConcat};
  if (s == "::") return {kPrecNone, Op::kNone};
  return {kPrecOther, Op::kOther};
}

// Operators that only exist as binary operators: refused in prefix position.
bool IsBinaryOnly(absl::string_view s) {
  return s == "=" || s == "==" || s == "<>" || s == "!=" || s == "<" || s == "<=" || s == ">" ||
         s == ">=" || s == "*" || s == "/" || s == "%" || s == "^" || s == "||" || s == "::" ||
         s == ":";
}

bool IsLikeWord(absl::string_view w) {
  return w == "like" || w == "ilike" || w == "glob" || w == "regexp" || w == "match" ||
         w == "similar";
}

Op LikeOp(absl::string_view w) {
  if (w == "like") return Op::kLike;
  if (w == "ilike") return Op::kILike;
  if (w == "glob") return Op::kGlob;
  if (w == "regexp") return Op::kRegexp;
  if (w == "match") return Op::kMatch;
  return Op::kSimilar;
}

ExprPtr NewExpr(ExprKind kind, Span span) {
  auto e = std::make_unique<Expr>(kind);
  e->span = span;
  return e;
}

}  // namespace

int Parser::KeywordPrec() const {
  const Token& t = Cur();
  if (t.kind != TokenKind::kIdentifier) return kPrecNone;
  const std::string& w = t.value;
  if (w == "or") return kPrecOr;
  if (w == "and") return kPrecAnd;
  if (IsLikeWord(w) || w == "is" || w == "isnull" || w == "notnull" || w == "between" ||
      w == "in") {
    return kPrecCmp;
  }
  if (w == "not") {
    const Token& n = Peek(1);
    if (n.kind == TokenKind::kIdentifier &&
        (IsLikeWord(n.value) || n.value == "between" || n.value == "in" || n.value == "null")) {
      return kPrecCmp;
    }
    return kPrecNone;
  }
  if (w == "operator" && Peek(1).kind == TokenKind::kLParen) return kPrecOther;
  if (w == "at" && Peek(1).IsKeyword("time") && Peek(2).IsKeyword("zone")) return kPrecOther;
  return kPrecNone;
}

absl::StatusOr<ExprPtr> Parser::MakeBinary(Op op, ExprPtr lhs, ExprPtr rhs, Span op_span) {
  ExprPtr e = NewExpr(ExprKind::kBinary, Span{lhs->span.begin, rhs->span.end});
  e->op = op;
  e->op_span = op_span;
  if (op == Op::kOther) e->op_text = std::string(Text(op_span));
  e->args.push_back(std::move(lhs));
  e->args.push_back(std::move(rhs));
  RETURN_IF_ERROR(Finish(e.get()));
  return e;
}

absl::StatusOr<ExprPtr> Parser::ParseExpr(int min_prec) {
  SHALE_SQL_DEPTH_GUARD();
  ASSIGN_OR_RETURN(ExprPtr lhs, ParsePrefix());
  for (;;) {
    const Token& t = Cur();
    OpInfo info{kPrecNone, Op::kNone};
    if (t.kind == TokenKind::kOperator) {
      info = SymbolInfo(t.text);
    } else {
      info.prec = KeywordPrec();
      if (info.prec == kPrecOr) info.op = Op::kOr;
      if (info.prec == kPrecAnd) info.op = Op::kAnd;
      if (info.prec == kPrecOther) info.op = Op::kOther;
    }
    if (info.prec == kPrecNone || info.prec < min_prec) break;
    const uint32_t op_begin = t.offset;
    if (info.op == Op::kAnd || info.op == Op::kOr) {
      Advance();
      Span op_span = SpanFrom(op_begin);
      ASSIGN_OR_RETURN(ExprPtr rhs, ParseExpr(info.prec + 1));
      if (lhs->kind == ExprKind::kBinary && lhs->op == info.op && !lhs->parens) {
        RETURN_IF_ERROR(CheckHeight(std::max<int>(lhs->height, rhs->height + 1)));
        lhs->height = static_cast<uint16_t>(std::max<int>(lhs->height, rhs->height + 1));
        lhs->span.end = rhs->span.end;
        lhs->args.push_back(std::move(rhs));
      } else {
        ASSIGN_OR_RETURN(lhs, MakeBinary(info.op, std::move(lhs), std::move(rhs), op_span));
      }
      continue;
    }
    if (info.prec == kPrecCmp && t.kind == TokenKind::kIdentifier) {
      ASSIGN_OR_RETURN(lhs, ParseComparison(std::move(lhs)));
      continue;
    }
    if (t.IsKeyword("operator")) {  // OPERATOR(pg_catalog.~)
      Advance();
      RETURN_IF_ERROR(SkipBalanced());
    } else if (t.IsKeyword("at")) {  // AT TIME ZONE
      Advance();
      Advance();
      Advance();
    } else {
      Advance();
    }
    Span op_span = SpanFrom(op_begin);
    ASSIGN_OR_RETURN(ExprPtr rhs, ParseExpr(info.prec + 1));
    ASSIGN_OR_RETURN(lhs, MakeBinary(info.op, std::move(lhs), std::move(rhs), op_span));
  }
  return lhs;
}

// The comparison-level keyword operators: [NOT] LIKE/ILIKE/GLOB/REGEXP/
// MATCH/SIMILAR TO [ESCAPE], IS ..., ISNULL, NOTNULL, NOT NULL, [NOT]
// BETWEEN, [NOT] IN.
absl::StatusOr<ExprPtr> Parser::ParseComparison(ExprPtr lhs) {
  const uint32_t op_begin = Begin();
  const bool negated = AcceptKw("not");
  const std::string w = Cur().value;
  if (w == "is") return ParseIs(std::move(lhs));
  if (w == "in") return ParseIn(std::move(lhs), negated, op_begin);
  if (w == "isnull" || w == "notnull" || w == "null") {
    Advance();
    ExprPtr e = NewExpr(ExprKind::kIsNull, Span{lhs->span.begin, PrevEnd()});
    e->op_span = SpanFrom(op_begin);
    e->negated = w == "notnull" || negated;
    e->args.push_back(std::move(lhs));
    RETURN_IF_ERROR(Finish(e.get()));
    return e;
  }
  if (w == "between") {
    Advance();
    Span op_span = SpanFrom(op_begin);
    if (!AcceptKw("symmetric")) AcceptKw("asymmetric");
    ASSIGN_OR_RETURN(ExprPtr lo, ParseExpr(kPrecCmp + 1));
    RETURN_IF_ERROR(ExpectKw("and"));
    ASSIGN_OR_RETURN(ExprPtr hi, ParseExpr(kPrecCmp + 1));
    ExprPtr e = NewExpr(ExprKind::kBetween, Span{lhs->span.begin, hi->span.end});
    e->op_span = op_span;
    e->negated = negated;
    e->args.push_back(std::move(lhs));
    e->args.push_back(std::move(lo));
    e->args.push_back(std::move(hi));
    RETURN_IF_ERROR(Finish(e.get()));
    return e;
  }
  // LIKE and friends.
  Advance();
  const Op op = LikeOp(w);
  if (op == Op::kSimilar) RETURN_IF_ERROR(ExpectKw("to"));
  Span op_span = SpanFrom(op_begin);
  ASSIGN_OR_RETURN(ExprPtr rhs, ParseExpr(kPrecCmp + 1));
  ASSIGN_OR_RETURN(ExprPtr e, MakeBinary(op, std::move(lhs), std::move(rhs), op_span));
  e->negated = negated;
  if (AcceptKw("escape")) {
    ASSIGN_OR_RETURN(ExprPtr esc, ParseExpr(kPrecCmp + 1));
    e->span.end = esc->span.end;
    e->args.push_back(std::move(esc));
    RETURN_IF_ERROR(Finish(e.get()));
  }
  return e;
}

// IS [NOT] NULL / UNKNOWN / DISTINCT FROM x / TRUE / FALSE / x (SQLite).
absl::StatusOr<ExprPtr> Parser::ParseIs(ExprPtr lhs) {
  const uint32_t op_begin = Begin();
  Advance();
  const bool negated = AcceptKw("not");
  if (AtKw("null") || AtKw("unknown")) {
    Advance();
    ExprPtr e = NewExpr(ExprKind::kIsNull, Span{lhs->span.begin, PrevEnd()});
    e->op_span = SpanFrom(op_begin);
    e->negated = negated;
    e->args.push_back(std::move(lhs));
    RETURN_IF_ERROR(Finish(e.get()));
    return e;
  }
  Op op = negated ? Op::kIsNot : Op::kIs;
  if (AcceptKw("distinct")) {
    RETURN_IF_ERROR(ExpectKw("from"));
    op = negated ? Op::kIsNotDistinctFrom : Op::kIsDistinctFrom;
  }
  Span op_span = SpanFrom(op_begin);
  ASSIGN_OR_RETURN(ExprPtr rhs, ParseExpr(kPrecCmp + 1));
  return MakeBinary(op, std::move(lhs), std::move(rhs), op_span);
}

// [NOT] IN (a, b, ...) / [NOT] IN (subquery); the current token is IN.
absl::StatusOr<ExprPtr> Parser::ParseIn(ExprPtr lhs, bool negated, uint32_t op_begin) {
  Advance();
  ExprPtr e = NewExpr(ExprKind::kIn, Span{lhs->span.begin, 0});
  e->op_span = SpanFrom(op_begin);
  e->negated = negated;
  e->args.push_back(std::move(lhs));
  RETURN_IF_ERROR(Expect(TokenKind::kLParen));
  if (AtQueryStart()) {
    ASSIGN_OR_RETURN(e->subquery, ParseSelectStmt());
  } else if (!At(TokenKind::kRParen)) {
    RETURN_IF_ERROR(ParseExprList(&e->args));
  }
  RETURN_IF_ERROR(Expect(TokenKind::kRParen));
  e->span.end = PrevEnd();
  RETURN_IF_ERROR(Finish(e.get()));
  return e;
}

absl::Status Parser::ParseExprList(std::vector<ExprPtr>* out) {
  do {
    ASSIGN_OR_RETURN(ExprPtr e, ParseExpr());
    out->push_back(std::move(e));
  } while (Accept(TokenKind::kComma));
  return absl::OkStatus();
}

absl::StatusOr<ExprPtr> Parser::ParsePrefix() {
  const Token& t = Cur();
  const uint32_t begin = t.offset;
  if (t.IsKeyword("not")) {
    Advance();
    Span op_span = SpanFrom(begin);
    ASSIGN_OR_RETURN(ExprPtr operand, ParseExpr(kPrecCmp));
    ExprPtr e = NewExpr(ExprKind::kUnary, Span{begin, operand->span.end});
    e->op = Op::kNot;
    e->op_span = op_span;
    e->args.push_back(std::move(operand));
    RETURN_IF_ERROR(Finish(e.get()));
    return e;
  }
  if (t.kind == TokenKind::kOperator) {
    if (IsBinaryOnly(t.text)) return Error();
    const Op op = t.text == "-" ? Op::kNeg : t.text == "+" ? Op::kPlus : Op::kOther;
    Advance();
    Span op_span = SpanFrom(begin);
    ASSIGN_OR_RETURN(ExprPtr operand, ParseExpr(kPrecUnary));
    if (op == Op::kNeg && !operand->parens &&
        ((operand->kind == ExprKind::kInteger &&
          operand->int_value != std::numeric_limits<int64_t>::min()) ||
         operand->kind == ExprKind::kFloat || operand->kind == ExprKind::kNumeric)) {
      // A negative literal, as PostgreSQL folds it.
      operand->float_value = -operand->float_value;
      if (operand->kind == ExprKind::kInteger) {
        operand->int_value = -operand->int_value;
      } else if (operand->kind == ExprKind::kNumeric) {
        int64_t v = 0;
        if (absl::SimpleAtoi(absl::StrCat("-", Text(operand->span)), &v)) {
          operand->kind = ExprKind::kInteger;
          operand->int_value = v;
        }
      }
      operand->span.begin = begin;
      return operand;
    }
    ExprPtr e = NewExpr(ExprKind::kUnary, Span{begin, operand->span.end});
    e->op = op;
    e->op_span = op_span;
    if (op == Op::kOther) e->op_text = std::string(Text(op_span));
    e->args.push_back(std::move(operand));
    RETURN_IF_ERROR(Finish(e.get()));
    return e;
  }
  ASSIGN_OR_RETURN(ExprPtr e, ParsePrimary());
  return ParsePostfix(std::move(e));
}

// ::type, COLLATE name, [subscript] and [lo:hi] slices.
absl::StatusOr<ExprPtr> Parser::ParsePostfix(ExprPtr e) {
  for (;;) {
    const uint32_t op_begin = Begin();
    if (AcceptOp("::")) {
      ASSIGN_OR_RETURN(Span type, ParseTypeName());
      ExprPtr cast = NewExpr(ExprKind::kCast, Span{e->span.begin, type.end});
      cast->op_span = Span{op_begin, op_begin + 2};
      cast->name = std::string(Text(type));
      cast->args.push_back(std::move(e));
      RETURN_IF_ERROR(Finish(cast.get()));
      e = std::move(cast);
    } else if (AcceptKw("collate")) {
      const uint32_t name_begin = Begin();
      ASSIGN_OR_RETURN(Name part, ParseAnyName());
      while (At(TokenKind::kDot)) {
        Advance();
        ASSIGN_OR_RETURN(part, ParseAnyName());
      }
      ExprPtr c = NewExpr(ExprKind::kCollate, Span{e->span.begin, PrevEnd()});
      c->op_span = SpanFrom(op_begin);
      c->name = std::string(Text(SpanFrom(name_begin)));
      c->args.push_back(std::move(e));
      RETURN_IF_ERROR(Finish(c.get()));
      e = std::move(c);
    } else if (Accept(TokenKind::kLBracket)) {
      ExprPtr s = NewExpr(ExprKind::kSubscript, Span{e->span.begin, 0});
      s->args.push_back(std::move(e));
      auto bound = [&]() -> absl::StatusOr<ExprPtr> {
        if (AtOp(":") || At(TokenKind::kRBracket)) {
          return NewExpr(ExprKind::kNull, Span{Begin(), Begin()});
        }
        return ParseExpr();
      };
      ASSIGN_OR_RETURN(ExprPtr lo, bound());
      s->args.push_back(std::move(lo));
      if (AcceptOp(":")) {
        s->slice = true;
        ASSIGN_OR_RETURN(ExprPtr hi, bound());
        s->args.push_back(std::move(hi));
      }
      RETURN_IF_ERROR(Expect(TokenKind::kRBracket));
      s->span.end = PrevEnd();
      RETURN_IF_ERROR(Finish(s.get()));
      e = std::move(s);
    } else {
      return e;
    }
  }
}

// A type name after :: : [schema.]name with PostgreSQL's multi-word names
// (double precision, character varying, timestamp with time zone), then
// (modifiers) and [] array bounds.
absl::StatusOr<Span> Parser::ParseTypeName() {
  const uint32_t begin = Begin();
  ASSIGN_OR_RETURN(Name name, ParseAnyName());
  while (At(TokenKind::kDot) &&
         (Peek(1).kind == TokenKind::kIdentifier || Peek(1).kind == TokenKind::kQuotedIdentifier)) {
    Advance();
    ASSIGN_OR_RETURN(name, ParseAnyName());
  }
  const std::string w = name.quoted ? "" : name.value;
  if (w == "double") {
    AcceptKw("precision");
  } else if (w == "national") {
    if (!AcceptKw("character")) AcceptKw("char");
    AcceptKw("varying");
  } else if (w == "character" || w == "char" || w == "bit") {
    AcceptKw("varying");
  }
  if (At(TokenKind::kLParen)) RETURN_IF_ERROR(SkipBalanced());
  if ((w == "timestamp" || w == "time") && (AtKw("with") || AtKw("without")) &&
      Peek(1).IsKeyword("time") && Peek(2).IsKeyword("zone")) {
    Advance();
    Advance();
    Advance();
  }
  if (w == "interval") {
    while (AtKw("year") || AtKw("month") || AtKw("day") || AtKw("hour") || AtKw("minute") ||
           AtKw("second") || AtKw("to")) {
      Advance();
    }
    if (At(TokenKind::kLParen)) RETURN_IF_ERROR(SkipBalanced());
  }
  while (Accept(TokenKind::kLBracket)) {
    if (At(TokenKind::kNumber)) Advance();
    RETURN_IF_ERROR(Expect(TokenKind::kRBracket));
  }
  return SpanFrom(begin);
}

}  // namespace shale::gate::sql::internal
