#pragma once

// The recursive-descent parser behind Parse (parser.h), split over
// parser.cc (driver, tokens, names), parser_expr.cc, parser_select.cc,
// parser_dml.cc, parser_ddl.cc and parser_misc.cc. Internal to gate/sql.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gate/sql/ast.h"
#include "gate/sql/token.h"

namespace shale::gate::sql::internal {

using ExprPtr = std::unique_ptr<Expr>;

// Binding strength of binary operators, weakest first (parser_expr.cc).
enum Prec : int {
  kPrecNone = 0,
  kPrecOr = 1,
  kPrecAnd = 2,
  kPrecNot = 3,
  kPrecCmp = 4,    // = <> < LIKE IS BETWEEN IN ...
  kPrecOther = 5,  // || and any other operator
  kPrecAdd = 6,
  kPrecMul = 7,
  kPrecPow = 8,
  kPrecUnary = 9,
};

// PostgreSQL reserved keywords (and the type/function-name keywords such as
// JOIN or LIKE): never a bare column name, table name or alias.
bool IsReserved(absl::string_view word);

// One parse over one token vector. Confined to one thread; borrows sql.
class Parser {
 public:
  Parser(absl::string_view sql, std::vector<Token> tokens);

  // The whole input as one statement (parser.h's Parse contract).
  absl::Status ParseTop(Statement* st);

  // ---- parser.cc: statements and shared pieces
  absl::Status ParseStatement(Statement* st);
  absl::Status ParseOther(Statement* st);
  absl::StatusOr<Name> ParseColId();    // a non-reserved identifier or a quoted one
  absl::StatusOr<Name> ParseAnyName();  // any identifier, keywords included
  absl::StatusOr<TableName> ParseTableName();
  absl::Status ParseNameList(std::vector<Name>* names, Span* span);  // ( a, b )
  // [AS] alias; without AS only a non-reserved word not in `also_not`.
  absl::Status ParseAlias(Name* alias, bool allow_bare, absl::string_view also_not = "");
  absl::Status SkipBalanced();  // ( ... ) at the current '('
  absl::Status SkipToEnd();     // the rest of the statement, parentheses balanced
  // Every remaining token, semicolons included, except trailing semicolons
  // (bodies that may hold ';', such as a trigger's or an opaque statement's).
  void SkipRest();
  void Rewind(size_t i) { i_ = i; }
  size_t Position() const { return i_; }

  // ---- parser_expr.cc
  absl::StatusOr<ExprPtr> ParseExpr(int min_prec = kPrecNone);
  absl::Status ParseExprList(std::vector<ExprPtr>* out);  // a, b, c
  absl::StatusOr<Span> ParseTypeName();

  // ---- parser_select.cc
  absl::StatusOr<std::unique_ptr<SelectStmt>> ParseSelectStmt();
  absl::Status ParseWith(std::vector<Cte>* ctes, bool* recursive);
  absl::Status ParseSelectItems(std::vector<SelectItem>* items, Span* span);
  absl::Status ParseFromList(std::vector<TableRef>* refs, Span* span);
  absl::Status ParseOrderBy(std::vector<OrderItem>* items);
  absl::Status ParseValuesRows(std::vector<ValuesRow>* rows);
  bool AtQueryStart(size_t k = 0) const;  // SELECT / VALUES / WITH at token i_ + k

  // ---- parser_dml.cc
  absl::Status ParseInsert(Statement* st, std::vector<Cte> ctes);
  absl::Status ParseUpdate(Statement* st, std::vector<Cte> ctes);
  absl::Status ParseDelete(Statement* st, std::vector<Cte> ctes);
  absl::Status ParseAssignments(std::vector<Assignment>* set);
  absl::Status ParseReturning(std::vector<SelectItem>* items, Span* span);

  // ---- parser_ddl.cc
  absl::Status ParseCreate(Statement* st);
  absl::Status ParseDrop(Statement* st);
  absl::Status ParseAlter(Statement* st);
  absl::Status ParseCreateTableColumns(DdlStmt* ddl);
  absl::Status ParseDistributed(DdlStmt* ddl);

  // ---- parser_misc.cc
  absl::Status ParseTransaction(Statement* st);
  absl::Status ParseSet(Statement* st);
  absl::Status ParseResetShow(Statement* st);
  absl::Status ParseCopy(Statement* st);
  absl::Status ParseExplain(Statement* st);
  absl::Status ParseCopyOptions(CopyStmt* c);

