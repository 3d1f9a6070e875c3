// Primary expressions: literals, parameters, names, function calls, CASE,
// CAST, EXISTS, ARRAY, ROW, parenthesised expressions, rows and subqueries.

#include <array>
#include <cstdint>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "gate/sql/errors.h"
#include "gate/sql/parser_internal.h"

namespace shale::gate::sql::internal {
namespace {

// Highest $n accepted (the wire protocol's parameter count is an Int16).
constexpr uint32_t kMaxParam = 65535;

ExprPtr NewExpr(ExprKind kind, Span span) {
  auto e = std::make_unique<Expr>(kind);
  e->span = span;
  return e;
}

// Keywords that name a value without parentheses (SQL's niladic functions).
bool IsNiladic(absl::string_view w) {
  return w == "current_date" || w == "current_time" || w == "current_timestamp" ||
         w == "localtime" || w == "localtimestamp" || w == "current_user" || w == "session_user" ||
         w == "user" || w == "current_role" || w == "current_catalog" || w == "current_schema";
}

// Reserved words that may still be called as functions.
bool IsReservedFunction(absl::string_view w) {
  return w == "any" || w == "some" || w == "all" || w == "left" || w == "right" ||
         w == "current_schema" || w == "current_time" || w == "current_timestamp" ||
         w == "localtime" || w == "localtimestamp";
}

// Functions with keyword-separated arguments: extract(f FROM x),
// substring(x FROM a FOR b), position(a IN b), trim(BOTH c FROM x),
// overlay(x PLACING y FROM a FOR b).
bool IsSpecialArgFunction(absl::string_view w) {
  return w == "extract" || w == "substring" || w == "position" || w == "trim" || w == "overlay";
}

}  // namespace

bool Parser::AtQueryStart(size_t k) const {
  const Token& t = Peek(k);
  return t.IsKeyword("select") || t.IsKeyword("values") || t.IsKeyword("with");
}

absl::StatusOr<ExprPtr> Parser::ParsePrimary() {
  const Token& t = Cur();
  switch (t.kind) {
    case TokenKind::kNumber:
    case TokenKind::kString:
    case TokenKind::kBlob:
      return ParseLiteral();
    case TokenKind::kParam: {
      if (t.param == 0 || t.param > kMaxParam) {
        return WithErrorPosition(SqlError(absl::StatusCode::kInvalidArgument, "42P02",
                                          absl::StrCat("there is no parameter ", t.text)),
                                 CharPosition(sql_, t.offset));
      }
      ExprPtr e = NewExpr(ExprKind::kParam, Span{t.offset, t.end()});
      e->int_value = t.param;
      Advance();
      return e;
    }
    case TokenKind::kLParen:
      return ParseParenthesized();
    case TokenKind::kIdentifier:
    case TokenKind::kQuotedIdentifier:
      return ParseNamed();
    default:
      return Error();
  }
}

absl::StatusOr<ExprPtr> Parser::ParseLiteral() {
  Token& t = tokens_[i_];
  ExprPtr e = NewExpr(ExprKind::kString, Span{t.offset, t.end()});
  if (t.kind == TokenKind::kNumber) {
    absl::string_view text = t.text;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
      uint64_t v = 0;
      if (text.size() <= 18 && absl::SimpleHexAtoi(text.substr(2), &v)) {
        e->kind = ExprKind::kInteger;
        e->int_value = static_cast<int64_t>(v);  // SQLite: 64-bit two's complement
        e->float_value = static_cast<double>(e->int_value);
      } else {
        e->kind = ExprKind::kNumeric;
      }
    } else if (text.find_first_of(".eE") != absl::string_view::npos) {
      e->kind = ExprKind::kFloat;
      if (!absl::SimpleAtod(text, &e->float_value)) e->float_value = 0;
    } else if (absl::SimpleAtoi(text, &e->int_value)) {
      e->kind = ExprKind::kInteger;
      e->float_value = static_cast<double>(e->int_value);
    } else {
      e->kind = ExprKind::kNumeric;
      if (!absl::SimpleAtod(text, &e->float_value)) e->float_value = 0;
    }
  } else {
    e->kind = t.kind == TokenKind::kBlob ? ExprKind::kBlob : ExprKind::kString;
    e->str_value = std::move(t.value);  // the token is not looked at again
  }
  Advance();
  return e;
}

