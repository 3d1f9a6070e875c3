// Fuzz target for the gate/sql lexer and parser: Lex, SplitStatements,
// RewriteParams and Parse on arbitrary bytes, checking that nothing crashes
// and that simple invariants hold (tokens and spans lie inside the input and
// nest, errors carry a SQLSTATE and a position inside the text, a multi-row
// INSERT rebuilt from its row spans still parses).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "gate/sql/ast.h"
#include "gate/sql/debug.h"
#include "gate/sql/errors.h"
#include "gate/sql/lexer.h"
#include "gate/sql/params.h"
#include "gate/sql/parser.h"

namespace shale::gate::sql {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

void CheckError(const absl::Status& s, absl::string_view sql) {
  Check(s.code() == absl::StatusCode::kInvalidArgument ||
            s.code() == absl::StatusCode::kResourceExhausted,
        "error code");
  Check(SqlState(s) != "XX000", "error has a SQLSTATE");
  const int pos = ErrorPosition(s);
  Check(pos >= 1 && pos <= CharPosition(sql, sql.size()), "error position inside the text");
  Check(s.message().find('\0') == absl::string_view::npos, "no NUL in messages");
}

// Walks a statement checking that every span lies inside the text and that
// expression children lie inside their parents.
class SpanChecker {
 public:
  explicit SpanChecker(absl::string_view text) : text_(text) {}

  void In(Span s, Span outer, const char* what) {
    Check(s.begin <= s.end && s.end <= text_.size(), what);
    Check(outer.begin <= s.begin && s.end <= outer.end, what);
  }
  void Inside(Span s) { In(s, Span{0, static_cast<uint32_t>(text_.size())}, "span in text"); }

  // DebugString runs once per top-level expression (it walks the subtree).
  void E(const Expr* e, bool top = true) {
    if (e == nullptr) return;
    Inside(e->span);
    for (const auto& arg : e->args) {
      In(arg->span, e->span, "child expression inside its parent");
      E(arg.get(), false);
    }
    if (e->subquery) {
      In(e->subquery->span, e->span, "subquery inside its expression");
      Select(*e->subquery);
    }
    if (top) Check(!DebugString(*e, text_).empty(), "debug string");
  }
  void Items(const std::vector<SelectItem>& items) {
    for (const SelectItem& item : items) {
      Inside(item.span);
      In(item.expr->span, item.span, "item expression inside the item");
      E(item.expr.get());
    }
  }
  void Refs(const std::vector<TableRef>& refs) {
    for (const TableRef& r : refs) {
      Inside(r.span);
      Inside(r.table.span);
      if (r.subquery) Select(*r.subquery);
      E(r.function.get());
      E(r.on.get());
    }
  }
  void Ctes(const std::vector<Cte>& ctes) {
    for (const Cte& c : ctes) {
      Inside(c.span);
      if (c.query) Stmt(*c.query);
    }
  }
  void Select(const SelectStmt& s) {
    Inside(s.span);
    Ctes(s.ctes);
    Check(s.set_ops.size() + 1 == s.cores.size(), "one set op between two cores");
    for (const SelectCore& c : s.cores) {
      Inside(c.span);
      if (c.nested) Select(*c.nested);
      Items(c.items);
      Refs(c.from);
      E(c.where.get());
      E(c.having.get());
      for (const auto& g : c.group_by) E(g.get());
      for (const ValuesRow& row : c.values) {
        Inside(row.span);
        for (const auto& v : row.values) E(v.get());
      }
    }
    for (const OrderItem& o : s.order_by) E(o.expr.get());
    E(s.limit.get());
    E(s.offset.get());
    Inside(s.limit_span);
    Inside(s.order_by_span);
  }
  void Stmt(const Statement& st) {
    Inside(st.span);
    if (const SelectStmt* s = st.select()) Select(*s);
    if (const InsertStmt* i = st.insert()) {
      Ctes(i->ctes);
      for (const ValuesRow& row : i->rows) {
        Inside(row.span);
        for (const auto& v : row.values) E(v.get());
      }
      if (i->select) Select(*i->select);
      for (const OnConflict& oc : i->on_conflict) {
        Inside(oc.span);
        for (const Assignment& a : oc.set) E(a.value.get());
      }
      Items(i->returning);
    }
    if (const UpdateStmt* u = st.update()) {
      Ctes(u->ctes);
      for (const Assignment& a : u->set) E(a.value.get());
      Refs(u->from);
      E(u->where.get());
      Items(u->returning);
    }
    if (const DeleteStmt* d = st.del()) {
      Ctes(d->ctes);
      Refs(d->using_tables);
      E(d->where.get());
      Items(d->returning);
    }
    if (const DdlStmt* d = st.ddl()) {
      for (const ColumnDef& c : d->columns) Inside(c.span);
      Inside(d->columns_span);
      if (d->query) Select(*d->query);
    }
    if (const CopyStmt* c = st.copy()) {
      if (c->query) Select(*c->query);
      E(c->where.get());
    }
    if (const ExplainStmt* x = st.explain()) Stmt(*x->inner);
  }

