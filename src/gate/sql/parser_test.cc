// Parser tests: expressions, WHERE conjuncts, errors, limits. Statement
// kinds and their parts are in parser_stmt_test.cc.

#include "gate/sql/parser.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "gate/sql/debug.h"
#include "gate/sql/errors.h"
#include "gate/sql/test_util.h"
#include "gtest/gtest.h"

namespace shale::gate::sql {
namespace {

// The first select item of "SELECT <expr>", rendered.
std::string ExprOf(absl::string_view expr) {
  std::string sql = absl::StrCat("SELECT ", expr);
  absl::StatusOr<Statement> st = Parse(sql);
  if (!st.ok()) return absl::StrCat("ERROR ", st.status().message());
  const SelectStmt* s = st->select();
  if (s == nullptr || s->core().items.size() != 1) return "NOT ONE ITEM";
  return DebugString(*s->core().items[0].expr, st->text);
}

TEST(ParserExprTest, Table) {
  struct Case {
    const char* expr;
    const char* want;
  };
  const Case cases[] = {
      // Precedence.
      {"1 + 2 * 3", "(1 + (2 * 3))"},
      {"(1 + 2) * 3", "((1 + 2) * 3)"},
      {"a + b + c", "((a + b) + c)"},
      {"2 ^ 3 * 4", "((2 ^ 3) * 4)"},
      {"a OR b AND c", "(a OR (b AND c))"},
      {"a AND b AND c", "(a AND b AND c)"},
      {"a OR b OR c AND d", "(a OR b OR (c AND d))"},
      {"NOT a = b", "(NOT (a = b))"},
      {"NOT a AND b", "((NOT a) AND b)"},
      {"a = 1 OR NOT b IS NULL", "((a = 1) OR (NOT (b IS NULL)))"},
      {"a || b = c", "((a || b) = c)"},
      {"a + b || c", "((a + b) || c)"},
      {"a = b + 1", "(a = (b + 1))"},
      {"-a::int", "(- CAST(a AS int))"},
      {"-5", "-5"},
      {"- 5 * 2", "(-5 * 2)"},
      {"-9223372036854775808", "-9223372036854775808"},
      {"9223372036854775808", "9223372036854775808"},
      {"-(1)", "(- 1)"},
      {"~a", "(~ a)"},
      {"1.5e3", "1.5e3"},
      {"0x10", "16"},
      {"X'ab'", "x'ab'"},
      {"TRUE AND NULL", "(TRUE AND NULL)"},
      // Comparisons.
      {"a <> b", "(a <> b)"},
      {"a != b", "(a <> b)"},
      {"a == b", "(a = b)"},
      {"a <= b", "(a <= b)"},
      {"a BETWEEN 1 AND 2 AND b", "((a BETWEEN 1 AND 2) AND b)"},
      {"a NOT BETWEEN $1 AND $2", "(a NOT BETWEEN $1 AND $2)"},
      {"a BETWEEN SYMMETRIC 1 AND 2", "(a BETWEEN 1 AND 2)"},
      {"a IN (1, 2, $1)", "(a IN (1, 2, $1))"},
      {"a NOT IN (SELECT b FROM t)", "(a NOT IN <SELECT b FROM t>)"},
      {"(a, b) IN ((1, 2), (3, 4))", "(ROW(a, b) IN (ROW(1, 2), ROW(3, 4)))"},
      {"a LIKE 'x%' ESCAPE '!'", "(a LIKE 'x%' ESCAPE '!')"},
      {"a NOT ILIKE 'x'", "(a NOT ILIKE 'x')"},
      {"a GLOB 'x*'", "(a GLOB 'x*')"},
      {"a REGEXP 'x'", "(a REGEXP 'x')"},
      {"a MATCH 'x'", "(a MATCH 'x')"},
      {"a SIMILAR TO 'x'", "(a SIMILAR TO 'x')"},
      {"a IS NULL", "(a IS NULL)"},
      {"a IS NOT NULL", "(a IS NOT NULL)"},
      {"a ISNULL", "(a IS NULL)"},
      {"a NOTNULL", "(a IS NOT NULL)"},
      {"a NOT NULL", "(a IS NOT NULL)"},
      {"a IS DISTINCT FROM b", "(a IS DISTINCT FROM b)"},
      {"a IS NOT DISTINCT FROM b", "(a IS NOT DISTINCT FROM b)"},
      {"a IS TRUE", "(a IS TRUE)"},
      {"a IS NOT b", "(a IS NOT b)"},
      // Other operators keep their text.
      {"x ->> 'k'", "(x ->> 'k')"},
      {"x -> 'k' ->> 'j'", "((x -> 'k') ->> 'j')"},
      {"a !~ '^pg'", "(a !~ '^pg')"},
      {"a @> b", "(a @> b)"},
      {"c.relname OPERATOR(pg_catalog.~) '^(foo)$' COLLATE pg_catalog.default",
       "(c.relname OPERATOR(pg_catalog.~) ('^(foo)$' COLLATE pg_catalog.default))"},
      {"ts AT TIME ZONE 'UTC'", "(ts AT TIME ZONE 'UTC')"},
      {"a COLLATE \"C\"", "(a COLLATE \"C\")"},
      {"a COLLATE nocase = 'x'", "((a COLLATE nocase) = 'x')"},
      // CASE, CAST, subqueries, rows, arrays.
      {"CASE WHEN a THEN 1 ELSE 2 END", "CASE WHEN a THEN 1 ELSE 2 END"},
      {"CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' END",
       "CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' END"},
      {"CAST(a AS varchar(10))", "CAST(a AS varchar(10))"},
      {"CAST($1 AS UNSIGNED BIG INT)", "CAST($1 AS UNSIGNED BIG INT)"},
      {"a::timestamp with time zone", "CAST(a AS timestamp with time zone)"},
      {"a::double precision", "CAST(a AS double precision)"},
      {"c.reloftype::pg_catalog.regtype::pg_catalog.text",
       "CAST(CAST(c.reloftype AS pg_catalog.regtype) AS pg_catalog.text)"},
      {"'1'::int[]", "CAST('1' AS int[])"},
      {"date '2024-01-31'", "CAST('2024-01-31' AS date)"},
      {"EXISTS (SELECT 1)", "EXISTS<SELECT 1>"},
      {"NOT EXISTS (SELECT 1 FROM t)", "(NOT EXISTS<SELECT 1 FROM t>)"},
      {"(SELECT max(a) FROM t)", "<SELECT max(a) FROM t>"},
      {"((SELECT 1))", "<SELECT 1>"},
      {"(a, b)", "ROW(a, b)"},
      {"ROW(1, 2)", "ROW(1, 2)"},
      {"ARRAY[1, 2]", "ARRAY[1, 2]"},
      {"ARRAY[[1], [2]]", "ARRAY[ARRAY[1], ARRAY[2]]"},
      {"ARRAY(SELECT 1)", "ARRAY<SELECT 1>"},
      {"array(select rolname from pg_catalog.pg_roles)",
       "ARRAY<select rolname from pg_catalog.pg_roles>"},
      {"a[1]", "a[1]"},
      {"a[1:2]", "a[1:2]"},
      {"'{0}' || array[pg_catalog.quote_ident('x')]",
       "('{0}' || ARRAY[pg_catalog.quote_ident('x')])"},
      // Functions.
      {"count(*)", "count(*)"},
      {"COUNT(DISTINCT a)", "count(DISTINCT a)"},
      {"count(*) FILTER (WHERE a > 1)", "count(*) FILTER"},
      {"sum(x) OVER (PARTITION BY y ORDER BY z)", "sum(x) OVER"},
      {"rank() OVER w", "rank() OVER"},
      {"pg_catalog.pg_table_is_visible(c.oid)", "pg_catalog.pg_table_is_visible(c.oid)"},
      {"now()", "now()"},
      {"CURRENT_TIMESTAMP", "current_timestamp"},
      {"current_timestamp(3)", "current_timestamp(3)"},
      {"extract(year FROM ts)", "extract(year, ts)"},
      {"substring(a FROM 1 FOR 2)", "substring(a, 1, 2)"},
      {"position('a' IN b)", "position('a', b)"},
      {"trim(BOTH ' ' FROM a)", "trim(' ', a)"},
      {"x = ANY($1)", "(x = any($1))"},
      {"a < ALL (SELECT b FROM t)", "(a < all(<SELECT b FROM t>))"},
      {"string_agg(a, ',' ORDER BY a)", "string_agg(a, ',')"},
      {"left(a, 2)", "left(a, 2)"},
      {"coalesce(a, 0)", "coalesce(a, 0)"},
      {"f(x => 1)", "f(1)"},
      // Names.
      {"\"Col\"", "\"Col\""},
      {"t.\"Col\"", "t.\"Col\""},
      {"s.t.c", "s.t.c"},
      {"t.*", "t.*"},
      {"key", "key"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ExprOf(c.expr), c.want) << c.expr;
  }
}

TEST(ParserExprTest, LiteralValues) {
  Statement st = MustParse("SELECT 42, 9223372036854775808, 1.5, 'it''s', X'00ff', $3, TRUE");
  const auto& items = st.select()->core().items;
  ASSERT_EQ(items.size(), 7u);
  EXPECT_EQ(items[0].expr->kind, ExprKind::kInteger);
  EXPECT_EQ(items[0].expr->int_value, 42);
  EXPECT_EQ(items[1].expr->kind, ExprKind::kNumeric);
  EXPECT_EQ(st.Text(*items[1].expr), "9223372036854775808");
  EXPECT_EQ(items[2].expr->kind, ExprKind::kFloat);
  EXPECT_DOUBLE_EQ(items[2].expr->float_value, 1.5);
  EXPECT_EQ(items[3].expr->kind, ExprKind::kString);
  EXPECT_EQ(items[3].expr->str_value, "it's");
  EXPECT_EQ(items[4].expr->kind, ExprKind::kBlob);
  EXPECT_EQ(items[4].expr->str_value, "00ff");
  EXPECT_EQ(items[5].expr->kind, ExprKind::kParam);
  EXPECT_EQ(items[5].expr->int_value, 3);
  EXPECT_EQ(items[6].expr->kind, ExprKind::kBool);
  EXPECT_EQ(st.max_param, 3);
}

TEST(ParserExprTest, SpansCoverTheSourceText) {
  Statement st = MustParse("SELECT (a + 1) * 2 AS x, f(b, 'c') FROM t WHERE id = $1;");
  const auto& items = st.select()->core().items;
  EXPECT_EQ(st.Text(*items[0].expr), "(a + 1) * 2");
  EXPECT_EQ(st.Text(*items[0].expr->args[0]), "(a + 1)");
  EXPECT_TRUE(items[0].expr->args[0]->parens);
  EXPECT_EQ(st.Text(items[0].span), "(a + 1) * 2 AS x");
  EXPECT_EQ(items[0].alias.value, "x");
  EXPECT_EQ(st.Text(*items[1].expr), "f(b, 'c')");
  EXPECT_EQ(st.Text(st.select()->core().items_span), "(a + 1) * 2 AS x, f(b, 'c')");
  EXPECT_EQ(st.Text(*st.select()->core().where), "id = $1");
  EXPECT_EQ(st.Text(st.span), "SELECT (a + 1) * 2 AS x, f(b, 'c') FROM t WHERE id = $1");
}

TEST(ConjunctsTest, Table) {
  struct Case {
    const char* where;
    std::vector<std::string> want;
  };
  const Case cases[] = {
      {"id = 5 AND x > 3", {"(id = 5)", "(x > 3)"}},
      {"id IN (1, 2, $1)", {"(id IN (1, 2, $1))"}},
      {"(id = 1 OR id = 2)", {"((id = 1) OR (id = 2))"}},
      {"(id = 1 OR id = 2) AND x = 1", {"((id = 1) OR (id = 2))", "(x = 1)"}},
      {"a = 1 AND (b = 2 AND c = 3) AND d", {"(a = 1)", "(b = 2)", "(c = 3)", "d"}},
      {"NOT (a AND b)", {"(NOT (a AND b))"}},
      {"t.id = $1 AND t.k BETWEEN 1 AND 5", {"(t.id = $1)", "(t.k BETWEEN 1 AND 5)"}},
  };
  for (const Case& c : cases) {
    Statement st = MustParse(absl::StrCat("SELECT * FROM t WHERE ", c.where));
    std::vector<std::string> got;
    for (const Expr* e : Conjuncts(st.select()->core().where.get())) {
      got.push_back(DebugString(*e, st.text));
    }
    EXPECT_EQ(got, c.want) << c.where;
  }
  EXPECT_TRUE(Conjuncts(nullptr).empty());
}

TEST(ParserErrorTest, Table) {
  struct Case {
    const char* sql;
    const char* sqlstate;
    const char* message;
    int position;
  };
  const Case cases[] = {
      {"SELEC 1", "42601", "syntax error at or near \"SELEC\"", 1},
      {"SELECT * FROM", "42601", "syntax error at end of input", 14},
      {"SELECT * FROM;", "42601", "syntax error at or near \";\"", 14},
      {"INSERT INTO t VALUES (1,", "42601", "syntax error at end of input", 25},
      {"INSERT INTO t", "42601", "syntax error at end of input", 14},
      {"SELECT * FROM t WHERE", "42601", "syntax error at end of input", 22},
      {"SELECT 1 +", "42601", "syntax error at end of input", 11},
      {"SELECT * FROM t WHERE a = 'abc", "42601", "unterminated quoted string at or near \"'abc\"",
       27},
      {"SELECT * FROM select", "42601", "syntax error at or near \"select\"", 15},
      {"SELECT (1", "42601", "syntax error at end of input", 10},
      {"SELECT 1)", "42601", "syntax error at or near \")\"", 9},
      {"SELECT 1; SELECT 2", "42601", "cannot insert multiple commands into a prepared statement",
       11},
      {"UPDATE t SET WHERE a = 1", "42601", "syntax error at or near \"WHERE\"", 14},
      {"DELETE t", "42601", "syntax error at or near \"t\"", 8},
      {"SELECT $0", "42P02", "there is no parameter $0", 8},
      {"SELECT * FROM t LIMIT 1 LIMIT 2", "42601", "syntax error at or near \"LIMIT\"", 25},
      {"CREATE TABLE t (a int", "42601", "syntax error at end of input", 22},
      {"BEGIN foo", "42601", "syntax error at or near \"foo\"", 7},
      {"SELECT CASE END", "42601", "syntax error at or near \"END\"", 13},
      {"SELECT a FROM t WHERE a = = 1", "42601", "syntax error at or near \"=\"", 27},
      {"SELECT 'é' FROM t WHERE", "42601", "syntax error at end of input", 24},
      {"COPY t FROM STDIN WITH (FORMAT xml)", "22023", "COPY format \"xml\" not recognized", 32},
      {"COPY t FROM STDIN (BOGUS 1)", "42601", "option \"bogus\" not recognized", 20},
      {"SET x", "42601", "syntax error at end of input", 6},
      {"\"select\" 1", "42601", "syntax error at or near \"\"select\"\"", 1},
      {"WITH x AS (SELECT 1)", "42601", "syntax error at end of input", 21},
      {"SELECT * FROM t t2 t3", "42601", "syntax error at or near \"t3\"", 20},
      {"SELECT * FORM t", "42601", "syntax error at or near \"FORM\"", 10},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Statement> st = Parse(c.sql);
    ASSERT_FALSE(st.ok()) << c.sql;
    EXPECT_EQ(st.status().code(), absl::StatusCode::kInvalidArgument) << c.sql;
    EXPECT_EQ(SqlState(st.status()), c.sqlstate) << c.sql;
    EXPECT_EQ(st.status().message(), c.message) << c.sql;
    EXPECT_EQ(ErrorPosition(st.status()), c.position) << c.sql;
  }
}

TEST(ParserLimitsTest, DeepNestingIsRefused) {
  auto nested = [](int depth) {
    return absl::StrCat("SELECT ", std::string(depth, '('), "1", std::string(depth, ')'));
  };
  EXPECT_TRUE(Parse(nested(50)).ok());
  std::vector<std::string> too_complex = {
      nested(1000),
      nested(100000),
      absl::StrCat(
          "SELECT ",
          [] {
            std::string s;
            for (int i = 0; i < 5000; ++i) s += "1 + ";
            return s;
          }(),
          "1"),
      absl::StrCat(
          "SELECT ",
          [] {
            std::string s;
            for (int i = 0; i < 1000; ++i) s += "NOT ";
            return s;
          }(),
          "a"),
      absl::StrCat(
          "SELECT ",
          [] {
            std::string s;
            for (int i = 0; i < 1000; ++i) s += "- ";
            return s;
          }(),
          "1"),
      [] {
        std::string s;
        for (int i = 0; i < 300; ++i) s += "SELECT * FROM (";
        s += "SELECT 1";
        for (int i = 0; i < 300; ++i) s += ") x";
        return s;
      }(),
      [] {
        std::string s = "SELECT 1";
        for (int i = 0; i < 300; ++i) s = absl::StrCat("EXPLAIN ", s);
        return s;
      }(),
      [] {
        std::string s = "SELECT a";
        for (int i = 0; i < 2000; ++i) s += "::int";
        return s;
      }(),
  };
  for (const std::string& sql : too_complex) {
    absl::StatusOr<Statement> st = Parse(sql);
    ASSERT_FALSE(st.ok()) << sql.substr(0, 60);
    EXPECT_EQ(st.status().code(), absl::StatusCode::kResourceExhausted) << sql.substr(0, 60);
    EXPECT_EQ(SqlState(st.status()), "54001") << sql.substr(0, 60);
    EXPECT_EQ(st.status().message(), "statement is too complex");
  }
}

// The tallest accepted trees can be walked and freed (the library's own
// walkers recurse with small frames).
TEST(ParserLimitsTest, TallestAcceptedTreesWalk) {
  std::string chain = "SELECT ";
  for (int i = 0; i < 998; ++i) chain += "1 + ";
  chain += "1";
  std::string nested = "SELECT ";
  for (int i = 0; i < 65; ++i) nested += "(SELECT 1 + ";
  nested += "1";
  for (int i = 0; i < 65; ++i) nested += ")";
  for (const std::string& sql : {chain, nested}) {
    absl::StatusOr<Statement> st = Parse(sql);
    ASSERT_TRUE(st.ok()) << st.status();
    const Expr& e = *st->select()->core().items[0].expr;
    EXPECT_FALSE(DebugString(e, st->text).empty());
    size_t nodes = 0;
    ForEachExpr(e, [&](const Expr&) { ++nodes; });  // subqueries are not entered
    EXPECT_EQ(nodes, sql == chain ? 1997u : 1u);
    EXPECT_TRUE(ReadTables(*st).empty());
  }
}

TEST(ParserLimitsTest, LongFlatListsAreFine) {
  std::string in_list = "SELECT * FROM t WHERE id IN (0";
  std::string and_chain = "SELECT * FROM t WHERE a = 0";
  std::string insert = "INSERT INTO t VALUES (0)";
  for (int i = 1; i < 20000; ++i) {
    absl::StrAppend(&in_list, ", ", i);
    absl::StrAppend(&and_chain, " AND a = ", i);
    absl::StrAppend(&insert, ", (", i, ")");
  }
  in_list += ")";
  EXPECT_TRUE(Parse(in_list).ok());
  EXPECT_TRUE(Parse(and_chain).ok());
  absl::StatusOr<Statement> st = Parse(insert);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->insert()->rows.size(), 20000u);
}

TEST(ParserTest, EmptyAndCommentOnly) {
  for (const char* sql : {"", "  ", ";", " -- c\n ; ;", "/* x */"}) {
    absl::StatusOr<Statement> st = Parse(sql);
    ASSERT_TRUE(st.ok()) << sql << ": " << st.status();
    EXPECT_EQ(st->kind, StatementKind::kEmpty) << sql;
  }
}

}  // namespace
}  // namespace shale::gate::sql
