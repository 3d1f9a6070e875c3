#pragma once

// The statement parser: one statement of the routing-relevant SQL subset
// (README.md) into a Statement (ast.h). Stateless, safe from any thread.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gate/sql/ast.h"

namespace shale::gate::sql {

// Parses exactly one statement; a trailing ';' is allowed, and text of only
// white space and comments gives a kEmpty statement. Statements the gateway
// does not need to understand (PRAGMA, VACUUM, LISTEN, ...) come back as
// kOther. The result keeps a copy of sql.
//
// Errors, each with the 1-based character position of the offending token:
//  - InvalidArgument, SQLSTATE 42601: lexical errors (lexer.h), `syntax error
//    at or near "X"` / `syntax error at end of input` for a malformed
//    statement of a known kind, "cannot insert multiple commands into a
//    prepared statement" for more than one statement;
//  - InvalidArgument, SQLSTATE 42P02: `there is no parameter $0`;
//  - ResourceExhausted, SQLSTATE 54001: "statement is too complex" (nesting
//    deeper than kMaxNestingDepth, or expressions taller than
//    kMaxExprHeight), 54000 for text longer than kMaxStatementBytes.
absl::StatusOr<Statement> Parse(absl::string_view sql);

}  // namespace shale::gate::sql
