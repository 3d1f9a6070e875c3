#include "gate/sql/params.h"

#include "gate/sql/lexer.h"

namespace shale::gate::sql {

std::string RewriteParams(absl::string_view sql) {
  std::string out(sql);
  if (sql.find('$') == absl::string_view::npos) return out;
  Lexer lexer(sql);
  Token token;
  while (lexer.Next(&token).ok() && token.kind != TokenKind::kEnd) {
    if (token.kind == TokenKind::kParam) out[token.offset] = '?';
  }
  return out;
}

}  // namespace shale::gate::sql
