#pragma once

// The syntax tree the parser (parser.h) builds: just enough of each
// statement for the gateway to route it. Every node carries its source span
// (byte offsets into Statement::text), so the gateway rebuilds SQL from
// pieces of the original text instead of deparsing. Names are lower-cased
// unless they were "quoted". Plain data, owned top-down by unique_ptr and
// vectors; a Statement is self-contained (it keeps its text) and immutable
// once parsed, so it may be shared across threads for reading.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace shale::gate::sql {

// [begin, end) byte offsets into the statement text.
struct Span {
  uint32_t begin = 0;
  uint32_t end = 0;
  bool empty() const { return begin == end; }
  uint32_t size() const { return end - begin; }
  bool operator==(const Span&) const = default;
};

// An identifier: value lower-cased unless quoted.
struct Name {
  std::string value;
  bool quoted = false;
  Span span;
  bool empty() const { return value.empty(); }
};

// [catalog.][schema.]name
struct TableName {
  std::string catalog;  // empty when not given
  std::string schema;   // empty when not given
  std::string name;
  bool quoted = false;  // name was "quoted"
  Span span;
  // "schema.name", or "name" without a schema.
  std::string FullName() const;
};

struct SelectStmt;
struct Statement;

enum class ExprKind : uint8_t {
  kInteger,  // int_value
  kNumeric,  // an integer literal out of int64 range (text in span; float_value approximates)
  kFloat,    // 1.5, 1e3: float_value (text in span)
  kString,   // str_value (decoded)
  kBlob,     // X'..': str_value holds the hex digits
  kNull,
  kBool,      // TRUE / FALSE: int_value 1 / 0
  kDefault,   // DEFAULT (in VALUES rows and SET a = DEFAULT)
  kParam,     // $n: int_value n (>= 1)
  kColumn,    // [schema.][table.]name: `table`, `schema`, `name`, `quoted`
  kStar,      // * or table.*: `table` (empty for *)
  kFunction,  // [schema.]name(args): see Expr's function fields
  kUnary,     // op (kNeg, kPlus, kNot, kOther with op_text) args[0]
  kBinary,    // args[0] op args[1]; kAnd / kOr are n-ary (args[0..n)); LIKE may have args[2] ESCAPE
  kIsNull,    // args[0] IS NULL (negated: IS NOT NULL); also ISNULL / NOTNULL / IS UNKNOWN
  kBetween,   // args[0] [NOT] BETWEEN args[1] AND args[2]
  kIn,        // args[0] [NOT] IN (args[1..]) or IN (subquery)
  kCase,      // CASE [operand] WHEN a THEN b ... [ELSE e] END: see has_operand / has_else
  kCast,      // CAST(args[0] AS name), args[0]::name, or a typed literal name 'text'
  kCollate,   // args[0] COLLATE name
  kExists,    // EXISTS (subquery)
  kSubquery,  // (subquery), a scalar subquery
  kRow,       // (a, b, ...) or ROW(a, b, ...): args
  kArray,     // ARRAY[args] or ARRAY(subquery)
  kSubscript,  // args[0][args[1]] or, with slice, args[0][args[1]:args[2]] (a bound may be kNull)
};

enum class Op : uint8_t {
  kNone,
  kAnd,
  kOr,
  kNot,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kLike,
  kILike,
  kGlob,
  kRegexp,
  kMatch,
  kSimilar,  // `negated` for NOT LIKE etc.
  kIs,
  kIsNot,
  kIsDistinctFrom,
  kIsNotDistinctFrom,
  kConcat,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kNeg,
  kPlus,   // unary - and +
  kOther,  // any other operator: op_text holds it (e.g. "->>", "!~", "OPERATOR(pg_catalog.~)")
};

struct Expr {
  explicit Expr(ExprKind k) : kind(k) {}

  ExprKind kind;
  Op op = Op::kNone;
  bool negated = false;      // NOT IN / NOT BETWEEN / NOT LIKE / IS NOT NULL
  bool quoted = false;       // kColumn: name was "quoted"
  bool parens = false;       // span includes enclosing parentheses
  bool distinct = false;     // kFunction: f(DISTINCT ...)
  bool star = false;         // kFunction: count(*)
  bool no_parens = false;    // kFunction: CURRENT_TIMESTAMP, CURRENT_USER, ...
  bool has_operand = false;  // kCase: args[0] is the CASE operand
  bool has_else = false;     // kCase: args.back() is the ELSE result
  bool slice = false;        // kSubscript
  uint16_t height = 1;       // of this subtree, including subqueries
  Span span;
  Span op_span;  // kUnary / kBinary / kIn / ...: the operator's text
  int64_t int_value = 0;
  double float_value = 0;
  std::string str_value;
  std::string schema;  // kColumn, kFunction: qualifier; kColumn with 3 parts: schema.table.name
  std::string table;   // kColumn, kStar: table qualifier
  std::string
      name;  // kColumn, kFunction (lower-cased), kCast type / kCollate collation (as written)
  std::string op_text;  // Op::kOther: the operator as written
  std::vector<std::unique_ptr<Expr>> args;
  std::unique_ptr<SelectStmt>
      subquery;  // kExists, kSubquery, kIn, kArray, kFunction over (SELECT ...)
  // kFunction extents: ORDER BY inside the call, WITHIN GROUP (...), FILTER (...), OVER ...
  Span agg_order, within_group, filter, over;