  // ---- tokens
  const Token& Cur() const { return tokens_[i_]; }
  const Token& Peek(size_t k) const {
    return i_ + k < tokens_.size() ? tokens_[i_ + k] : tokens_.back();
  }
  void Advance() {
    if (i_ + 1 < tokens_.size()) ++i_;
  }
  bool At(TokenKind kind) const { return Cur().kind == kind; }
  bool AtKw(absl::string_view kw) const { return Cur().IsKeyword(kw); }
  bool AtOp(absl::string_view op) const { return Cur().IsOperator(op); }
  bool AtEnd() const { return At(TokenKind::kEnd) || At(TokenKind::kSemicolon); }
  bool Accept(TokenKind kind);
  bool AcceptKw(absl::string_view kw);
  bool AcceptOp(absl::string_view op);
  absl::Status Expect(TokenKind kind);
  absl::Status ExpectKw(absl::string_view kw);
  absl::Status Error() const;  // syntax error at the current token
  uint32_t Begin() const { return Cur().offset; }
  uint32_t PrevEnd() const { return i_ == 0 ? 0 : tokens_[i_ - 1].end(); }
  // [begin, end of the last consumed token); empty if nothing was consumed.
  Span SpanFrom(uint32_t begin) const { return Span{begin, std::max(begin, PrevEnd())}; }
  absl::string_view Text(Span s) const { return sql_.substr(s.begin, s.end - s.begin); }

  // ---- nesting and height limits
  absl::Status Enter();
  void Leave() { --depth_; }
  // e->height from its children and subquery; errors when too tall.
  absl::Status Finish(Expr* e);
  absl::Status CheckHeight(int height);
  int& max_height() { return max_height_; }
  void MarkCte() { has_cte_ = true; }
  bool has_cte() const { return has_cte_; }

 private:
  // parser_expr.cc internals.
  absl::StatusOr<ExprPtr> ParsePrefix();
  absl::StatusOr<ExprPtr> ParsePostfix(ExprPtr e);
  absl::StatusOr<ExprPtr> ParsePrimary();
  absl::StatusOr<ExprPtr> ParseParenthesized();
  absl::StatusOr<ExprPtr> ParseLiteral();
  absl::StatusOr<ExprPtr> ParseNamed();
  absl::StatusOr<ExprPtr> ParseFunction(ExprPtr fn);
  absl::Status ParseFunctionTail(Expr* fn);
  absl::StatusOr<ExprPtr> ParseCase();
  absl::StatusOr<ExprPtr> ParseCast();
  absl::StatusOr<ExprPtr> ParseArray();
  absl::StatusOr<ExprPtr> ParseArrayBracket(uint32_t begin);
  int KeywordPrec() const;
  absl::StatusOr<ExprPtr> MakeBinary(Op op, ExprPtr lhs, ExprPtr rhs, Span op_span);
  absl::StatusOr<ExprPtr> ParseSubqueryExpr(ExprKind kind, uint32_t begin);
  absl::StatusOr<ExprPtr> ParseComparison(ExprPtr lhs);
  absl::StatusOr<ExprPtr> ParseIs(ExprPtr lhs);
  absl::StatusOr<ExprPtr> ParseIn(ExprPtr lhs, bool negated, uint32_t op_begin);

  // parser_select.cc internals.
  absl::Status ParseSelectBody(SelectStmt* s);
  absl::Status ParseCore(SelectCore* core);
  absl::Status ParseSelectTail(SelectStmt* s);
  absl::Status ParseLimit(SelectStmt* s);
  absl::Status ParseLocking(SelectStmt* s);
  absl::Status ParseFromItem(std::vector<TableRef>* refs, JoinType join);
  absl::Status ParseCte(Cte* cte);

  absl::string_view sql_;
  std::vector<Token> tokens_;
  size_t i_ = 0;
  int depth_ = 0;
  int max_height_ = 0;  // tallest expression or query seen in the current query
  bool has_cte_ = false;
};

// Enter()/Leave() as a scope: `DEPTH_GUARD();` at the top of a recursive
// parse function.
#define SHALE_SQL_DEPTH_GUARD()                                                        \
  if (absl::Status depth_status_ = Enter(); !depth_status_.ok()) return depth_status_; \
  struct DepthLeave_ {                                                                 \
    Parser* p;                                                                         \
    ~DepthLeave_() { p->Leave(); }                                                     \
  } depth_leave_ {                                                                     \
    this                                                                               \
  }

}  // namespace shale::gate::sql::internal
