// Queries: WITH, SELECT cores, compounds, FROM lists and joins, ORDER BY,
// LIMIT / OFFSET / FETCH, FOR UPDATE, VALUES.

#include <algorithm>
#include <limits>
#include <utility>

#include "base/status_macros.h"
#include "gate/sql/parser_internal.h"

namespace shale::gate::sql::internal {

absl::StatusOr<std::unique_ptr<SelectStmt>> Parser::ParseSelectStmt() {
  SHALE_SQL_DEPTH_GUARD();
  const int outer_height = max_height_;
  max_height_ = 0;
  auto s = std::make_unique<SelectStmt>();
  const uint32_t begin = Begin();
  if (AtKw("with")) RETURN_IF_ERROR(ParseWith(&s->ctes, &s->recursive));
  RETURN_IF_ERROR(ParseSelectBody(s.get()));
  s->span = SpanFrom(begin);
  // "(SELECT ...)" alone is that query.
  if (s->cores.size() == 1 && s->cores[0].nested && s->ctes.empty() && s->order_by.empty() &&
      s->limit_span.empty() && s->locking == Locking::kNone) {
    std::unique_ptr<SelectStmt> inner = std::move(s->cores[0].nested);
    s = std::move(inner);
  }
  RETURN_IF_ERROR(CheckHeight(max_height_ + 1));
  s->height = static_cast<uint16_t>(max_height_ + 1);
  max_height_ = std::max<int>(outer_height, s->height);
  return s;
}

absl::Status Parser::ParseWith(std::vector<Cte>* ctes, bool* recursive) {
  Advance();
  MarkCte();
  *recursive = AcceptKw("recursive");
  do {
    Cte cte;
    RETURN_IF_ERROR(ParseCte(&cte));
    ctes->push_back(std::move(cte));
  } while (Accept(TokenKind::kComma));
  return absl::OkStatus();
}

// name [(columns)] AS [[NOT] MATERIALIZED] (query)
absl::Status Parser::ParseCte(Cte* cte) {
  const uint32_t begin = Begin();
  ASSIGN_OR_RETURN(cte->name, ParseColId());
  if (At(TokenKind::kLParen)) RETURN_IF_ERROR(ParseNameList(&cte->columns, nullptr));
  RETURN_IF_ERROR(ExpectKw("as"));
  if (AcceptKw("not")) {
    RETURN_IF_ERROR(ExpectKw("materialized"));
  } else {
    AcceptKw("materialized");
  }
  RETURN_IF_ERROR(Expect(TokenKind::kLParen));
  if (!AtQueryStart() && !At(TokenKind::kLParen) && !AtKw("insert") && !AtKw("update") &&
      !AtKw("delete")) {
    return Error();
  }
  cte->query = std::make_unique<Statement>();
  const uint32_t query_begin = Begin();
  RETURN_IF_ERROR(ParseStatement(cte->query.get()));
  cte->query->span = SpanFrom(query_begin);
  RETURN_IF_ERROR(Expect(TokenKind::kRParen));
  cte->span = SpanFrom(begin);
  return absl::OkStatus();
}

absl::Status Parser::ParseSelectBody(SelectStmt* s) {
  s->cores.emplace_back();
  RETURN_IF_ERROR(ParseCore(&s->cores.back()));
  for (;;) {
    SetOp op;
    if (AcceptKw("union")) {
      op = AcceptKw("all") ? SetOp::kUnionAll : SetOp::kUnion;
    } else if (AcceptKw("intersect")) {
      op = AcceptKw("all") ? SetOp::kIntersectAll : SetOp::kIntersect;
    } else if (AcceptKw("except")) {
      op = AcceptKw("all") ? SetOp::kExceptAll : SetOp::kExcept;
    } else {
      break;
    }
    if (op == SetOp::kUnion || op == SetOp::kIntersect || op == SetOp::kExcept) {
      AcceptKw("distinct");
    }
    s->set_ops.push_back(op);
    s->cores.emplace_back();
    RETURN_IF_ERROR(ParseCore(&s->cores.back()));
  }
  return ParseSelectTail(s);
}

absl::Status Parser::ParseCore(SelectCore* core) {
  const uint32_t begin = Begin();
  if (Accept(TokenKind::kLParen)) {
    ASSIGN_OR_RETURN(core->nested, ParseSelectStmt());
    RETURN_IF_ERROR(Expect(TokenKind::kRParen));
  } else if (AcceptKw("values")) {
    core->is_values = true;
    RETURN_IF_ERROR(ParseValuesRows(&core->values));
  } else {
    RETURN_IF_ERROR(ExpectKw("select"));
    if (AcceptKw("distinct")) {
      core->distinct = true;
      if (AcceptKw("on")) {
        RETURN_IF_ERROR(Expect(TokenKind::kLParen));
        RETURN_IF_ERROR(ParseExprList(&core->distinct_on));
        RETURN_IF_ERROR(Expect(TokenKind::kRParen));
      }
    } else {
      AcceptKw("all");
    }
    RETURN_IF_ERROR(ParseSelectItems(&core->items, &core->items_span));
    if (AcceptKw("from")) RETURN_IF_ERROR(ParseFromList(&core->from, &core->from_span));
    if (AcceptKw("where")) {
      ASSIGN_OR_RETURN(core->where, ParseExpr());
    }
    if (AtKw("group") && Peek(1).IsKeyword("by")) {
      Advance();
      Advance();
      RETURN_IF_ERROR(ParseExprList(&core->group_by));
    }
    if (AcceptKw("having")) {
      ASSIGN_OR_RETURN(core->having, ParseExpr());
    }
    if (AtKw("window")) {
      const uint32_t window_begin = Begin();
      Advance();
      do {
        RETURN_IF_ERROR(ParseAnyName().status());
        RETURN_IF_ERROR(ExpectKw("as"));
        if (!At(TokenKind::kLParen)) return Error();
        RETURN_IF_ERROR(SkipBalanced());
      } while (Accept(TokenKind::kComma));
      core->window = SpanFrom(window_begin);
    }
  }
  core->span = SpanFrom(begin);
  return absl::OkStatus();
}

absl::Status Parser::ParseValuesRows(std::vector<ValuesRow>* rows) {
  do {
    ValuesRow row;
    const uint32_t begin = Begin();
    RETURN_IF_ERROR(Expect(TokenKind::kLParen));
    RETURN_IF_ERROR(ParseExprList(&row.values));
    RETURN_IF_ERROR(Expect(TokenKind::kRParen));
    row.span = SpanFrom(begin);
    rows->push_back(std::move(row));
  } while (Accept(TokenKind::kComma));
  return absl::OkStatus();
}

absl::Status Parser::ParseSelectItems(std::vector<SelectItem>* items, Span* span) {
  const uint32_t begin = Begin();
  do {
    SelectItem item;
    const uint32_t item_begin = Begin();
    if (AtOp("*")) {  // no alias after a bare *
      item.expr = std::make_unique<Expr>(ExprKind::kStar);
      item.expr->span = Span{Cur().offset, Cur().end()};
      Advance();
    } else {
      ASSIGN_OR_RETURN(item.expr, ParseExpr());
      RETURN_IF_ERROR(ParseAlias(&item.alias, /*allow_bare=*/true));
      if (item.alias.empty() && At(TokenKind::kString)) {  // SQLite: SELECT 1 'one'
        item.alias = Name{Cur().value, true, Span{Cur().offset, Cur().end()}};
        Advance();
      }
    }
    item.span = SpanFrom(item_begin);
    items->push_back(std::move(item));
  } while (Accept(TokenKind::kComma));
  *span = SpanFrom(begin);
  return absl::OkStatus();
}

absl::Status Parser::ParseFromList(std::vector<TableRef>* refs, Span* span) {
  const uint32_t begin = Begin();
  RETURN_IF_ERROR(ParseFromItem(refs, JoinType::kNone));
  for (;;) {
    if (Accept(TokenKind::kComma)) {
      RETURN_IF_ERROR(ParseFromItem(refs, JoinType::kComma));
      continue;
    }
    const bool natural = AcceptKw("natural");
    JoinType join;
    if (AcceptKw("cross")) {
      join = JoinType::kCross;
    } else if (AcceptKw("inner")) {
      join = JoinType::kInner;
    } else if (AcceptKw("left")) {
      join = JoinType::kLeft;
      AcceptKw("outer");
    } else if (AcceptKw("right")) {
      join = JoinType::kRight;
      AcceptKw("outer");
    } else if (AcceptKw("full")) {
      join = JoinType::kFull;
      AcceptKw("outer");
    } else if (AtKw("join")) {
      join = JoinType::kInner;
    } else {
      if (natural) return Error();
      break;
    }
    RETURN_IF_ERROR(ExpectKw("join"));
    const size_t first = refs->size();
    RETURN_IF_ERROR(ParseFromItem(refs, join));
    TableRef& joined = (*refs)[first];
    joined.natural = natural;
    if (join != JoinType::kCross && !natural) {
      if (AcceptKw("on")) {
        ASSIGN_OR_RETURN(joined.on, ParseExpr());
      } else if (AcceptKw("using")) {
        RETURN_IF_ERROR(ParseNameList(&joined.using_columns, nullptr));
      }
    }
  }
  *span = SpanFrom(begin);
  return absl::OkStatus();
}

// One FROM item appended to refs; a parenthesised join appends its items.
absl::Status Parser::ParseFromItem(std::vector<TableRef>* refs, JoinType join) {
  SHALE_SQL_DEPTH_GUARD();
  const uint32_t begin = Begin();
  TableRef ref;
  ref.join = join;
  ref.lateral = AcceptKw("lateral");
  if (At(TokenKind::kLParen)) {
    size_t k = 0;
    while (Peek(k).kind == TokenKind::kLParen) ++k;
    if (!AtQueryStart(k)) {  // (a JOIN b ...): flattened into refs
      Advance();
      const size_t first = refs->size();
      Span inner;
      RETURN_IF_ERROR(ParseFromList(refs, &inner));
      RETURN_IF_ERROR(Expect(TokenKind::kRParen));
      (*refs)[first].join = join;
      Name alias;
      return ParseAlias(&alias, /*allow_bare=*/true);
    }
    Advance();
    ref.kind = TableRef::Kind::kSubquery;
    ASSIGN_OR_RETURN(ref.subquery, ParseSelectStmt());
    RETURN_IF_ERROR(Expect(TokenKind::kRParen));
  } else if ((At(TokenKind::kIdentifier) || At(TokenKind::kQuotedIdentifier)) &&
             (Peek(1).kind == TokenKind::kLParen ||
              (Peek(1).kind == TokenKind::kDot && Peek(3).kind == TokenKind::kLParen))) {
    ref.kind = TableRef::Kind::kFunction;  // generate_series(1, 10), json_each(x)
    ASSIGN_OR_RETURN(ref.function, ParsePrimary());
  } else {
    AcceptKw("only");
    ASSIGN_OR_RETURN(ref.table, ParseTableName());
    AcceptOp("*");
  }
  RETURN_IF_ERROR(ParseAlias(&ref.alias, /*allow_bare=*/true, /*also_not=*/"indexed"));
  if (!ref.alias.empty() && At(TokenKind::kLParen)) {  // AS x(a, b)
    std::vector<Name> columns;
    RETURN_IF_ERROR(ParseNameList(&columns, nullptr));
  }
  if (AcceptKw("tablesample")) {  // TABLESAMPLE method (args) [REPEATABLE (seed)]
    RETURN_IF_ERROR(ParseAnyName().status());
    if (!At(TokenKind::kLParen)) return Error();
    RETURN_IF_ERROR(SkipBalanced());
    if (AcceptKw("repeatable")) {
      if (!At(TokenKind::kLParen)) return Error();
      RETURN_IF_ERROR(SkipBalanced());
    }
  }
  if (AtKw("indexed") && Peek(1).IsKeyword("by")) {  // SQLite
    Advance();
    Advance();
    RETURN_IF_ERROR(ParseAnyName().status());
  } else if (AtKw("not") && Peek(1).IsKeyword("indexed")) {
    Advance();
    Advance();
  }
  ref.span = SpanFrom(begin);
  refs->push_back(std::move(ref));
  return absl::OkStatus();
}

absl::Status Parser::ParseOrderBy(std::vector<OrderItem>* items) {
  do {
    OrderItem item;
    const uint32_t begin = Begin();
    ASSIGN_OR_RETURN(item.expr, ParseExpr());
    if (AcceptKw("desc")) {
      item.desc = true;
    } else if (!AcceptKw("asc") && AcceptKw("using")) {
      if (!At(TokenKind::kOperator)) return Error();
      Advance();
    }
    if (AcceptKw("nulls")) {
      if (AcceptKw("first")) {
        item.nulls = OrderItem::Nulls::kFirst;
      } else {
        RETURN_IF_ERROR(ExpectKw("last"));
        item.nulls = OrderItem::Nulls::kLast;
      }
    }
    const Expr& e = *item.expr;
    if (e.kind == ExprKind::kInteger && !e.parens && e.int_value >= 1 &&
        e.int_value <= std::numeric_limits<int>::max()) {
      item.position = static_cast<int>(e.int_value);
    }
    item.span = SpanFrom(begin);
    items->push_back(std::move(item));
  } while (Accept(TokenKind::kComma));
  return absl::OkStatus();
}

// ORDER BY, LIMIT / OFFSET / FETCH and FOR UPDATE, in any order.
absl::Status Parser::ParseSelectTail(SelectStmt* s) {
  for (;;) {
    const uint32_t begin = Begin();
    if (s->order_by.empty() && AtKw("order") && Peek(1).IsKeyword("by")) {
      Advance();
      Advance();
      RETURN_IF_ERROR(ParseOrderBy(&s->order_by));
      s->order_by_span = SpanFrom(begin);
    } else if (AtKw("limit") || AtKw("offset") || AtKw("fetch")) {
      RETURN_IF_ERROR(ParseLimit(s));
      s->limit_span = Span{s->limit_span.empty() ? begin : s->limit_span.begin, PrevEnd()};
    } else if (AtKw("for")) {
      RETURN_IF_ERROR(ParseLocking(s));
      s->locking_span = Span{s->locking_span.empty() ? begin : s->locking_span.begin, PrevEnd()};
    } else {
      return absl::OkStatus();
    }
  }
}

absl::Status Parser::ParseLimit(SelectStmt* s) {
  if (AtKw("limit")) {
    if (s->limit || s->fetch) return Error();
    Advance();
    if (AcceptKw("all")) return absl::OkStatus();
    ASSIGN_OR_RETURN(s->limit, ParseExpr());
    if (Accept(TokenKind::kComma)) {  // SQLite: LIMIT offset, count
      if (s->offset) return Error();
      s->offset = std::move(s->limit);
      s->limit_comma = true;
      ASSIGN_OR_RETURN(s->limit, ParseExpr());
    }
    return absl::OkStatus();
  }
  if (AtKw("offset")) {
    if (s->offset) return Error();
    Advance();
    ASSIGN_OR_RETURN(s->offset, ParseExpr());
    if (!AcceptKw("rows")) AcceptKw("row");
    return absl::OkStatus();
  }
  // FETCH {FIRST | NEXT} [count] {ROW | ROWS} {ONLY | WITH TIES}
  if (s->limit || s->fetch) return Error();
  Advance();
  if (!AtKw("first") && !AtKw("next")) return Error();
  const Token& first = Cur();
  Advance();
  s->fetch = true;
  if (AtKw("row") || AtKw("rows")) {
    s->limit = std::make_unique<Expr>(ExprKind::kInteger);  // FETCH FIRST ROW: 1
    s->limit->int_value = 1;
    s->limit->float_value = 1;
    s->limit->span = Span{first.offset, first.end()};
  } else {
    ASSIGN_OR_RETURN(s->limit, ParseExpr(kPrecAdd));
  }
  if (!AcceptKw("rows")) RETURN_IF_ERROR(ExpectKw("row"));
  if (AcceptKw("with")) return ExpectKw("ties");
  return ExpectKw("only");
}

// FOR UPDATE | NO KEY UPDATE | SHARE | KEY SHARE [OF t, ...] [NOWAIT | SKIP LOCKED]
absl::Status Parser::ParseLocking(SelectStmt* s) {
  Advance();
  Locking lock;
  if (AcceptKw("update")) {
    lock = Locking::kUpdate;
  } else if (AcceptKw("no")) {
    RETURN_IF_ERROR(ExpectKw("key"));
    RETURN_IF_ERROR(ExpectKw("update"));
    lock = Locking::kNoKeyUpdate;
  } else if (AcceptKw("share")) {
    lock = Locking::kShare;
  } else {
    RETURN_IF_ERROR(ExpectKw("key"));
    RETURN_IF_ERROR(ExpectKw("share"));
    lock = Locking::kKeyShare;
  }
  if (s->locking == Locking::kNone) s->locking = lock;
  if (AcceptKw("of")) {
    do {
      RETURN_IF_ERROR(ParseTableName().status());
    } while (Accept(TokenKind::kComma));
  }
  if (!AcceptKw("nowait") && AcceptKw("skip")) RETURN_IF_ERROR(ExpectKw("locked"));
  return absl::OkStatus();
}

}  // namespace shale::gate::sql::internal