  const Expr* arg(size_t i) const { return args[i].get(); }
  bool IsLiteral() const { return kind <= ExprKind::kBool; }
};

struct SelectItem {
  std::unique_ptr<Expr> expr;  // kStar for * and t.*
  Name alias;                  // empty when none
  Span span;                   // expression and alias
};

enum class JoinType : uint8_t { kNone, kComma, kInner, kLeft, kRight, kFull, kCross };

// One item of a FROM list, flattened in source order: `join` says how it
// joins the items before it (kNone for the first). Parenthesised joins are
// flattened too.
struct TableRef {
  enum class Kind : uint8_t { kTable, kSubquery, kFunction };
  Kind kind = Kind::kTable;
  JoinType join = JoinType::kNone;
  bool natural = false;
  bool lateral = false;
  TableName table;                       // kTable
  std::unique_ptr<SelectStmt> subquery;  // kSubquery
  std::unique_ptr<Expr> function;        // kFunction: generate_series(1, 3), json_each(x)
  Name alias;
  std::unique_ptr<Expr> on;         // JOIN ... ON
  std::vector<Name> using_columns;  // JOIN ... USING (a, b)
  Span span;                        // the item and its alias, without the join
};

struct OrderItem {
  enum class Nulls : uint8_t { kDefault, kFirst, kLast };
  std::unique_ptr<Expr> expr;
  bool desc = false;
  Nulls nulls = Nulls::kDefault;
  int position = 0;  // ORDER BY 2: the 1-based select-list position, else 0
  Span span;
};

struct ValuesRow {
  std::vector<std::unique_ptr<Expr>> values;
  Span span;  // "(...)" with its parentheses
};

enum class SetOp : uint8_t { kUnion, kUnionAll, kIntersect, kIntersectAll, kExcept, kExceptAll };

// One SELECT ... [FROM ...] [WHERE ...] [GROUP BY ...] [HAVING ...], or a
// VALUES list, or a parenthesised query (nested) inside a compound.
struct SelectCore {
  bool distinct = false;
  std::vector<std::unique_ptr<Expr>> distinct_on;  // DISTINCT ON (...)
  std::vector<SelectItem> items;
  Span items_span;
  std::vector<TableRef> from;
  Span from_span;  // the FROM list, without the keyword
  std::unique_ptr<Expr> where;
  std::vector<std::unique_ptr<Expr>> group_by;
  std::unique_ptr<Expr> having;
  Span window;  // WINDOW clause, with the keyword
  bool is_values = false;
  std::vector<ValuesRow> values;
  std::unique_ptr<SelectStmt> nested;
  Span span;
};

struct Cte {
  Name name;
  std::vector<Name> columns;
  std::unique_ptr<Statement> query;  // SELECT, or INSERT/UPDATE/DELETE ... RETURNING
  Span span;                         // name AS (...)
};

enum class Locking : uint8_t { kNone, kUpdate, kNoKeyUpdate, kShare, kKeyShare };

struct SelectStmt {
  std::vector<Cte> ctes;
  bool recursive = false;
  std::vector<SelectCore> cores;  // one for a plain query; the parts of a compound
  std::vector<SetOp> set_ops;     // set_ops[i] combines cores[i] and cores[i + 1]
  std::vector<OrderItem> order_by;
  Span order_by_span;           // ORDER BY clause with the keywords
  std::unique_ptr<Expr> limit;  // null when absent or LIMIT ALL
  std::unique_ptr<Expr> offset;
  bool limit_comma = false;  // SQLite LIMIT offset, count
  bool fetch = false;        // FETCH FIRST n ROWS ONLY / WITH TIES
  Span limit_span;           // LIMIT / OFFSET / FETCH clauses with their keywords
  Locking locking = Locking::kNone;
  Span locking_span;  // FOR UPDATE ... with the keywords
  Span span;
  uint16_t height = 1;

  bool compound() const { return cores.size() > 1; }
  const SelectCore& core() const { return cores.front(); }
};

enum class OrAction : uint8_t { kNone, kReplace, kIgnore, kAbort, kFail, kRollback };

