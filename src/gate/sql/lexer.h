#pragma once

// The SQL lexer: PostgreSQL's lexical rules (quoted identifiers, E'' and
// dollar-quoted strings, $n parameters, operator runs, nested comments) plus
// SQLite's X'' blobs and 0x integers. Stateless functions, safe from any
// thread; results point into the input, which must outlive them.

#include <cstddef>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gate/sql/token.h"

namespace shale::gate::sql {

// Reads tokens one at a time. Confined to one thread; borrows sql.
class Lexer {
 public:
  explicit Lexer(absl::string_view sql) : sql_(sql) {}

  // Fills *token with the next token, skipping white space and comments
  // (`--` to end of line, nested /* */). At the end it returns a kEnd token,
  // again on every later call. Errors (InvalidArgument, SQLSTATE 42601, with
  // the 1-based character position of the offending token): unterminated
  // quoted string / quoted identifier / dollar-quoted string / comment, a
  // zero-length quoted identifier, a bad blob literal or escape, a character
  // that starts no token. After an error the lexer should not be used again.
  absl::Status Next(Token* token);

 private:
  absl::Status SkipSpaceAndComments();
  absl::Status LexWord(Token* t);
  absl::Status LexNumber(Token* t);
  absl::Status LexString(Token* t, size_t body, bool escapes);
  absl::Status LexBlob(Token* t);
  absl::Status LexQuotedIdentifier(Token* t);
  absl::Status LexDollar(Token* t);
  void LexOperator(Token* t);
  void Finish(Token* t, TokenKind kind, size_t end);
  absl::Status Unterminated(absl::string_view what) const;

  absl::string_view sql_;
  size_t pos_ = 0;
  size_t start_ = 0;  // offset of the token being read
};

// All tokens of sql, ending with one kEnd token. Errors: those of
// Lexer::Next; ResourceExhausted (54000) when sql is longer than
// kMaxStatementBytes.
absl::StatusOr<std::vector<Token>> Lex(absl::string_view sql);

// Splits a query string holding several statements on top-level `;`
// (quotes, comments and dollar quotes respected). The BEGIN ... END body of
// CREATE TRIGGER (SQLite) and the BEGIN ATOMIC ... END body of CREATE
// FUNCTION/PROCEDURE stay in one statement. Each piece is trimmed of white
// space; pieces with no tokens (only space or comments) are dropped. Errors:
// those of Lex.
absl::StatusOr<std::vector<absl::string_view>> SplitStatements(absl::string_view sql);

}  // namespace shale::gate::sql
