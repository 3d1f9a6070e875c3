// Parse(): the driver, statement dispatch, token helpers and names.

#include "gate/sql/parser.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "gate/sql/errors.h"
#include "gate/sql/lexer.h"
#include "gate/sql/parser_internal.h"

namespace shale::gate::sql {
namespace internal {

namespace {

const absl::flat_hash_set<absl::string_view>& ReservedWords() {
  static const auto* const kWords = new absl::flat_hash_set<absl::string_view>{
      // PostgreSQL reserved keywords.
      "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case",
      "cast", "check", "collate", "column", "constraint", "create", "current_catalog",
      "current_date", "current_role", "current_time", "current_timestamp", "current_user",
      "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "false", "fetch",
      "for", "foreign", "from", "grant", "group", "having", "in", "initially", "intersect", "into",
      "lateral", "leading", "limit", "localtime", "localtimestamp", "not", "null", "offset", "on",
      "only", "or", "order", "placing", "primary", "references", "returning", "select",
      "session_user", "some", "symmetric", "table", "then", "to", "trailing", "true", "union",
      "unique", "user", "using", "variadic", "when", "where", "window", "with",
      // Type and function name keywords: never a column name or an alias.
      "authorization", "binary", "collation", "concurrently", "cross", "current_schema", "freeze",
      "full", "ilike", "inner", "is", "isnull", "join", "left", "like", "natural", "notnull",
      "outer", "overlaps", "right", "similar", "tablesample", "verbose"};
  return *kWords;
}

// A quick filter in front of the hash set: bit (length, first letter) is set
// when some reserved word has that length and first letter.
struct ReservedFilter {
  uint32_t bits[32] = {};
  ReservedFilter() {
    for (absl::string_view w : ReservedWords()) bits[w.size()] |= 1u << (w[0] - 'a');
  }
  bool MayContain(absl::string_view w) const {
    return w.size() < 32 && w[0] >= 'a' && w[0] <= 'z' && ((bits[w.size()] >> (w[0] - 'a')) & 1u);
  }
};

}  // namespace

bool IsReserved(absl::string_view word) {
  static const ReservedFilter kFilter;
  if (word.empty() || !kFilter.MayContain(word)) return false;
  return ReservedWords().contains(word);
}

Parser::Parser(absl::string_view sql, std::vector<Token> tokens)
    : sql_(sql), tokens_(std::move(tokens)) {}

bool Parser::Accept(TokenKind kind) {
  if (!At(kind)) return false;
  Advance();
  return true;
}

bool Parser::AcceptKw(absl::string_view kw) {
  if (!AtKw(kw)) return false;
  Advance();
  return true;
}

bool Parser::AcceptOp(absl::string_view op) {
  if (!AtOp(op)) return false;
  Advance();
  return true;
}

absl::Status Parser::Expect(TokenKind kind) {
  if (!Accept(kind)) return Error();
  return absl::OkStatus();
}

absl::Status Parser::ExpectKw(absl::string_view kw) {
  if (!AcceptKw(kw)) return Error();
  return absl::OkStatus();
}

absl::Status Parser::Error() const { return SyntaxErrorNear(sql_, Cur()); }

absl::Status Parser::Enter() {
  if (depth_ >= kMaxNestingDepth) return TooComplexError(sql_, Cur().offset);
  ++depth_;
  return absl::OkStatus();
}

absl::Status Parser::CheckHeight(int height) {
  if (height > kMaxExprHeight) return TooComplexError(sql_, Cur().offset);
  max_height_ = std::max(max_height_, height);
  return absl::OkStatus();
}

absl::Status Parser::Finish(Expr* e) {
  int h = 0;
  for (const ExprPtr& arg : e->args) h = std::max<int>(h, arg->height);
  if (e->subquery) h = std::max<int>(h, e->subquery->height);
  RETURN_IF_ERROR(CheckHeight(h + 1));
  e->height = static_cast<uint16_t>(h + 1);
  return absl::OkStatus();
}

absl::StatusOr<Name> Parser::ParseColId() {
  const Token& t = Cur();
  if (t.kind == TokenKind::kQuotedIdentifier ||
      (t.kind == TokenKind::kIdentifier && !IsReserved(t.value))) {
    Name n{t.value, t.kind == TokenKind::kQuotedIdentifier, Span{t.offset, t.end()}};
    Advance();
    return n;
  }
  return Error();
}

absl::StatusOr<Name> Parser::ParseAnyName() {
  const Token& t = Cur();
  if (t.kind == TokenKind::kQuotedIdentifier || t.kind == TokenKind::kIdentifier) {
    Name n{t.value, t.kind == TokenKind::kQuotedIdentifier, Span{t.offset, t.end()}};
    Advance();
    return n;
  }
  return Error();
}

absl::StatusOr<TableName> Parser::ParseTableName() {
  TableName t;
  uint32_t begin = Begin();
  ASSIGN_OR_RETURN(Name first, ParseColId());
  std::vector<Name> parts;
  parts.push_back(std::move(first));
  while (parts.size() < 3 && At(TokenKind::kDot) &&
         (Peek(1).kind == TokenKind::kIdentifier || Peek(1).kind == TokenKind::kQuotedIdentifier)) {
    Advance();
    ASSIGN_OR_RETURN(Name part, ParseAnyName());
    parts.push_back(std::move(part));
  }
  t.quoted = parts.back().quoted;
  t.name = std::move(parts.back().value);
  if (parts.size() >= 2) t.schema = std::move(parts[parts.size() - 2].value);
  if (parts.size() == 3) t.catalog = std::move(parts[0].value);
  t.span = SpanFrom(begin);
  return t;
}

absl::Status Parser::ParseNameList(std::vector<Name>* names, Span* span) {
  uint32_t begin = Begin();
  RETURN_IF_ERROR(Expect(TokenKind::kLParen));
  do {
    ASSIGN_OR_RETURN(Name n, ParseAnyName());
    names->push_back(std::move(n));
  } while (Accept(TokenKind::kComma));
  RETURN_IF_ERROR(Expect(TokenKind::kRParen));
  if (span != nullptr) *span = SpanFrom(begin);
  return absl::OkStatus();
}

absl::Status Parser::ParseAlias(Name* alias, bool allow_bare, absl::string_view also_not) {
  if (AcceptKw("as")) {
    if (At(TokenKind::kString)) {  // SQLite: AS 'alias'
      *alias = Name{Cur().value, true, Span{Cur().offset, Cur().end()}};
      Advance();
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(*alias, ParseAnyName());
    return absl::OkStatus();
  }
  if (!allow_bare) return absl::OkStatus();
  const Token& t = Cur();
  if (t.kind == TokenKind::kQuotedIdentifier ||
      (t.kind == TokenKind::kIdentifier && !IsReserved(t.value) &&
       (also_not.empty() || t.value != also_not))) {
    *alias = Name{t.value, t.kind == TokenKind::kQuotedIdentifier, Span{t.offset, t.end()}};
    Advance();
  }
  return absl::OkStatus();
}

absl::Status Parser::SkipBalanced() {
  int depth = 0;
  do {
    if (At(TokenKind::kLParen)) {
      ++depth;
    } else if (At(TokenKind::kRParen)) {
      --depth;
    } else if (At(TokenKind::kEnd)) {
      return Error();
    }
    Advance();
  } while (depth > 0);
  return absl::OkStatus();
}

absl::Status Parser::SkipToEnd() {
  int depth = 0;
  while (!At(TokenKind::kEnd) && !(depth == 0 && At(TokenKind::kSemicolon))) {
    if (At(TokenKind::kLParen)) ++depth;
    if (At(TokenKind::kRParen) && --depth < 0) return Error();
    Advance();
  }
  if (depth > 0) return Error();
  return absl::OkStatus();
}

void Parser::SkipRest() {
  size_t last = tokens_.size() - 1;  // the kEnd token
  while (last > i_ && tokens_[last - 1].kind == TokenKind::kSemicolon) --last;
  i_ = std::max(i_, last);
}

namespace {

// Leading keywords of statements kept as kOther.
bool IsOtherKeyword(absl::string_view w) {
  static const auto* const kWords = new absl::flat_hash_set<absl::string_view>{
      "alter",    "analyse", "analyze", "attach",     "call",     "checkpoint", "close",
      "cluster",  "comment", "create",  "deallocate", "declare",  "detach",     "discard",
      "do",       "drop",    "execute", "fetch",      "grant",    "import",     "listen",
      "load",     "lock",    "merge",   "move",       "notify",   "pragma",     "prepare",
      "reassign", "refresh", "reindex", "revoke",     "security", "table",      "truncate",
      "unlisten", "vacuum"};
  return kWords->contains(w);
}

bool IsCreateModifier(absl::string_view w) {
  return w == "or" || w == "replace" || w == "temp" || w == "temporary" || w == "unique" ||
         w == "unlogged" || w == "global" || w == "local" || w == "materialized" ||
         w == "foreign" || w == "recursive" || w == "trusted" || w == "procedural" ||
         w == "constraint" || w == "default";
}

}  // namespace

absl::Status Parser::ParseOther(Statement* st) {
  OtherStmt other;
  other.keywords = Cur().value;
  const std::string& first = Cur().value;
  Advance();
  if (first == "create" || first == "drop" || first == "alter") {
    while (At(TokenKind::kIdentifier) && IsCreateModifier(Cur().value)) Advance();
    if (At(TokenKind::kIdentifier)) absl::StrAppend(&other.keywords, " ", Cur().value);
  } else if (first == "discard" || (first == "prepare" && AtKw("transaction")) ||
             ((first == "commit" || first == "rollback") && AtKw("prepared"))) {
    if (At(TokenKind::kIdentifier)) absl::StrAppend(&other.keywords, " ", Cur().value);
  }
  // Never an error: the text goes to SQLite (or the gateway) as it is.
  SkipRest();
  st->kind = StatementKind::kOther;
  st->node = std::move(other);
  return absl::OkStatus();
}

absl::Status Parser::ParseStatement(Statement* st) {
  SHALE_SQL_DEPTH_GUARD();
  const Token& t = Cur();
  if (t.kind == TokenKind::kLParen || t.IsKeyword("select") || t.IsKeyword("values")) {
    ASSIGN_OR_RETURN(std::unique_ptr<SelectStmt> s, ParseSelectStmt());
    st->kind = StatementKind::kSelect;
    st->node = std::move(*s);
    return absl::OkStatus();
  }
  if (t.kind != TokenKind::kIdentifier) return Error();
  const std::string& w = t.value;
  if (w == "with") {
    std::vector<Cte> ctes;
    bool recursive = false;
    RETURN_IF_ERROR(ParseWith(&ctes, &recursive));
    if (AtKw("insert") || AtKw("replace")) return ParseInsert(st, std::move(ctes));
    if (AtKw("update")) return ParseUpdate(st, std::move(ctes));
    if (AtKw("delete")) return ParseDelete(st, std::move(ctes));
    if (!AtKw("select") && !AtKw("values") && !At(TokenKind::kLParen)) return Error();
    ASSIGN_OR_RETURN(std::unique_ptr<SelectStmt> s, ParseSelectStmt());
    s->ctes = std::move(ctes);
    s->recursive = recursive;
    st->kind = StatementKind::kSelect;
    st->node = std::move(*s);
    return absl::OkStatus();
  }
  if (w == "insert" || (w == "replace" && Peek(1).IsKeyword("into"))) {
    return ParseInsert(st, {});
  }
  if (w == "update") return ParseUpdate(st, {});
  if (w == "delete") return ParseDelete(st, {});
  if (w == "begin" || w == "start" || w == "end" || w == "abort" || w == "savepoint" ||
      w == "release" || ((w == "commit" || w == "rollback") && !Peek(1).IsKeyword("prepared"))) {
    return ParseTransaction(st);
  }
  if (w == "set") return ParseSet(st);
  if (w == "reset" || w == "show") return ParseResetShow(st);
  if (w == "copy") return ParseCopy(st);
  if (w == "explain") return ParseExplain(st);
  if (w == "create") return ParseCreate(st);
  if (w == "drop") return ParseDrop(st);
  if (w == "alter") return ParseAlter(st);
  if (IsOtherKeyword(w) || w == "commit" || w == "rollback") return ParseOther(st);
  return Error();
}

absl::Status Parser::ParseTop(Statement* st) {
  while (Accept(TokenKind::kSemicolon)) {
  }
  if (At(TokenKind::kEnd)) {
    st->kind = StatementKind::kEmpty;
    return absl::OkStatus();
  }
  uint32_t begin = Begin();
  RETURN_IF_ERROR(ParseStatement(st));
  st->span = SpanFrom(begin);
  if (!At(TokenKind::kEnd) && !At(TokenKind::kSemicolon)) return Error();
  while (Accept(TokenKind::kSemicolon)) {
  }
  if (!At(TokenKind::kEnd)) {
    return SyntaxErrorAt(sql_, Cur().offset,
                         "cannot insert multiple commands into a prepared statement");
  }
  st->has_cte = has_cte_;
  return absl::OkStatus();
}

}  // namespace internal

absl::StatusOr<Statement> Parse(absl::string_view sql) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(sql));
  int max_param = 0;
  for (const Token& t : tokens) {
    if (t.kind == TokenKind::kParam) {
      max_param = std::max<int>(max_param, static_cast<int>(std::min<uint32_t>(
                                               t.param, std::numeric_limits<int>::max())));
    }
  }
  Statement st;
  internal::Parser parser(sql, std::move(tokens));
  RETURN_IF_ERROR(parser.ParseTop(&st));
  st.text = std::string(sql);
  st.max_param = max_param;
  return st;
}

}  // namespace shale::gate::sql
