// CREATE/DROP TABLE, INDEX, VIEW, TRIGGER and ALTER TABLE: the names and
// flags the gateway needs; bodies are only checked for balanced parentheses.
// Other CREATE/DROP/ALTER statements are kOther.

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "gate/sql/parser_internal.h"

namespace shale::gate::sql::internal {
namespace {

// Words that end a column's type and start its constraints.
bool IsColumnConstraintStart(const Token& t) {
  if (t.kind != TokenKind::kIdentifier) return false;
  const std::string& w = t.value;
  return w == "constraint" || w == "primary" || w == "not" || w == "null" || w == "unique" ||
         w == "check" || w == "default" || w == "references" || w == "collate" ||
         w == "generated" || w == "as";
}

bool IsTableConstraintStart(const Token& t, const Token& next) {
  if (t.kind != TokenKind::kIdentifier) return false;
  const std::string& w = t.value;
  if (w == "exclude") {  // not reserved: also a column name
    return next.kind == TokenKind::kLParen || next.IsKeyword("using");
  }
  return w == "constraint" || w == "primary" || w == "unique" || w == "check" || w == "foreign" ||
         w == "like";
}

}  // namespace

absl::Status Parser::ParseCreate(Statement* st) {
  const size_t start = Position();
  Advance();
  DdlStmt ddl;
  if (AtKw("or") && Peek(1).IsKeyword("replace")) {
    Advance();
    Advance();
    ddl.or_replace = true;
  }
  if (AtKw("global") || AtKw("local")) Advance();
  if (AcceptKw("temp") || AcceptKw("temporary")) ddl.temporary = true;
  AcceptKw("unlogged");
  if (AcceptKw("unique")) ddl.unique = true;
  AcceptKw("recursive");  // CREATE RECURSIVE VIEW
  auto if_not_exists = [&]() -> absl::Status {
    if (!AcceptKw("if")) return absl::OkStatus();
    RETURN_IF_ERROR(ExpectKw("not"));
    RETURN_IF_ERROR(ExpectKw("exists"));
    ddl.if_not_exists = true;
    return absl::OkStatus();
  };
  if (AcceptKw("table")) {
    st->kind = StatementKind::kCreateTable;
    RETURN_IF_ERROR(if_not_exists());
    ASSIGN_OR_RETURN(ddl.object, ParseTableName());
    ddl.table = ddl.object;
    const bool has_columns = At(TokenKind::kLParen);
    if (has_columns) RETURN_IF_ERROR(ParseCreateTableColumns(&ddl));
    if (AcceptKw("as")) {
      if (!AtQueryStart() && !At(TokenKind::kLParen)) return Error();
      ASSIGN_OR_RETURN(ddl.query, ParseSelectStmt());
    } else if (!has_columns && !AtKw("partition") && !AtKw("of")) {
      return Error();
    }
    // Table options: WITHOUT ROWID, STRICT, WITH (...), PARTITION BY, ...
    while (!AtEnd()) {
      if (AtKw("distributed")) {
        RETURN_IF_ERROR(ParseDistributed(&ddl));
        continue;
      }
      if (AtKw("without") && Peek(1).IsKeyword("rowid")) ddl.without_rowid = true;
      if (At(TokenKind::kLParen)) {
        RETURN_IF_ERROR(SkipBalanced());
      } else if (At(TokenKind::kRParen)) {
        return Error();
      } else {
        Advance();
      }
    }
  } else if (AcceptKw("index")) {
    st->kind = StatementKind::kCreateIndex;
    AcceptKw("concurrently");
    RETURN_IF_ERROR(if_not_exists());
    if (!AtKw("on")) {
      ASSIGN_OR_RETURN(ddl.object, ParseTableName());
    }
    RETURN_IF_ERROR(ExpectKw("on"));
    AcceptKw("only");
    ASSIGN_OR_RETURN(ddl.table, ParseTableName());
    if (AcceptKw("using")) RETURN_IF_ERROR(ParseAnyName().status());
    if (!At(TokenKind::kLParen)) return Error();
    const uint32_t begin = Begin();
    RETURN_IF_ERROR(SkipBalanced());
    ddl.columns_span = SpanFrom(begin);
    RETURN_IF_ERROR(SkipToEnd());  // INCLUDE (...), WITH (...), WHERE ...
  } else if (AcceptKw("view")) {
    st->kind = StatementKind::kCreateView;
    RETURN_IF_ERROR(if_not_exists());
    ASSIGN_OR_RETURN(ddl.object, ParseTableName());
    ddl.table = ddl.object;
    if (At(TokenKind::kLParen)) {
      std::vector<Name> columns;
      RETURN_IF_ERROR(ParseNameList(&columns, nullptr));
    }
    if (AcceptKw("with")) RETURN_IF_ERROR(SkipBalanced());
    RETURN_IF_ERROR(ExpectKw("as"));
    if (!AtQueryStart() && !At(TokenKind::kLParen)) return Error();
    ASSIGN_OR_RETURN(ddl.query, ParseSelectStmt());
    RETURN_IF_ERROR(SkipToEnd());  // WITH [CASCADED | LOCAL] CHECK OPTION
  } else if (AcceptKw("trigger") || (AcceptKw("constraint") && AcceptKw("trigger"))) {
    st->kind = StatementKind::kCreateTrigger;
    RETURN_IF_ERROR(if_not_exists());
    ASSIGN_OR_RETURN(ddl.object, ParseTableName());
    while (!AtKw("on")) {  // BEFORE / AFTER / INSTEAD OF events
      if (At(TokenKind::kEnd) || At(TokenKind::kSemicolon)) return Error();
      Advance();
    }
    Advance();
    ASSIGN_OR_RETURN(ddl.table, ParseTableName());
    const uint32_t begin = Begin();
    SkipRest();  // the body may hold ';' (SQLite BEGIN ... END)
    ddl.body = SpanFrom(begin);
  } else {
    Rewind(start);
    return ParseOther(st);
  }
  st->node = std::move(ddl);
  return absl::OkStatus();
}

// DISTRIBUTED BY (col) | DISTRIBUTED REPLICATED, once per statement.
absl::Status Parser::ParseDistributed(DdlStmt* ddl) {
  const uint32_t begin = Begin();
  if (!ddl->distributed_span.empty()) return Error();
  Advance();
  if (AcceptKw("replicated")) {
    ddl->distributed_replicated = true;
  } else {
    RETURN_IF_ERROR(ExpectKw("by"));
    std::vector<Name> columns;
    RETURN_IF_ERROR(ParseNameList(&columns, nullptr));
    if (columns.size() != 1) return Error();
    ddl->distributed_by = std::move(columns.front());
  }
  ddl->distributed_span = SpanFrom(begin);
  return absl::OkStatus();
}

// ( column type constraints, ..., table constraints ) of CREATE TABLE.
absl::Status Parser::ParseCreateTableColumns(DdlStmt* ddl) {
  const uint32_t begin = Begin();
  Advance();
  // Skips to the ',' or ')' that ends the current element.
  auto skip_element = [&](ColumnDef* col) -> absl::Status {
    int depth = 0;
    while (depth > 0 || (!At(TokenKind::kComma) && !At(TokenKind::kRParen))) {
      if (At(TokenKind::kEnd)) return Error();
      if (col != nullptr && depth == 0 && AtKw("primary") && Peek(1).IsKeyword("key")) {
        col->primary_key = true;
        ddl->primary_key.push_back(col->name);
      }
      if (At(TokenKind::kLParen)) ++depth;
      if (At(TokenKind::kRParen)) --depth;
      Advance();
    }
    return absl::OkStatus();
  };
  if (!At(TokenKind::kRParen)) {
    do {
      const uint32_t elem_begin = Begin();
      if (IsTableConstraintStart(Cur(), Peek(1))) {
        if (AcceptKw("constraint")) RETURN_IF_ERROR(ParseAnyName().status());
        if (AcceptKw("primary")) {
          RETURN_IF_ERROR(ExpectKw("key"));
          RETURN_IF_ERROR(Expect(TokenKind::kLParen));
          do {  // a [COLLATE x] [ASC | DESC]
            ASSIGN_OR_RETURN(Name key, ParseAnyName());
            ddl->primary_key.push_back(std::move(key));
            while (!At(TokenKind::kComma) && !At(TokenKind::kRParen)) {
              if (At(TokenKind::kEnd) || At(TokenKind::kLParen)) return Error();
              Advance();
            }
          } while (Accept(TokenKind::kComma));
          RETURN_IF_ERROR(Expect(TokenKind::kRParen));
        }
        RETURN_IF_ERROR(skip_element(nullptr));
        continue;
      }
      ColumnDef col;
      ASSIGN_OR_RETURN(col.name, ParseAnyName());
      const uint32_t type_begin = Begin();
      int depth = 0;
      while (depth > 0 || (!At(TokenKind::kComma) && !At(TokenKind::kRParen) &&
                           !IsColumnConstraintStart(Cur()))) {
        if (At(TokenKind::kEnd)) return Error();
        if (At(TokenKind::kLParen)) ++depth;
        if (At(TokenKind::kRParen)) --depth;
        Advance();
      }
      if (Begin() > type_begin) col.type = std::string(Text(SpanFrom(type_begin)));
      RETURN_IF_ERROR(skip_element(&col));
      col.span = SpanFrom(elem_begin);
      ddl->columns.push_back(std::move(col));
    } while (Accept(TokenKind::kComma));
  }
  RETURN_IF_ERROR(Expect(TokenKind::kRParen));
  ddl->columns_span = SpanFrom(begin);
  return absl::OkStatus();
}

absl::Status Parser::ParseDrop(Statement* st) {
  const size_t start = Position();
  Advance();
  if (AcceptKw("table")) {
    st->kind = StatementKind::kDropTable;
  } else if (AcceptKw("index")) {
    st->kind = StatementKind::kDropIndex;
    AcceptKw("concurrently");
  } else if (AcceptKw("view")) {
    st->kind = StatementKind::kDropView;
  } else if (AcceptKw("trigger")) {
    st->kind = StatementKind::kDropTrigger;
  } else {
    Rewind(start);
    return ParseOther(st);
  }
  DdlStmt ddl;
  if (AcceptKw("if")) {
    RETURN_IF_ERROR(ExpectKw("exists"));
    ddl.if_exists = true;
  }
  do {
    ASSIGN_OR_RETURN(TableName name, ParseTableName());
    ddl.objects.push_back(std::move(name));
  } while (Accept(TokenKind::kComma));
  ddl.object = ddl.objects.front();
  if (st->kind == StatementKind::kDropTable) ddl.table = ddl.object;
  if (st->kind == StatementKind::kDropTrigger && AcceptKw("on")) {
    ASSIGN_OR_RETURN(ddl.table, ParseTableName());
  }
  if (AcceptKw("cascade")) {
    ddl.cascade = true;
  } else {
    AcceptKw("restrict");
  }
  st->node = std::move(ddl);
  return absl::OkStatus();
}

absl::Status Parser::ParseAlter(Statement* st) {
  const size_t start = Position();
  Advance();
  if (!AcceptKw("table")) {
    Rewind(start);
    return ParseOther(st);
  }
  st->kind = StatementKind::kAlterTable;
  DdlStmt ddl;
  if (AcceptKw("if")) {
    RETURN_IF_ERROR(ExpectKw("exists"));
    ddl.if_exists = true;
  }
  AcceptKw("only");
  ASSIGN_OR_RETURN(ddl.object, ParseTableName());
  AcceptOp("*");
  ddl.table = ddl.object;
  if (!At(TokenKind::kIdentifier)) return Error();
  ddl.alter_action = Cur().value;
  const Token& second = Peek(1);
  if (second.IsKeyword("column") || second.IsKeyword("constraint") || second.IsKeyword("to")) {
    absl::StrAppend(&ddl.alter_action, " ", second.value);
  }
  const uint32_t begin = Begin();
  RETURN_IF_ERROR(SkipToEnd());
  ddl.body = SpanFrom(begin);
  st->node = std::move(ddl);
  return absl::OkStatus();
}

}  // namespace shale::gate::sql::internal