absl::StatusOr<ExprPtr> Parser::ParseNamed() {
  const Token& t = Cur();
  const uint32_t begin = t.offset;
  const bool quoted = t.kind == TokenKind::kQuotedIdentifier;
  const bool call = Peek(1).kind == TokenKind::kLParen;
  if (!quoted) {
    const std::string& w = t.value;
    if (w == "null" || w == "true" || w == "false" || w == "default") {
      ExprPtr e = NewExpr(w == "null"      ? ExprKind::kNull
                          : w == "default" ? ExprKind::kDefault
                                           : ExprKind::kBool,
                          Span{t.offset, t.end()});
      e->int_value = w == "true";
      Advance();
      return e;
    }
    if (w == "case") return ParseCase();
    if (w == "cast" && call) return ParseCast();
    if (w == "exists" && call) {
      Advance();
      Advance();
      return ParseSubqueryExpr(ExprKind::kExists, begin);
    }
    if (w == "array" && (call || Peek(1).kind == TokenKind::kLBracket)) return ParseArray();
    if (w == "row" && call) {
      Advance();
      Advance();
      ExprPtr e = NewExpr(ExprKind::kRow, Span{begin, 0});
      if (!At(TokenKind::kRParen)) RETURN_IF_ERROR(ParseExprList(&e->args));
      RETURN_IF_ERROR(Expect(TokenKind::kRParen));
      e->span.end = PrevEnd();
      RETURN_IF_ERROR(Finish(e.get()));
      return e;
    }
    if (IsNiladic(w) && !call) {
      ExprPtr e = NewExpr(ExprKind::kFunction, Span{t.offset, t.end()});
      e->name = w;
      e->no_parens = true;
      Advance();
      return e;
    }
    if (IsReserved(w) && !(call && IsReservedFunction(w))) return Error();
    if (Peek(1).kind == TokenKind::kString) {  // a typed literal: date '2024-01-31'
      ExprPtr e = NewExpr(ExprKind::kCast, Span{begin, 0});
      e->name = std::string(t.text);
      Advance();
      ASSIGN_OR_RETURN(ExprPtr lit, ParseLiteral());
      e->span.end = lit->span.end;
      e->args.push_back(std::move(lit));
      RETURN_IF_ERROR(Finish(e.get()));
      return e;
    }
  }
  // name, a.name, s.a.name, c.s.a.name, a.*, s.a.*, or a [qualified] function call.
  std::array<const Token*, 4> parts;
  size_t n_parts = 0;
  parts[n_parts++] = &t;
  Advance();
  while (At(TokenKind::kDot) && n_parts < parts.size()) {
    const Token& n = Peek(1);
    if (n.IsOperator("*")) {
      Advance();
      Advance();
      ExprPtr star = NewExpr(ExprKind::kStar, SpanFrom(begin));
      star->table = parts[n_parts - 1]->value;
      if (n_parts >= 2) star->schema = parts[n_parts - 2]->value;
      return star;
    }
    if (n.kind != TokenKind::kIdentifier && n.kind != TokenKind::kQuotedIdentifier) {
      Advance();
      return Error();
    }
    Advance();
    parts[n_parts++] = &n;
    Advance();
  }
  if (At(TokenKind::kLParen) && n_parts <= 2) {
    ExprPtr fn = NewExpr(ExprKind::kFunction, Span{begin, 0});
    fn->name = parts[n_parts - 1]->value;
    if (n_parts == 2) fn->schema = parts[0]->value;
    return ParseFunction(std::move(fn));
  }
  ExprPtr col = NewExpr(ExprKind::kColumn, SpanFrom(begin));
  col->quoted = parts[n_parts - 1]->kind == TokenKind::kQuotedIdentifier;
  col->name = parts[n_parts - 1]->value;
  if (n_parts >= 2) col->table = parts[n_parts - 2]->value;
  if (n_parts >= 3) col->schema = parts[n_parts - 3]->value;
  return col;
}