// a = v, or (a, b) = (v, w) / (a, b) = (SELECT ...)
struct Assignment {
  std::vector<Name> columns;
  std::unique_ptr<Expr> value;
  Span span;
};

struct OnConflict {
  std::vector<std::unique_ptr<Expr>> target;  // ON CONFLICT (a, b)
  std::unique_ptr<Expr> target_where;
  Name constraint;         // ON CONFLICT ON CONSTRAINT name
  bool do_update = false;  // else DO NOTHING
  std::vector<Assignment> set;
  std::unique_ptr<Expr> where;
  Span span;  // from ON CONFLICT to the end of the action
};

struct InsertStmt {
  enum class Source : uint8_t { kValues, kSelect, kDefaultValues };
  std::vector<Cte> ctes;
  OrAction or_action = OrAction::kNone;  // INSERT OR REPLACE ...; REPLACE INTO is kReplace
  bool replace_into = false;
  TableName table;
  Name alias;
  std::vector<Name> columns;
  Span columns_span;  // "(a, b)" with parentheses; empty when no list
  Source source = Source::kValues;
  std::vector<ValuesRow> rows;          // kValues
  std::unique_ptr<SelectStmt> select;   // kSelect
  std::vector<OnConflict> on_conflict;  // SQLite allows several
  Span on_conflict_span;
  std::vector<SelectItem> returning;
  Span returning_span;  // RETURNING with the keyword
};

struct UpdateStmt {
  std::vector<Cte> ctes;
  OrAction or_action = OrAction::kNone;
  TableName table;
  Name alias;
  std::vector<Assignment> set;
  Span set_span;               // the assignments, without SET
  std::vector<TableRef> from;  // UPDATE ... FROM
  std::unique_ptr<Expr> where;
  std::vector<SelectItem> returning;
  Span returning_span;
  bool has_from() const { return !from.empty(); }
};

struct DeleteStmt {
  std::vector<Cte> ctes;
  TableName table;
  Name alias;
  std::vector<TableRef> using_tables;  // DELETE ... USING
  std::unique_ptr<Expr> where;
  std::vector<SelectItem> returning;
  Span returning_span;
};

// BEGIN / START TRANSACTION / COMMIT / ROLLBACK / SAVEPOINT / RELEASE / ROLLBACK TO.
struct TransactionStmt {
  std::optional<bool> read_only;   // READ ONLY / READ WRITE
  std::optional<bool> deferrable;  // [NOT] DEFERRABLE
  std::string isolation;           // "serializable", "repeatable read", ... (lower case)
  std::string sqlite_mode;         // BEGIN DEFERRED / IMMEDIATE / EXCLUSIVE: "deferred", ...
  Name savepoint;
  bool chain = false;  // COMMIT AND CHAIN
};

// SET / RESET / SHOW.
struct VariableStmt {
  enum class Scope : uint8_t { kDefault, kSession, kLocal };
  Scope scope = Scope::kDefault;
  std::string name;         // lower case; "timezone" for TIME ZONE, "all" for RESET/SHOW ALL
  bool to_default = false;  // SET x TO DEFAULT
  std::string value;        // the value list as written ("'UTC'", "a, b")
  std::vector<std::string> values;  // each value decoded: strings unquoted, names lower-cased
  Span value_span;                  // also SHOW's arguments after the name, if any
};

struct CopyStmt {
  enum class Direction : uint8_t { kFrom, kTo };
  enum class Endpoint : uint8_t { kStdin, kStdout, kFile, kProgram };
  enum class Format : uint8_t { kText, kCsv, kBinary };
  TableName table;  // empty name for COPY (query) TO
  std::vector<Name> columns;
  std::unique_ptr<SelectStmt> query;  // COPY (SELECT ...) TO ...
  Direction direction = Direction::kFrom;
  Endpoint endpoint = Endpoint::kStdin;
  std::string file;  // kFile / kProgram: the file name or command
  Format format = Format::kText;
  std::optional<std::string> delimiter;
  std::optional<std::string> null_string;
  std::optional<std::string> quote;
  std::optional<std::string> escape;
  std::optional<std::string> encoding;
  bool header = false;
  std::unique_ptr<Expr> where;  // COPY ... FROM ... WHERE
  Span options_span;            // everything after the source, as written
};

struct ColumnDef {
  Name name;
  std::string type;  // as written ("varchar(20)", "double precision"); empty when none
  bool primary_key = false;
  Span span;  // the whole definition with its constraints
};

