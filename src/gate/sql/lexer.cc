#include "gate/sql/lexer.h"

#include <array>
#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "gate/sql/errors.h"

namespace shale::gate::sql {
namespace {

// The token of a one-character punctuation mark: ( ) , ; . [ ]
TokenKind PunctuationKind(char c) {
  switch (c) {
    case '(':
      return TokenKind::kLParen;
    case ')':
      return TokenKind::kRParen;
    case ',':
      return TokenKind::kComma;
    case ';':
      return TokenKind::kSemicolon;
    case '.':
      return TokenKind::kDot;
    case '[':
      return TokenKind::kLBracket;
    default:
      return TokenKind::kRBracket;
  }
}

// Character classes, one table lookup each.
enum : uint8_t { kSpace = 1, kIdentStart = 2, kIdentChar = 4 };
constexpr std::array<uint8_t, 256> MakeClasses() {
  std::array<uint8_t, 256> t{};
  for (int c : {' ', '\t', '\n', '\r', '\f', '\v'}) t[c] = kSpace;
  for (int c = 0; c < 256; ++c) {
    const bool start = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    if (start) t[c] |= kIdentStart | kIdentChar;
    if ((c >= '0' && c <= '9') || c == '$') t[c] |= kIdentChar;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kClasses = MakeClasses();
bool Is(char c, uint8_t cls) { return (kClasses[static_cast<unsigned char>(c)] & cls) != 0; }

bool IsSpace(char c) { return Is(c, kSpace); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}
bool IsIdentStart(char c) { return Is(c, kIdentStart); }
bool IsIdentChar(char c) { return Is(c, kIdentChar); }
// A dollar-quote tag has no '$' and does not start with a digit.
bool IsTagChar(char c) { return IsIdentStart(c) || IsDigit(c); }

// PostgreSQL's operator characters; the second set lets a multi-character
// operator end in + or -.
constexpr absl::string_view kOperatorChars = "+-*/<>=~!@#%^&|`?";
constexpr absl::string_view kSpecialOperatorChars = "~!@#%^&|`?";

bool IsOperatorChar(char c) {
  return c != '\0' && kOperatorChars.find(c) != absl::string_view::npos;
}
bool IsSpecialOperatorChar(char c) {
  return c != '\0' && kSpecialOperatorChars.find(c) != absl::string_view::npos;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

void Lexer::Finish(Token* t, TokenKind kind, size_t end) {
  t->kind = kind;
  t->offset = static_cast<uint32_t>(start_);
  t->text = sql_.substr(start_, end - start_);
  pos_ = end;
}

absl::Status Lexer::Unterminated(absl::string_view what) const {
  return SyntaxErrorAt(
      sql_, start_,
      absl::StrCat("unterminated ", what, " at or near ", QuoteNear(sql_.substr(start_))));
}

absl::Status Lexer::SkipSpaceAndComments() {
  const size_t n = sql_.size();
  while (pos_ < n) {
    char c = sql_[pos_];
    if (IsSpace(c)) {
      ++pos_;
    } else if (c == '-' && pos_ + 1 < n && sql_[pos_ + 1] == '-') {
      size_t nl = sql_.find_first_of("\r\n", pos_);
      pos_ = nl == absl::string_view::npos ? n : nl;
    } else if (c == '/' && pos_ + 1 < n && sql_[pos_ + 1] == '*') {
      start_ = pos_;
      int depth = 1;
      pos_ += 2;
      while (depth > 0) {
        if (pos_ + 1 >= n) {
          pos_ = n;
          return Unterminated("/* comment");
        }
        if (sql_[pos_] == '*' && sql_[pos_ + 1] == '/') {
          --depth;
          pos_ += 2;
        } else if (sql_[pos_] == '/' && sql_[pos_ + 1] == '*') {
          ++depth;
          pos_ += 2;
        } else {
          ++pos_;
        }
      }
    } else {
      break;
    }
  }
  return absl::OkStatus();
}

absl::Status Lexer::Next(Token* t) {
  t->value.clear();
  t->param = 0;
  if (absl::Status s = SkipSpaceAndComments(); !s.ok()) return s;
  const size_t n = sql_.size();
  start_ = pos_;
  if (pos_ >= n) {
    Finish(t, TokenKind::kEnd, n);
    return absl::OkStatus();
  }
  const char c = sql_[pos_];
  const char next = pos_ + 1 < n ? sql_[pos_ + 1] : '\0';
  if (IsIdentStart(c)) {
    if (next == '\'') {
      switch (c) {
        case 'e':
        case 'E':
          return LexString(t, pos_ + 2, /*escapes=*/true);
        case 'n':
        case 'N':
          return LexString(t, pos_ + 2, /*escapes=*/false);
        case 'x':
        case 'X':
          return LexBlob(t);
        default:
          break;
      }
    }
    return LexWord(t);
  }
  if (IsDigit(c) || (c == '.' && IsDigit(next))) return LexNumber(t);
  switch (c) {
    case '\'':
      return LexString(t, pos_ + 1, /*escapes=*/false);
    case '"':
      return LexQuotedIdentifier(t);
    case '$':
      return LexDollar(t);
    case '(':
    case ')':
    case ',':
    case ';':
    case '.':
    case '[':
    case ']':
      Finish(t, PunctuationKind(c), pos_ + 1);
      return absl::OkStatus();
    case ':':
      Finish(t, TokenKind::kOperator, pos_ + (next == ':' ? 2 : 1));
      return absl::OkStatus();
    default:
      break;
  }
  if (IsOperatorChar(c)) {
    LexOperator(t);
    return absl::OkStatus();
  }
  // A character that starts no token. Report the whole UTF-8 sequence.
  size_t end = pos_ + 1;
  while (end < n && (static_cast<unsigned char>(sql_[end]) & 0xC0) == 0x80) ++end;
  return SyntaxErrorAt(
      sql_, start_,
      absl::StrCat("syntax error at or near ", QuoteNear(sql_.substr(start_, end - start_))));
}

absl::Status Lexer::LexWord(Token* t) {
  size_t end = pos_ + 1;
  while (end < sql_.size() && IsIdentChar(sql_[end])) ++end;
  Finish(t, TokenKind::kIdentifier, end);
  t->value.resize(t->text.size());
  for (size_t i = 0; i < t->text.size(); ++i) {
    const char ch = t->text[i];
    t->value[i] = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
  }
  return absl::OkStatus();
}

absl::Status Lexer::LexNumber(Token* t) {
  const size_t n = sql_.size();
  size_t end = pos_;
  if (sql_[end] == '0' && end + 2 < n && (sql_[end + 1] == 'x' || sql_[end + 1] == 'X') &&
      IsHex(sql_[end + 2])) {
    end += 2;
    while (end < n && IsHex(sql_[end])) ++end;
  } else {
    while (end < n && IsDigit(sql_[end])) ++end;
    if (end < n && sql_[end] == '.') {
      ++end;
      while (end < n && IsDigit(sql_[end])) ++end;
    }
    if (end < n && (sql_[end] == 'e' || sql_[end] == 'E')) {
      size_t exp = end + 1;
      if (exp < n && (sql_[exp] == '+' || sql_[exp] == '-')) ++exp;
      if (exp < n && IsDigit(sql_[exp])) {
        end = exp;
        while (end < n && IsDigit(sql_[end])) ++end;
      }
    }
  }
  Finish(t, TokenKind::kNumber, end);
  t->value.assign(t->text.data(), t->text.size());
  return absl::OkStatus();
}

// body: offset just after the opening quote. Standard strings double a quote
// to escape it; E'' strings also take backslash escapes.
absl::Status Lexer::LexString(Token* t, size_t body, bool escapes) {
  const size_t n = sql_.size();
  std::string value;
  size_t i = body;
  for (;;) {
    if (i >= n) {
      pos_ = n;
      return Unterminated("quoted string");
    }
    char c = sql_[i];
    if (c == '\'') {
      if (i + 1 < n && sql_[i + 1] == '\'') {
        value.push_back('\'');
        i += 2;
        continue;
      }
      ++i;
      break;
    }
    if (c != '\\' || !escapes) {
      value.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= n) {
      pos_ = n;
      return Unterminated("quoted string");
    }
    char e = sql_[i + 1];
    i += 2;
    switch (e) {
      case 'b':
        value.push_back('\b');
        break;
      case 'f':
        value.push_back('\f');
        break;
      case 'n':
        value.push_back('\n');
        break;
      case 'r':
        value.push_back('\r');
        break;
      case 't':
        value.push_back('\t');
        break;
      case 'x':
        if (i < n && IsHex(sql_[i])) {
          int v = HexValue(sql_[i++]);
          if (i < n && IsHex(sql_[i])) v = v * 16 + HexValue(sql_[i++]);
          value.push_back(static_cast<char>(v));
        } else {
          value.push_back('x');
        }
        break;
      case 'u':
      case 'U': {
        const size_t digits = e == 'u' ? 4 : 8;
        uint32_t cp = 0;
        size_t k = 0;
        for (; k < digits && i + k < n && IsHex(sql_[i + k]); ++k) {
          cp = cp * 16 + static_cast<uint32_t>(HexValue(sql_[i + k]));
        }
        if (k < digits) {
          return SyntaxErrorAt(sql_, i - 2, "invalid Unicode escape");
        }
        i += digits;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= n && sql_[i] == '\\' && sql_[i + 1] == 'u') {
          uint32_t lo = 0;
          size_t j = 0;
          for (; j < 4 && IsHex(sql_[i + 2 + j]); ++j) {
            lo = lo * 16 + static_cast<uint32_t>(HexValue(sql_[i + 2 + j]));
          }
          if (j == 4 && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          return SyntaxErrorAt(sql_, i - 2, "invalid Unicode escape value");
        }
        AppendUtf8(cp, &value);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0';
          for (int k = 0; k < 2 && i < n && sql_[i] >= '0' && sql_[i] <= '7'; ++k) {
            v = v * 8 + (sql_[i++] - '0');
          }
          value.push_back(static_cast<char>(v & 0xFF));
        } else {
          value.push_back(e);
        }
        break;
    }
  }
  Finish(t, TokenKind::kString, i);
  t->value = std::move(value);
  return absl::OkStatus();
}

absl::Status Lexer::LexBlob(Token* t) {
  const size_t n = sql_.size();
  size_t i = pos_ + 2;
  while (i < n && sql_[i] != '\'') ++i;
  if (i >= n) {
    pos_ = n;
    return Unterminated("quoted string");
  }
  absl::string_view digits = sql_.substr(pos_ + 2, i - pos_ - 2);
  bool ok = digits.size() % 2 == 0;
  for (char c : digits) ok = ok && IsHex(c);
  if (!ok) {
    return SyntaxErrorAt(sql_, start_,
                         absl::StrCat("invalid hexadecimal blob literal at or near ",
                                      QuoteNear(sql_.substr(start_, i + 1 - start_))));
  }
  Finish(t, TokenKind::kBlob, i + 1);
  t->value.assign(digits.data(), digits.size());
  return absl::OkStatus();
}

absl::Status Lexer::LexQuotedIdentifier(Token* t) {
  const size_t n = sql_.size();
  std::string value;
  size_t i = pos_ + 1;
  for (;;) {
    size_t q = sql_.find('"', i);
    if (q == absl::string_view::npos) {
      pos_ = n;
      return Unterminated("quoted identifier");
    }
    value.append(sql_.data() + i, q - i);
    if (q + 1 < n && sql_[q + 1] == '"') {
      value.push_back('"');
      i = q + 2;
      continue;
    }
    i = q + 1;
    break;
  }
  if (value.empty()) {
    return SyntaxErrorAt(sql_, start_,
                         absl::StrCat("zero-length delimited identifier at or near ",
                                      QuoteNear(sql_.substr(start_, i - start_))));
  }
  Finish(t, TokenKind::kQuotedIdentifier, i);
  t->value = std::move(value);
  return absl::OkStatus();
}

// $n parameters and $tag$...$tag$ strings. Anything else after '$' is an error.
absl::Status Lexer::LexDollar(Token* t) {
  const size_t n = sql_.size();
  size_t i = pos_ + 1;
  if (i < n && IsDigit(sql_[i])) {
    uint64_t v = 0;
    while (i < n && IsDigit(sql_[i])) {
      v = v * 10 + static_cast<uint64_t>(sql_[i] - '0');
      if (v > std::numeric_limits<uint32_t>::max()) v = std::numeric_limits<uint32_t>::max();
      ++i;
    }
    Finish(t, TokenKind::kParam, i);
    t->param = static_cast<uint32_t>(v);
    return absl::OkStatus();
  }
  if (i < n && sql_[i] != '$' && !IsIdentStart(sql_[i])) {
    return SyntaxErrorAt(sql_, start_, absl::StrCat("syntax error at or near \"$\""));
  }
  while (i < n && IsTagChar(sql_[i])) ++i;
  if (i >= n || sql_[i] != '$') {
    return SyntaxErrorAt(sql_, start_, absl::StrCat("syntax error at or near \"$\""));
  }
  absl::string_view delim = sql_.substr(pos_, i + 1 - pos_);  // "$tag$"
  size_t body = i + 1;
  size_t close = sql_.find(delim, body);
  if (close == absl::string_view::npos) {
    pos_ = n;
    return Unterminated("dollar-quoted string");
  }
  Finish(t, TokenKind::kString, close + delim.size());
  t->value.assign(sql_.data() + body, close - body);
  return absl::OkStatus();
}

void Lexer::LexOperator(Token* t) {
  const size_t n = sql_.size();
  size_t end = pos_;
  while (end < n && IsOperatorChar(sql_[end])) {
    // A comment start ends the operator.
    if (end > pos_ && end + 1 < n &&
        ((sql_[end] == '-' && sql_[end + 1] == '-') ||
         (sql_[end] == '/' && sql_[end + 1] == '*'))) {
      break;
    }
    ++end;
  }
  size_t len = end - pos_;
  if (len > 1 && (sql_[end - 1] == '+' || sql_[end - 1] == '-')) {
    bool special = false;
    for (size_t k = pos_; k < end; ++k) special = special || IsSpecialOperatorChar(sql_[k]);
    if (!special) {
      while (len > 1 && (sql_[pos_ + len - 1] == '+' || sql_[pos_ + len - 1] == '-')) --len;
    }
  }
  Finish(t, TokenKind::kOperator, pos_ + len);
}

absl::StatusOr<std::vector<Token>> Lex(absl::string_view sql) {
  if (sql.size() > kMaxStatementBytes) return TooLongError(sql.size());
  std::vector<Token> tokens;
  tokens.reserve(sql.size() / 4 + 2);
  Lexer lexer(sql);
  for (;;) {
    tokens.emplace_back();
    if (absl::Status s = lexer.Next(&tokens.back()); !s.ok()) return s;
    if (tokens.back().kind == TokenKind::kEnd) break;
  }
  return tokens;
}

}  // namespace shale::gate::sql