// The argument list and what may follow it; the current token is '('.
absl::StatusOr<ExprPtr> Parser::ParseFunction(ExprPtr fn) {
  Advance();
  const bool special = fn->schema.empty() && IsSpecialArgFunction(fn->name);
  if (AtOp("*") && Peek(1).kind == TokenKind::kRParen) {
    fn->star = true;
    Advance();
  } else if (!At(TokenKind::kRParen)) {
    if (AcceptKw("distinct")) {
      fn->distinct = true;
    } else if (AtKw("all") && Peek(1).kind != TokenKind::kRParen &&
               Peek(1).kind != TokenKind::kComma) {
      Advance();
    }
    if (AtQueryStart()) {  // any(SELECT ...), array(SELECT ...)
      ASSIGN_OR_RETURN(fn->subquery, ParseSelectStmt());
    } else if (special) {
      if (fn->name == "trim" && (AtKw("both") || AtKw("leading") || AtKw("trailing"))) {
        Advance();
      }
      if (AtKw("from")) Advance();
      for (;;) {
        ASSIGN_OR_RETURN(ExprPtr arg, ParseExpr(kPrecCmp + 1));
        fn->args.push_back(std::move(arg));
        if (Accept(TokenKind::kComma) || AcceptKw("from") || AcceptKw("for") || AcceptKw("in") ||
            AcceptKw("placing")) {
          continue;
        }
        break;
      }
    } else {
      do {
        AcceptKw("variadic");
        if (At(TokenKind::kIdentifier) || At(TokenKind::kQuotedIdentifier)) {
          if (Peek(1).IsOperator("=>")) {
            Advance();
            Advance();
          } else if (Peek(1).IsOperator(":") && Peek(2).IsOperator("=")) {
            Advance();
            Advance();
            Advance();
          }
        }
        ASSIGN_OR_RETURN(ExprPtr arg, ParseExpr());
        fn->args.push_back(std::move(arg));
      } while (Accept(TokenKind::kComma));
    }
    if (AtKw("order") && Peek(1).IsKeyword("by")) {  // string_agg(x, ',' ORDER BY y)
      const uint32_t order_begin = Begin();
      Advance();
      Advance();
      std::vector<OrderItem> order;
      RETURN_IF_ERROR(ParseOrderBy(&order));
      fn->agg_order = SpanFrom(order_begin);
    }
  }
  RETURN_IF_ERROR(Expect(TokenKind::kRParen));
  RETURN_IF_ERROR(ParseFunctionTail(fn.get()));
  fn->span.end = PrevEnd();
  if (fn->name == "array" && fn->schema.empty() && fn->subquery) fn->kind = ExprKind::kArray;
  RETURN_IF_ERROR(Finish(fn.get()));
  return fn;
}