 private:
  absl::string_view text_;
};

void CheckStatement(absl::string_view sql, bool lexed) {
  absl::StatusOr<Statement> st = Parse(sql);
  if (!st.ok()) {
    CheckError(st.status(), sql);
    return;
  }
  Check(lexed, "a statement that does not lex does not parse");
  Check(st->text == sql, "statement keeps its text");
  SpanChecker(st->text).Stmt(*st);
  for (const TableName* t : ReadTables(*st)) Check(!t->name.empty(), "table names");
  if (const SelectStmt* s = st->select()) (void)Conjuncts(s->core().where.get());
  // The gateway splits multi-row INSERTs by row spans: one row must parse.
  const InsertStmt* ins = st->insert();
  if (ins != nullptr && !ins->rows.empty()) {
    std::string one =
        absl::StrCat(sql.substr(0, ins->rows.front().span.begin), st->Text(ins->rows.front().span),
                     sql.substr(ins->rows.back().span.end));
    absl::StatusOr<Statement> again = Parse(one);
    if (!again.ok())
      std::fprintf(stderr, "rebuilt: %s\n%s\n", one.c_str(), again.status().ToString().c_str());
    Check(again.ok() && again->kind == StatementKind::kInsert, "one-row INSERT parses");
  }
}

}  // namespace
}  // namespace shale::gate::sql

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shale::gate::sql;  // NOLINT
  if (size > 64 * 1024) return 0;
  absl::string_view sql(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<std::vector<Token>> tokens = Lex(sql);
  if (tokens.ok()) {
    Check(!tokens->empty() && tokens->back().kind == TokenKind::kEnd, "ends with kEnd");
    Check(tokens->back().offset == size, "kEnd at the end");
    uint32_t prev_end = 0;
    for (const Token& t : *tokens) {
      Check(t.offset >= prev_end && t.end() <= size, "tokens in order, inside the input");
      Check(t.text == sql.substr(t.offset, t.text.size()), "token text is the source");
      Check(t.kind == TokenKind::kEnd || !t.text.empty(), "non-empty tokens");
      prev_end = t.end();
    }
  } else {
    CheckError(tokens.status(), sql);
  }

  const std::string rewritten = RewriteParams(sql);
  Check(rewritten.size() == size, "RewriteParams keeps the length");
  for (size_t i = 0; i < size; ++i) {
    Check(rewritten[i] == sql[i] || (sql[i] == '$' && rewritten[i] == '?'),
          "RewriteParams only turns $ into ?");
  }

  absl::StatusOr<std::vector<absl::string_view>> pieces = SplitStatements(sql);
  Check(pieces.ok() == tokens.ok(), "SplitStatements fails exactly when Lex fails");
  if (pieces.ok()) {
    const char* prev = sql.data();
    for (absl::string_view piece : *pieces) {
      Check(!piece.empty(), "no empty pieces");
      Check(piece.data() >= prev && piece.data() + piece.size() <= sql.data() + size,
            "pieces in order, inside the input");
      Check(!absl::ascii_isspace(static_cast<unsigned char>(piece.front())) &&
                !absl::ascii_isspace(static_cast<unsigned char>(piece.back())),
            "pieces are trimmed");
      prev = piece.data() + piece.size();
      if (pieces->size() > 1) CheckStatement(piece, true);
    }
  }

  CheckStatement(sql, tokens.ok());
  return 0;
}
