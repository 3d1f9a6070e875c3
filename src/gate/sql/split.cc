// SplitStatements (declared in lexer.h): a query string with several
// statements, split on top-level semicolons.

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "base/status_macros.h"
#include "gate/sql/lexer.h"

namespace shale::gate::sql {
namespace {

// Statements whose body may hold semicolons between BEGIN and END.
enum class Head { kPlain, kTrigger, kRoutine };

// The kind of statement starting at tokens[i].
Head HeadAt(const std::vector<Token>& tokens, size_t i) {
  if (!tokens[i].IsKeyword("create")) return Head::kPlain;
  for (size_t k = i + 1; k < tokens.size(); ++k) {
    const Token& t = tokens[k];
    if (t.IsKeyword("or") || t.IsKeyword("replace") || t.IsKeyword("temp") ||
        t.IsKeyword("temporary") || t.IsKeyword("constraint")) {
      continue;
    }
    if (t.IsKeyword("trigger")) return Head::kTrigger;
    if (t.IsKeyword("function") || t.IsKeyword("procedure")) return Head::kRoutine;
    break;
  }
  return Head::kPlain;
}

}  // namespace

absl::StatusOr<std::vector<absl::string_view>> SplitStatements(absl::string_view sql) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(sql));
  std::vector<absl::string_view> out;
  size_t piece_start = 0;  // byte offset where the current piece starts
  size_t piece_tokens = 0;
  Head head = Head::kPlain;
  int block = 0;  // > 0 inside a BEGIN ... END body (CASE ... END nests)
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (t.kind == TokenKind::kEnd || (t.kind == TokenKind::kSemicolon && block == 0)) {
      if (piece_tokens > 0) {
        out.push_back(absl::StripAsciiWhitespace(sql.substr(piece_start, t.offset - piece_start)));
      }
      piece_start = t.end();
      piece_tokens = 0;
      head = Head::kPlain;
      block = 0;
      continue;
    }
    if (piece_tokens++ == 0) head = HeadAt(tokens, i);
    if (head == Head::kPlain || t.kind != TokenKind::kIdentifier) continue;
    if (block == 0) {
      if (t.value == "begin" && (head == Head::kTrigger || tokens[i + 1].IsKeyword("atomic"))) {
        block = 1;
      }
    } else if (t.value == "case") {
      ++block;
    } else if (t.value == "end") {
      --block;
    }
  }
  return out;
}

}  // namespace shale::gate::sql
