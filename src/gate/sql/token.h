#pragma once

// Tokens produced by the SQL lexer (lexer.h). A token is a view into the
// statement text plus, for identifiers and literals, its decoded value.

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace shale::gate::sql {

enum class TokenKind : uint8_t {
  kIdentifier,        // unquoted name or keyword; value is lower-cased (ASCII only)
  kQuotedIdentifier,  // "a""b": value a"b, case kept
  kString,            // 'it''s', E'\n', $$..$$, $tag$..$tag$, N'..': value is the decoded content
  kBlob,              // X'0a1b': value is the hex digits as written
  kNumber,            // 12, 1.5, .5, 1e-3, 0x1F: value is the text
  kParam,             // $n with n >= 0 (the parser refuses $0): Token::param holds n
  kOperator,          // + - * / < > = ~ ! @ # % ^ & | ` ? runs, and :: and :
  kLParen,            // (
  kRParen,            // )
  kComma,             // ,
  kSemicolon,         // ;
  kDot,               // .
  kLBracket,          // [
  kRBracket,          // ]
  kEnd,               // end of input: empty text at offset == input size
};

// Short name for messages and tests ("identifier", "string", ...).
absl::string_view TokenKindName(TokenKind kind);

struct Token {
  TokenKind kind = TokenKind::kEnd;
  uint32_t offset = 0;     // byte offset of text in the input
  uint32_t param = 0;      // kParam: n (saturates at UINT32_MAX)
  absl::string_view text;  // the raw source text of the token
  // kIdentifier, kQuotedIdentifier, kString, kBlob, kNumber: see TokenKind.
  // Empty for the other kinds (use text).
  std::string value;

  uint32_t end() const { return offset + static_cast<uint32_t>(text.size()); }
  bool Is(TokenKind k) const { return kind == k; }
  // True for an unquoted identifier equal to keyword (given in lower case).
  bool IsKeyword(absl::string_view keyword) const {
    return kind == TokenKind::kIdentifier && value.size() == keyword.size() && !keyword.empty() &&
           value[0] == keyword[0] && std::memcmp(value.data(), keyword.data(), keyword.size()) == 0;
  }
  bool IsOperator(absl::string_view op) const { return kind == TokenKind::kOperator && text == op; }
};

}  // namespace shale::gate::sql