// CREATE/DROP/ALTER TABLE, CREATE/DROP INDEX, CREATE/DROP VIEW, CREATE/DROP TRIGGER.
struct DdlStmt {
  TableName object;                // the table, index, view or trigger named
  TableName table;                 // the table it belongs to (= object for table statements)
  std::vector<TableName> objects;  // DROP ... a, b: every name (object is the first)
  bool if_not_exists = false;
  bool if_exists = false;
  bool temporary = false;
  bool unique = false;  // CREATE UNIQUE INDEX
  bool or_replace = false;
  bool without_rowid = false;
  bool cascade = false;
  std::vector<ColumnDef> columns;     // CREATE TABLE (...)
  Span columns_span;                  // "(...)" of CREATE TABLE / CREATE INDEX, with parentheses
  std::vector<Name> primary_key;      // from column or table constraints, in key order
  std::unique_ptr<SelectStmt> query;  // CREATE TABLE ... AS / CREATE VIEW ... AS
  // Shale's layout clause of CREATE TABLE (docs/sql.md): DISTRIBUTED BY (col)
  // or DISTRIBUTED REPLICATED; distributed_span covers it, for removal
  // before the text reaches SQLite.
  Name distributed_by;
  bool distributed_replicated = false;
  Span distributed_span;
  std::string alter_action;           // ALTER TABLE: leading words of the action, lower case
  Span body;                          // ALTER TABLE action / trigger body etc., as written
};

struct ExplainStmt {
  bool query_plan = false;  // SQLite EXPLAIN QUERY PLAN
  bool analyze = false;
  Span options;
  std::unique_ptr<Statement> inner;
};

struct OtherStmt {
  std::string keywords;  // "pragma", "vacuum", "discard all", "create schema", ...
};

enum class StatementKind : uint8_t {
  kEmpty,  // only white space / comments / ";"
  kSelect,
  kInsert,
  kUpdate,
  kDelete,
  kBegin,
  kCommit,
  kRollback,
  kSavepoint,
  kRelease,
  kRollbackTo,
  kSet,
  kReset,
  kShow,
  kCopy,
  kCreateTable,
  kDropTable,
  kAlterTable,
  kCreateIndex,
  kDropIndex,
  kCreateView,
  kDropView,
  kCreateTrigger,
  kDropTrigger,
  kExplain,
  kOther,
};

absl::string_view StatementKindName(StatementKind kind);
absl::string_view ExprKindName(ExprKind kind);
absl::string_view OpName(Op op);

struct Statement {
  using Node =
      std::variant<std::monostate, SelectStmt, InsertStmt, UpdateStmt, DeleteStmt, TransactionStmt,
                   VariableStmt, CopyStmt, DdlStmt, ExplainStmt, OtherStmt>;

  StatementKind kind = StatementKind::kEmpty;
  // The text as given to Parse. Empty for inner statements (CTE bodies,
  // EXPLAIN's statement): their spans index the outer statement's text.
  std::string text;
  Span span;             // the statement without surrounding space, comments and ';'
  int max_param = 0;     // highest $n used, 0 when none
  bool has_cte = false;  // WITH anywhere in the statement
  Node node;

  absl::string_view Text(Span s) const {
    return absl::string_view(text).substr(s.begin, s.end - s.begin);
  }
  absl::string_view Text(const Expr& e) const { return Text(e.span); }

  const SelectStmt* select() const { return std::get_if<SelectStmt>(&node); }
  const InsertStmt* insert() const { return std::get_if<InsertStmt>(&node); }
  const UpdateStmt* update() const { return std::get_if<UpdateStmt>(&node); }
  const DeleteStmt* del() const { return std::get_if<DeleteStmt>(&node); }
  const TransactionStmt* transaction() const { return std::get_if<TransactionStmt>(&node); }
  const VariableStmt* variable() const { return std::get_if<VariableStmt>(&node); }
  const CopyStmt* copy() const { return std::get_if<CopyStmt>(&node); }
  const DdlStmt* ddl() const { return std::get_if<DdlStmt>(&node); }
  const ExplainStmt* explain() const { return std::get_if<ExplainStmt>(&node); }
  const OtherStmt* other() const { return std::get_if<OtherStmt>(&node); }
};

// The top-level AND chain of where, flattened (nested ANDs too, also when
// parenthesised); {where} when it is not an AND; empty for null.
std::vector<const Expr*> Conjuncts(const Expr* where);

// Calls fn on e and every expression below it, in pre-order. Does not enter
// subqueries (Expr::subquery).
void ForEachExpr(const Expr& e, absl::FunctionRef<void(const Expr&)> fn);

// Every base table the statement reads, in source order: FROM lists, joins,
// USING/FROM of DELETE/UPDATE, subqueries anywhere (expressions, FROM, CTE
// bodies), INSERT ... SELECT, CREATE VIEW/TABLE ... AS, EXPLAIN's statement.
// Names that refer to a CTE in scope are left out; a DML statement's target
// table is not included (unless it is also read). Pointers into stmt.
std::vector<const TableName*> ReadTables(const Statement& stmt);

}  // namespace shale::gate::sql
