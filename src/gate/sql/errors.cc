#include "gate/sql/errors.h"

#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"

namespace shale::gate::sql {

int CharPosition(absl::string_view sql, size_t offset) {
  if (offset > sql.size()) offset = sql.size();
  int chars = 0;
  for (size_t i = 0; i < offset; ++i) {
    if ((static_cast<unsigned char>(sql[i]) & 0xC0) != 0x80) ++chars;
  }
  return chars + 1;
}

std::string QuoteNear(absl::string_view text) {
  constexpr size_t kMax = 100;
  if (text.size() > kMax) {
    size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut);
  }
  std::string out = "\"";
  for (char c : text) out.push_back(c == '\0' ? '?' : c);
  out.push_back('"');
  return out;
}

absl::Status SyntaxErrorAt(absl::string_view sql, size_t offset, absl::string_view message) {
  return WithErrorPosition(
      SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kSyntaxError, message),
      CharPosition(sql, offset));
}

absl::Status SyntaxErrorNear(absl::string_view sql, const Token& token) {
  if (token.kind == TokenKind::kEnd) {
    return SyntaxErrorAt(sql, token.offset, "syntax error at end of input");
  }
  return SyntaxErrorAt(sql, token.offset,
                       absl::StrCat("syntax error at or near ", QuoteNear(token.text)));
}

absl::Status TooComplexError(absl::string_view sql, size_t offset) {
  return WithErrorPosition(
      SqlError(absl::StatusCode::kResourceExhausted, "54001", "statement is too complex"),
      CharPosition(sql, offset));
}

absl::Status TooLongError(size_t size) {
  return SqlError(
      absl::StatusCode::kResourceExhausted, sqlstate::kProgramLimitExceeded,
      absl::StrCat("statement is too long (", size, " bytes, at most ", kMaxStatementBytes, ")"));
}

}  // namespace shale::gate::sql
