#pragma once

// Error statuses of the SQL lexer and parser, worded as PostgreSQL words them
// so the gateway can hand them to clients unchanged.

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gate/sql/token.h"

namespace shale::gate::sql {

// Nesting deeper than this (parentheses, subqueries, unary operators) is
// refused with TooComplexError, as is an expression tree taller than
// kMaxExprHeight (long left-deep operator chains such as 1+1+1+...).
inline constexpr int kMaxNestingDepth = 200;
inline constexpr int kMaxExprHeight = 1000;
// Statements longer than this are refused (program_limit_exceeded).
inline constexpr size_t kMaxStatementBytes = size_t{64} << 20;

// 1-based character (not byte) position of byte `offset` in sql, counting
// UTF-8 sequences as one character, as PostgreSQL reports positions.
int CharPosition(absl::string_view sql, size_t offset);

// `text` quoted for "at or near" messages: at most ~100 bytes (cut on a
// UTF-8 boundary) and with NUL bytes replaced, inside double quotes.
std::string QuoteNear(absl::string_view text);

// InvalidArgument, SQLSTATE 42601, message as given, position of `offset`.
absl::Status SyntaxErrorAt(absl::string_view sql, size_t offset, absl::string_view message);

// `syntax error at or near "X"` for token X, or `syntax error at end of
// input` for the end token; InvalidArgument / 42601 with the token position.
absl::Status SyntaxErrorNear(absl::string_view sql, const Token& token);

// ResourceExhausted, SQLSTATE 54001: "statement is too complex".
absl::Status TooComplexError(absl::string_view sql, size_t offset);

// ResourceExhausted, SQLSTATE 54000: "statement is too long".
absl::Status TooLongError(size_t size);

}  // namespace shale::gate::sql
