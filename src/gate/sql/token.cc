#include "gate/sql/token.h"

namespace shale::gate::sql {

absl::string_view TokenKindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kIdentifier:
      return "identifier";
    case TokenKind::kQuotedIdentifier:
      return "quoted identifier";
    case TokenKind::kString:
      return "string";
    case TokenKind::kBlob:
      return "blob";
    case TokenKind::kNumber:
      return "number";
    case TokenKind::kParam:
      return "parameter";
    case TokenKind::kOperator:
      return "operator";
    case TokenKind::kLParen:
      return "(";
    case TokenKind::kRParen:
      return ")";
    case TokenKind::kComma:
      return ",";
    case TokenKind::kSemicolon:
      return ";";
    case TokenKind::kDot:
      return ".";
    case TokenKind::kLBracket:
      return "[";
    case TokenKind::kRBracket:
      return "]";
    case TokenKind::kEnd:
      return "end";
  }
  return "?";
}

}  // namespace shale::gate::sql
