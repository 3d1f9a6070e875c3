// Transaction control, SET / RESET / SHOW, COPY and EXPLAIN.

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "gate/sql/errors.h"
#include "gate/sql/parser_internal.h"

namespace shale::gate::sql::internal {
namespace {

// The value a SET/SHOW token stands for: strings unquoted, names as the
// lexer decoded them, anything else as written.
std::string TokenValue(const Token& t) {
  switch (t.kind) {
    case TokenKind::kString:
    case TokenKind::kIdentifier:
    case TokenKind::kQuotedIdentifier:
      return t.value;
    default:
      return std::string(t.text);
  }
}

}  // namespace

absl::Status Parser::ParseTransaction(Statement* st) {
  const std::string w = Cur().value;
  Advance();
  TransactionStmt tx;
  auto chain = [&]() -> absl::Status {
    if (!AcceptKw("and")) return absl::OkStatus();
    tx.chain = !AcceptKw("no");
    return ExpectKw("chain");
  };
  if (w == "begin" || w == "start") {
    st->kind = StatementKind::kBegin;
    if (w == "start") {
      RETURN_IF_ERROR(ExpectKw("transaction"));
    } else {
      if (AtKw("deferred") || AtKw("immediate") || AtKw("exclusive")) {
        tx.sqlite_mode = Cur().value;
        Advance();
      }
      if (!AcceptKw("transaction")) AcceptKw("work");
    }
    for (;;) {  // transaction modes, optionally comma-separated
      if (AcceptKw("isolation")) {
        RETURN_IF_ERROR(ExpectKw("level"));
        if (AcceptKw("serializable")) {
          tx.isolation = "serializable";
        } else if (AcceptKw("repeatable")) {
          RETURN_IF_ERROR(ExpectKw("read"));
          tx.isolation = "repeatable read";
        } else {
          RETURN_IF_ERROR(ExpectKw("read"));
          if (AcceptKw("committed")) {
            tx.isolation = "read committed";
          } else {
            RETURN_IF_ERROR(ExpectKw("uncommitted"));
            tx.isolation = "read uncommitted";
          }
        }
      } else if (AcceptKw("read")) {
        if (AcceptKw("only")) {
          tx.read_only = true;
        } else {
          RETURN_IF_ERROR(ExpectKw("write"));
          tx.read_only = false;
        }
      } else if (AcceptKw("deferrable")) {
        tx.deferrable = true;
      } else if (AtKw("not") && Peek(1).IsKeyword("deferrable")) {
        Advance();
        Advance();
        tx.deferrable = false;
      } else {
        break;
      }
      Accept(TokenKind::kComma);
    }
  } else if (w == "commit" || w == "end") {
    st->kind = StatementKind::kCommit;
    if (!AcceptKw("work")) AcceptKw("transaction");
    RETURN_IF_ERROR(chain());
  } else if (w == "rollback" || w == "abort") {
    if (!AcceptKw("work")) AcceptKw("transaction");
    if (AcceptKw("to")) {
      st->kind = StatementKind::kRollbackTo;
      AcceptKw("savepoint");
      ASSIGN_OR_RETURN(tx.savepoint, ParseColId());
    } else {
      st->kind = StatementKind::kRollback;
      RETURN_IF_ERROR(chain());
    }
  } else if (w == "savepoint") {
    st->kind = StatementKind::kSavepoint;
    ASSIGN_OR_RETURN(tx.savepoint, ParseColId());
  } else {  // release
    st->kind = StatementKind::kRelease;
    AcceptKw("savepoint");
    ASSIGN_OR_RETURN(tx.savepoint, ParseColId());
  }
  st->node = std::move(tx);
  return absl::OkStatus();
}

// Consumes the rest of a SET/SHOW statement as its value list.
static void RestAsValues(Parser* p, VariableStmt* v) {
  const uint32_t begin = p->Begin();
  while (!p->AtEnd()) {
    if (!p->At(TokenKind::kComma)) v->values.push_back(TokenValue(p->Cur()));
    p->Advance();
  }
  v->value_span = p->SpanFrom(begin);
  v->value = std::string(p->Text(v->value_span));
}

absl::Status Parser::ParseSet(Statement* st) {
  Advance();
  st->kind = StatementKind::kSet;
  VariableStmt v;
  const bool session_special =
      Peek(1).IsKeyword("authorization") || Peek(1).IsKeyword("characteristics");
  if (AtKw("session") && !session_special) {
    Advance();
    v.scope = VariableStmt::Scope::kSession;
  } else if (AcceptKw("local")) {
    v.scope = VariableStmt::Scope::kLocal;
  }
  // Forms with their own syntax keep the rest as the value.
  if (AtKw("time") && Peek(1).IsKeyword("zone")) {
    Advance();
    Advance();
    v.name = "timezone";
  } else if (AcceptKw("names")) {
    v.name = "client_encoding";
  } else if (AcceptKw("transaction")) {
    v.name = "transaction";
  } else if (AtKw("session") && Peek(1).IsKeyword("characteristics")) {
    Advance();
    Advance();
    RETURN_IF_ERROR(ExpectKw("as"));
    RETURN_IF_ERROR(ExpectKw("transaction"));
    v.name = "session characteristics";
  } else if (AtKw("session") && Peek(1).IsKeyword("authorization")) {
    Advance();
    Advance();
    v.name = "session authorization";
  } else if (AcceptKw("role")) {
    v.name = "role";
  } else if (AcceptKw("schema")) {
    v.name = "search_path";
  } else if (AcceptKw("constraints")) {  // SET CONSTRAINTS ALL DEFERRED
    v.name = "constraints";
  } else if (AtKw("xml") && Peek(1).IsKeyword("option")) {
    Advance();
    Advance();
    v.name = "xmloption";
  }
  if (!v.name.empty()) {
    if (AtEnd()) return Error();
    RestAsValues(this, &v);
    st->node = std::move(v);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Name name, ParseAnyName());
  v.name = std::move(name.value);
  while (Accept(TokenKind::kDot)) {
    ASSIGN_OR_RETURN(Name part, ParseAnyName());
    absl::StrAppend(&v.name, ".", part.value);
  }
  if (!AcceptKw("to") && !AcceptOp("=")) return Error();
  const uint32_t begin = Begin();
  if (AtKw("default")) {
    Advance();
    v.to_default = true;
  } else {
    do {
      std::string sign;
      if (AtOp("-") || AtOp("+")) {
        sign = std::string(Cur().text);
        Advance();
        if (!At(TokenKind::kNumber)) return Error();
      }
      const Token& t = Cur();
      if (t.kind != TokenKind::kString && t.kind != TokenKind::kNumber &&
          t.kind != TokenKind::kIdentifier && t.kind != TokenKind::kQuotedIdentifier) {
        return Error();
      }
      v.values.push_back(absl::StrCat(sign, TokenValue(t)));
      Advance();
    } while (Accept(TokenKind::kComma));
  }
  v.value_span = SpanFrom(begin);
  v.value = std::string(Text(v.value_span));
  st->node = std::move(v);
  return absl::OkStatus();
}

absl::Status Parser::ParseResetShow(Statement* st) {
  const bool show = AtKw("show");
  st->kind = show ? StatementKind::kShow : StatementKind::kReset;
  Advance();
  VariableStmt v;
  if (AtKw("time") && Peek(1).IsKeyword("zone")) {
    Advance();
    Advance();
    v.name = "timezone";
  } else if (AtKw("transaction") && Peek(1).IsKeyword("isolation")) {
    Advance();
    Advance();
    RETURN_IF_ERROR(ExpectKw("level"));
    v.name = "transaction_isolation";
  } else if (AtKw("session") && Peek(1).IsKeyword("authorization")) {
    Advance();
    Advance();
    v.name = "session_authorization";
  } else {
    ASSIGN_OR_RETURN(Name name, ParseAnyName());
    v.name = std::move(name.value);
    while (Accept(TokenKind::kDot)) {
      ASSIGN_OR_RETURN(Name part, ParseAnyName());
      absl::StrAppend(&v.name, ".", part.value);
    }
  }
  // SHOW SHARDS FROM ks and the like: the gateway reads the arguments.
  if (show && !AtEnd()) RestAsValues(this, &v);
  st->node = std::move(v);
  return absl::OkStatus();
}

absl::Status Parser::ParseCopy(Statement* st) {
  Advance();
  st->kind = StatementKind::kCopy;
  CopyStmt c;
  if (AcceptKw("binary")) c.format = CopyStmt::Format::kBinary;
  if (Accept(TokenKind::kLParen)) {
    if (!AtQueryStart() && !At(TokenKind::kLParen)) return Error();
    ASSIGN_OR_RETURN(c.query, ParseSelectStmt());
    RETURN_IF_ERROR(Expect(TokenKind::kRParen));
  } else {
    ASSIGN_OR_RETURN(c.table, ParseTableName());
    if (At(TokenKind::kLParen)) RETURN_IF_ERROR(ParseNameList(&c.columns, nullptr));
  }
  if (AcceptKw("to")) {
    c.direction = CopyStmt::Direction::kTo;
  } else {
    RETURN_IF_ERROR(ExpectKw("from"));
  }
  if (AcceptKw("stdin")) {
    c.endpoint = CopyStmt::Endpoint::kStdin;
  } else if (AcceptKw("stdout")) {
    c.endpoint = CopyStmt::Endpoint::kStdout;
  } else {
    c.endpoint = AcceptKw("program") ? CopyStmt::Endpoint::kProgram : CopyStmt::Endpoint::kFile;
    if (!At(TokenKind::kString)) return Error();
    c.file = Cur().value;
    Advance();
  }
  const uint32_t options_begin = Begin();
  AcceptKw("with");
  RETURN_IF_ERROR(ParseCopyOptions(&c));
  if (c.direction == CopyStmt::Direction::kFrom && AcceptKw("where")) {
    ASSIGN_OR_RETURN(c.where, ParseExpr());
  }
  c.options_span = SpanFrom(options_begin);
  st->node = std::move(c);
  return absl::OkStatus();
}

// New style: ( FORMAT csv, DELIMITER ',', HEADER [bool], NULL 'x', ... ).
// Old style: [BINARY] [DELIMITER [AS] 'x'] [NULL [AS] 'x'] [CSV [HEADER]
// [QUOTE [AS] 'q'] [ESCAPE [AS] 'e'] [FORCE QUOTE ... | FORCE NOT NULL ...]].
absl::Status Parser::ParseCopyOptions(CopyStmt* c) {
  auto string_value = [&](std::optional<std::string>* out) -> absl::Status {
    AcceptKw("as");
    if (!At(TokenKind::kString)) return Error();
    *out = Cur().value;
    Advance();
    return absl::OkStatus();
  };
  if (Accept(TokenKind::kLParen)) {
    do {
      const Token& opt = Cur();
      ASSIGN_OR_RETURN(Name name, ParseAnyName());
      const std::string& n = name.value;
      if (n == "format") {
        const Token& f = Cur();
        if (f.IsKeyword("csv") || (f.kind == TokenKind::kString && f.value == "csv")) {
          c->format = CopyStmt::Format::kCsv;
        } else if (f.IsKeyword("text") || (f.kind == TokenKind::kString && f.value == "text")) {
          c->format = CopyStmt::Format::kText;
        } else if (f.IsKeyword("binary") || (f.kind == TokenKind::kString && f.value == "binary")) {
          c->format = CopyStmt::Format::kBinary;
        } else if (f.kind == TokenKind::kIdentifier || f.kind == TokenKind::kString) {
          return WithErrorPosition(
              SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kInvalidParameterValue,
                       absl::StrCat("COPY format \"", f.value, "\" not recognized")),
              CharPosition(sql_, f.offset));
        } else {
          return Error();
        }
        Advance();
      } else if (n == "delimiter") {
        RETURN_IF_ERROR(string_value(&c->delimiter));
      } else if (n == "null") {
        RETURN_IF_ERROR(string_value(&c->null_string));
      } else if (n == "quote") {
        RETURN_IF_ERROR(string_value(&c->quote));
      } else if (n == "escape") {
        RETURN_IF_ERROR(string_value(&c->escape));
      } else if (n == "encoding") {
        RETURN_IF_ERROR(string_value(&c->encoding));
      } else if (n == "header") {
        c->header = true;
        if (AtKw("false") || AtKw("off") || (At(TokenKind::kNumber) && Cur().text == "0")) {
          c->header = false;
        }
        if (!At(TokenKind::kComma) && !At(TokenKind::kRParen)) Advance();
      } else if (n == "freeze" || n == "force_quote" || n == "force_not_null" ||
                 n == "force_null" || n == "default" || n == "oids") {
        if (At(TokenKind::kLParen)) {
          RETURN_IF_ERROR(SkipBalanced());
        } else if (!At(TokenKind::kComma) && !At(TokenKind::kRParen)) {
          Advance();
        }
      } else {
        return SyntaxErrorAt(sql_, opt.offset, absl::StrCat("option \"", n, "\" not recognized"));
      }
    } while (Accept(TokenKind::kComma));
    return Expect(TokenKind::kRParen);
  }
  for (;;) {
    if (AcceptKw("binary")) {
      c->format = CopyStmt::Format::kBinary;
    } else if (AcceptKw("csv")) {
      c->format = CopyStmt::Format::kCsv;
    } else if (AcceptKw("header")) {
      c->header = true;
    } else if (AcceptKw("delimiter")) {
      RETURN_IF_ERROR(string_value(&c->delimiter));
    } else if (AcceptKw("null")) {
      RETURN_IF_ERROR(string_value(&c->null_string));
    } else if (AcceptKw("quote")) {
      RETURN_IF_ERROR(string_value(&c->quote));
    } else if (AcceptKw("escape")) {
      RETURN_IF_ERROR(string_value(&c->escape));
    } else if (AcceptKw("encoding")) {
      RETURN_IF_ERROR(string_value(&c->encoding));
    } else if (AcceptKw("freeze")) {
    } else if (AcceptKw("force")) {
      if (AcceptKw("not"))
        RETURN_IF_ERROR(ExpectKw("null"));
      else if (!AcceptKw("null"))
        RETURN_IF_ERROR(ExpectKw("quote"));
      if (!AcceptOp("*")) {
        do {
          RETURN_IF_ERROR(ParseAnyName().status());
        } while (Accept(TokenKind::kComma));
      }
    } else {
      return absl::OkStatus();
    }
  }
}

absl::Status Parser::ParseExplain(Statement* st) {
  Advance();
  st->kind = StatementKind::kExplain;
  ExplainStmt ex;
  const uint32_t options_begin = Begin();
  if (AtKw("query") && Peek(1).IsKeyword("plan")) {
    Advance();
    Advance();
    ex.query_plan = true;
  } else if (At(TokenKind::kLParen) && !AtQueryStart(1) && Peek(1).kind != TokenKind::kLParen) {
    RETURN_IF_ERROR(SkipBalanced());
  } else {
    ex.analyze = AcceptKw("analyze") || AcceptKw("analyse");
    AcceptKw("verbose");
  }
  ex.options = SpanFrom(options_begin);
  ex.inner = std::make_unique<Statement>();
  const uint32_t begin = Begin();
  RETURN_IF_ERROR(ParseStatement(ex.inner.get()));
  ex.inner->span = SpanFrom(begin);
  st->node = std::move(ex);
  return absl::OkStatus();
}

}  // namespace shale::gate::sql::internal