// WITHIN GROUP (ORDER BY ...), FILTER (WHERE ...), OVER name | OVER (...).
absl::Status Parser::ParseFunctionTail(Expr* fn) {
  if (AtKw("within") && Peek(1).IsKeyword("group")) {
    const uint32_t begin = Begin();
    Advance();
    Advance();
    RETURN_IF_ERROR(SkipBalanced());
    fn->within_group = SpanFrom(begin);
  }
  if (AtKw("filter") && Peek(1).kind == TokenKind::kLParen) {
    const uint32_t begin = Begin();
    Advance();
    Advance();
    RETURN_IF_ERROR(ExpectKw("where"));
    ASSIGN_OR_RETURN(ExprPtr cond, ParseExpr());
    RETURN_IF_ERROR(Expect(TokenKind::kRParen));
    fn->filter = SpanFrom(begin);
  }
  if (AtKw("over")) {
    const Token& n = Peek(1);
    if (n.kind == TokenKind::kLParen) {
      const uint32_t begin = Begin();
      Advance();
      RETURN_IF_ERROR(SkipBalanced());
      fn->over = SpanFrom(begin);
    } else if (n.kind == TokenKind::kQuotedIdentifier ||
               (n.kind == TokenKind::kIdentifier && !IsReserved(n.value))) {
      const uint32_t begin = Begin();
      Advance();
      Advance();
      fn->over = SpanFrom(begin);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ExprPtr> Parser::ParseCase() {
  ExprPtr e = NewExpr(ExprKind::kCase, Span{Begin(), 0});
  Advance();
  if (!AtKw("when")) {
    ASSIGN_OR_RETURN(ExprPtr operand, ParseExpr());
    e->args.push_back(std::move(operand));
    e->has_operand = true;
  }
  if (!AtKw("when")) return Error();
  while (AcceptKw("when")) {
    ASSIGN_OR_RETURN(ExprPtr cond, ParseExpr());
    RETURN_IF_ERROR(ExpectKw("then"));
    ASSIGN_OR_RETURN(ExprPtr result, ParseExpr());
    e->args.push_back(std::move(cond));
    e->args.push_back(std::move(result));
  }
  if (AcceptKw("else")) {
    ASSIGN_OR_RETURN(ExprPtr result, ParseExpr());
    e->args.push_back(std::move(result));
    e->has_else = true;
  }
  RETURN_IF_ERROR(ExpectKw("end"));
  e->span.end = PrevEnd();
  RETURN_IF_ERROR(Finish(e.get()));
  return e;
}

// CAST(x AS type): the type is every token up to the closing parenthesis.
absl::StatusOr<ExprPtr> Parser::ParseCast() {
  ExprPtr e = NewExpr(ExprKind::kCast, Span{Begin(), 0});
  Advance();
  Advance();
  ASSIGN_OR_RETURN(ExprPtr arg, ParseExpr());
  e->args.push_back(std::move(arg));
  RETURN_IF_ERROR(ExpectKw("as"));
  const uint32_t type_begin = Begin();
  int depth = 0;
  while (depth > 0 || !At(TokenKind::kRParen)) {
    if (At(TokenKind::kEnd) || At(TokenKind::kSemicolon)) return Error();
    if (At(TokenKind::kLParen)) ++depth;
    if (At(TokenKind::kRParen)) --depth;
    Advance();
  }
  if (Begin() == type_begin) return Error();
  e->name = std::string(Text(SpanFrom(type_begin)));
  Advance();
  e->span.end = PrevEnd();
  RETURN_IF_ERROR(Finish(e.get()));
  return e;
}

// ARRAY[a, b], ARRAY[[1, 2], [3, 4]] or ARRAY(SELECT ...).
absl::StatusOr<ExprPtr> Parser::ParseArray() {
  const uint32_t begin = Begin();
  Advance();
  if (Accept(TokenKind::kLParen)) {
    ExprPtr e = NewExpr(ExprKind::kArray, Span{begin, 0});
    ASSIGN_OR_RETURN(e->subquery, ParseSelectStmt());
    RETURN_IF_ERROR(Expect(TokenKind::kRParen));
    e->span.end = PrevEnd();
    RETURN_IF_ERROR(Finish(e.get()));
    return e;
  }
  return ParseArrayBracket(begin);
}

absl::StatusOr<ExprPtr> Parser::ParseArrayBracket(uint32_t begin) {
  SHALE_SQL_DEPTH_GUARD();
  RETURN_IF_ERROR(Expect(TokenKind::kLBracket));
  ExprPtr e = NewExpr(ExprKind::kArray, Span{begin, 0});
  if (!At(TokenKind::kRBracket)) {
    do {
      if (At(TokenKind::kLBracket)) {
        ASSIGN_OR_RETURN(ExprPtr inner, ParseArrayBracket(Begin()));
        e->args.push_back(std::move(inner));
      } else {
        ASSIGN_OR_RETURN(ExprPtr elem, ParseExpr());
        e->args.push_back(std::move(elem));
      }
    } while (Accept(TokenKind::kComma));
  }
  RETURN_IF_ERROR(Expect(TokenKind::kRBracket));
  e->span.end = PrevEnd();
  RETURN_IF_ERROR(Finish(e.get()));
  return e;
}

// After "(" (and EXISTS): a query, then ")".
absl::StatusOr<ExprPtr> Parser::ParseSubqueryExpr(ExprKind kind, uint32_t begin) {
  ExprPtr e = NewExpr(kind, Span{begin, 0});
  ASSIGN_OR_RETURN(e->subquery, ParseSelectStmt());
  RETURN_IF_ERROR(Expect(TokenKind::kRParen));
  e->span.end = PrevEnd();
  RETURN_IF_ERROR(Finish(e.get()));
  return e;
}

absl::StatusOr<ExprPtr> Parser::ParseParenthesized() {
  const uint32_t begin = Begin();
  Advance();
  if (AtQueryStart()) return ParseSubqueryExpr(ExprKind::kSubquery, begin);
  ASSIGN_OR_RETURN(ExprPtr e, ParseExpr());
  if (At(TokenKind::kComma)) {
    ExprPtr row = NewExpr(ExprKind::kRow, Span{begin, 0});
    row->args.push_back(std::move(e));
    while (Accept(TokenKind::kComma)) {
      ASSIGN_OR_RETURN(ExprPtr item, ParseExpr());
      row->args.push_back(std::move(item));
    }
    RETURN_IF_ERROR(Expect(TokenKind::kRParen));
    row->span.end = PrevEnd();
    RETURN_IF_ERROR(Finish(row.get()));
    return row;
  }
  RETURN_IF_ERROR(Expect(TokenKind::kRParen));
  e->parens = true;
  e->span = SpanFrom(begin);
  return e;
}

}  // namespace shale::gate::sql::internal
