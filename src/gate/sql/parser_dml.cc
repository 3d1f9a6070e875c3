// INSERT / REPLACE, UPDATE and DELETE.

#include <utility>

#include "base/status_macros.h"
#include "gate/sql/parser_internal.h"

namespace shale::gate::sql::internal {
namespace {

// The word after INSERT OR / UPDATE OR (SQLite conflict resolution).
bool ToOrAction(const Token& t, OrAction* out) {
  if (t.kind != TokenKind::kIdentifier) return false;
  if (t.value == "replace") {
    *out = OrAction::kReplace;
  } else if (t.value == "ignore") {
    *out = OrAction::kIgnore;
  } else if (t.value == "abort") {
    *out = OrAction::kAbort;
  } else if (t.value == "fail") {
    *out = OrAction::kFail;
  } else if (t.value == "rollback") {
    *out = OrAction::kRollback;
  } else {
    return false;
  }
  return true;
}

}  // namespace

absl::Status Parser::ParseInsert(Statement* st, std::vector<Cte> ctes) {
  InsertStmt ins;
  ins.ctes = std::move(ctes);
  if (AcceptKw("replace")) {
    ins.replace_into = true;
    ins.or_action = OrAction::kReplace;
  } else {
    RETURN_IF_ERROR(ExpectKw("insert"));
    if (AcceptKw("or")) {
      if (!ToOrAction(Cur(), &ins.or_action)) return Error();
      Advance();
    }
  }
  RETURN_IF_ERROR(ExpectKw("into"));
  ASSIGN_OR_RETURN(ins.table, ParseTableName());
  RETURN_IF_ERROR(ParseAlias(&ins.alias, /*allow_bare=*/false));
  if (At(TokenKind::kLParen) && !AtQueryStart(1)) {
    RETURN_IF_ERROR(ParseNameList(&ins.columns, &ins.columns_span));
  }
  if (AcceptKw("overriding")) {  // OVERRIDING {SYSTEM | USER} VALUE
    if (!AcceptKw("system")) RETURN_IF_ERROR(ExpectKw("user"));
    RETURN_IF_ERROR(ExpectKw("value"));
  }
  if (AtKw("default") && Peek(1).IsKeyword("values")) {
    Advance();
    Advance();
    ins.source = InsertStmt::Source::kDefaultValues;
  } else if (AcceptKw("values")) {
    ins.source = InsertStmt::Source::kValues;
    RETURN_IF_ERROR(ParseValuesRows(&ins.rows));
  } else if (AtQueryStart() || At(TokenKind::kLParen)) {
    ins.source = InsertStmt::Source::kSelect;
    ASSIGN_OR_RETURN(ins.select, ParseSelectStmt());
  } else {
    return Error();
  }
  while (AtKw("on") && Peek(1).IsKeyword("conflict")) {
    const uint32_t begin = Begin();
    Advance();
    Advance();
    OnConflict oc;
    if (Accept(TokenKind::kLParen)) {
      RETURN_IF_ERROR(ParseExprList(&oc.target));
      RETURN_IF_ERROR(Expect(TokenKind::kRParen));
      if (AcceptKw("where")) {
        ASSIGN_OR_RETURN(oc.target_where, ParseExpr());
      }
    } else if (AcceptKw("on")) {
      RETURN_IF_ERROR(ExpectKw("constraint"));
      ASSIGN_OR_RETURN(oc.constraint, ParseAnyName());
    }
    RETURN_IF_ERROR(ExpectKw("do"));
    if (!AcceptKw("nothing")) {
      RETURN_IF_ERROR(ExpectKw("update"));
      RETURN_IF_ERROR(ExpectKw("set"));
      oc.do_update = true;
      RETURN_IF_ERROR(ParseAssignments(&oc.set));
      if (AcceptKw("where")) {
        ASSIGN_OR_RETURN(oc.where, ParseExpr());
      }
    }
    oc.span = SpanFrom(begin);
    ins.on_conflict_span =
        Span{ins.on_conflict.empty() ? begin : ins.on_conflict_span.begin, PrevEnd()};
    ins.on_conflict.push_back(std::move(oc));
  }
  if (AtKw("returning")) RETURN_IF_ERROR(ParseReturning(&ins.returning, &ins.returning_span));
  st->kind = StatementKind::kInsert;
  st->node = std::move(ins);
  return absl::OkStatus();
}

absl::Status Parser::ParseUpdate(Statement* st, std::vector<Cte> ctes) {
  UpdateStmt up;
  up.ctes = std::move(ctes);
  Advance();
  if (AcceptKw("or")) {
    if (!ToOrAction(Cur(), &up.or_action)) return Error();
    Advance();
  }
  AcceptKw("only");
  ASSIGN_OR_RETURN(up.table, ParseTableName());
  AcceptOp("*");
  RETURN_IF_ERROR(ParseAlias(&up.alias, /*allow_bare=*/true, "set"));
  RETURN_IF_ERROR(ExpectKw("set"));
  const uint32_t set_begin = Begin();
  RETURN_IF_ERROR(ParseAssignments(&up.set));
  up.set_span = SpanFrom(set_begin);
  if (AcceptKw("from")) {
    Span from_span;
    RETURN_IF_ERROR(ParseFromList(&up.from, &from_span));
  }
  if (AcceptKw("where")) {
    ASSIGN_OR_RETURN(up.where, ParseExpr());
  }
  if (AtKw("returning")) RETURN_IF_ERROR(ParseReturning(&up.returning, &up.returning_span));
  st->kind = StatementKind::kUpdate;
  st->node = std::move(up);
  return absl::OkStatus();
}

absl::Status Parser::ParseDelete(Statement* st, std::vector<Cte> ctes) {
  DeleteStmt del;
  del.ctes = std::move(ctes);
  Advance();
  RETURN_IF_ERROR(ExpectKw("from"));
  AcceptKw("only");
  ASSIGN_OR_RETURN(del.table, ParseTableName());
  AcceptOp("*");
  RETURN_IF_ERROR(ParseAlias(&del.alias, /*allow_bare=*/true));
  if (AcceptKw("using")) {
    Span using_span;
    RETURN_IF_ERROR(ParseFromList(&del.using_tables, &using_span));
  }
  if (AcceptKw("where")) {
    ASSIGN_OR_RETURN(del.where, ParseExpr());
  }
  if (AtKw("returning")) RETURN_IF_ERROR(ParseReturning(&del.returning, &del.returning_span));
  st->kind = StatementKind::kDelete;
  st->node = std::move(del);
  return absl::OkStatus();
}

// a = v [, (b, c) = (v, w) ...]
absl::Status Parser::ParseAssignments(std::vector<Assignment>* set) {
  do {
    Assignment a;
    const uint32_t begin = Begin();
    if (At(TokenKind::kLParen)) {
      RETURN_IF_ERROR(ParseNameList(&a.columns, nullptr));
    } else {
      ASSIGN_OR_RETURN(Name column, ParseColId());
      a.columns.push_back(std::move(column));
    }
    if (!AcceptOp("=")) return Error();
    ASSIGN_OR_RETURN(a.value, ParseExpr());
    a.span = SpanFrom(begin);
    set->push_back(std::move(a));
  } while (Accept(TokenKind::kComma));
  return absl::OkStatus();
}

absl::Status Parser::ParseReturning(std::vector<SelectItem>* items, Span* span) {
  const uint32_t begin = Begin();
  Advance();
  Span items_span;
  RETURN_IF_ERROR(ParseSelectItems(items, &items_span));
  *span = SpanFrom(begin);
  return absl::OkStatus();
}

}  // namespace shale::gate::sql::internal
