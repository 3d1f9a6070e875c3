// Parser tests: the parts of SELECT and of INSERT / UPDATE / DELETE.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gate/sql/debug.h"
#include "gate/sql/parser.h"
#include "gate/sql/test_util.h"
#include "gtest/gtest.h"

namespace shale::gate::sql {
namespace {

TEST(ReadTablesTest, Table) {
  struct Case {
    const char* sql;
    const char* want;
  };
  const Case cases[] = {
      {"SELECT 1", ""},
      {"SELECT now()", ""},
      {"SELECT * FROM a", "a"},
      {"SELECT * FROM s.a AS x, b y", "s.a,b"},
      {"SELECT * FROM a JOIN b ON a.id = b.id LEFT OUTER JOIN c USING (id)", "a,b,c"},
      {"SELECT * FROM a CROSS JOIN b NATURAL JOIN c", "a,b,c"},
      {"SELECT * FROM (a JOIN b ON true) JOIN c ON true", "a,b,c"},
      {"SELECT * FROM (SELECT * FROM a) x JOIN b ON true", "a,b"},
      {"SELECT * FROM a WHERE id IN (SELECT id FROM b) AND EXISTS (SELECT 1 FROM c)", "a,b,c"},
      {"SELECT (SELECT max(v) FROM b) FROM a", "b,a"},
      {"SELECT * FROM a UNION ALL SELECT * FROM b", "a,b"},
      {"WITH x AS (SELECT * FROM a) SELECT * FROM x JOIN b ON true", "a,b"},
      {"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r", ""},
      {"WITH a AS (SELECT * FROM a) SELECT * FROM a", "a"},
      {"SELECT * FROM generate_series(1, 3) g", ""},
      {"SELECT * FROM a TABLESAMPLE SYSTEM (10) REPEATABLE (1), b AS x TABLESAMPLE bernoulli (5)",
       "a,b"},
      {"INSERT INTO t SELECT * FROM a", "a"},
      {"INSERT INTO t VALUES ((SELECT max(id) FROM a))", "a"},
      {"UPDATE t SET v = u.v FROM u WHERE t.id = u.id", "u"},
      {"DELETE FROM t USING u WHERE t.id = u.id", "u"},
      {"DELETE FROM t WHERE id IN (SELECT id FROM u)", "u"},
      {"CREATE VIEW v AS SELECT * FROM a JOIN b ON true", "a,b"},
      {"CREATE TABLE t2 AS SELECT * FROM a", "a"},
      {"EXPLAIN SELECT * FROM a", "a"},
      {"COPY (SELECT * FROM a) TO STDOUT", "a"},
      {"SELECT * FROM \"A\"", "A"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Statement> st = Parse(c.sql);
    ASSERT_TRUE(st.ok()) << c.sql << ": " << st.status();
    EXPECT_EQ(Tables(*st), c.want) << c.sql;
  }
}

TEST(SelectTest, FromItems) {
  Statement st = MustParse(
      "SELECT * FROM ks.a AS x LEFT JOIN (SELECT id FROM b) AS y ON x.id = y.id, "
      "generate_series(1, 3) g, c INDEXED BY ci");
  ASSERT_NE(st.select(), nullptr);
  const auto& from = st.select()->core().from;
  ASSERT_EQ(from.size(), 4u);
  EXPECT_EQ(from[0].kind, TableRef::Kind::kTable);
  EXPECT_EQ(from[0].table.schema, "ks");
  EXPECT_EQ(from[0].table.name, "a");
  EXPECT_EQ(from[0].alias.value, "x");
  EXPECT_EQ(st.Text(from[0].span), "ks.a AS x");
  EXPECT_EQ(from[1].kind, TableRef::Kind::kSubquery);
  EXPECT_EQ(from[1].join, JoinType::kLeft);
  EXPECT_EQ(from[1].alias.value, "y");
  EXPECT_EQ(DebugString(*from[1].on, st.text), "(x.id = y.id)");
  EXPECT_EQ(from[2].kind, TableRef::Kind::kFunction);
  EXPECT_EQ(from[2].join, JoinType::kComma);
  EXPECT_EQ(from[2].function->name, "generate_series");
  EXPECT_EQ(from[3].table.name, "c");
  EXPECT_EQ(st.Text(st.select()->core().from_span),
            "ks.a AS x LEFT JOIN (SELECT id FROM b) AS y ON x.id = y.id, "
            "generate_series(1, 3) g, c INDEXED BY ci");
}

TEST(SelectTest, Clauses) {
  Statement st = MustParse(
      "SELECT DISTINCT a, count(*) AS n, sum(b) total, avg(DISTINCT c) FROM t "
      "WHERE a > 1 GROUP BY a HAVING count(*) > 1 ORDER BY 2 DESC NULLS LAST, a "
      "LIMIT 10 OFFSET 5 FOR UPDATE");
  ASSERT_NE(st.select(), nullptr);
  const SelectStmt& s = *st.select();
  const SelectCore& c = s.core();
  EXPECT_TRUE(c.distinct);
  ASSERT_EQ(c.items.size(), 4u);
  EXPECT_EQ(c.items[1].expr->kind, ExprKind::kFunction);
  EXPECT_EQ(c.items[1].expr->name, "count");
  EXPECT_TRUE(c.items[1].expr->star);
  EXPECT_EQ(c.items[1].alias.value, "n");
  EXPECT_EQ(c.items[2].expr->name, "sum");
  EXPECT_EQ(c.items[2].alias.value, "total");
  EXPECT_FALSE(c.items[2].expr->distinct);
  EXPECT_EQ(c.items[3].expr->name, "avg");
  EXPECT_TRUE(c.items[3].expr->distinct);
  ASSERT_EQ(c.group_by.size(), 1u);
  EXPECT_EQ(DebugString(*c.having, st.text), "(count(*) > 1)");
  ASSERT_EQ(s.order_by.size(), 2u);
  EXPECT_EQ(s.order_by[0].position, 2);
  EXPECT_TRUE(s.order_by[0].desc);
  EXPECT_EQ(s.order_by[0].nulls, OrderItem::Nulls::kLast);
  EXPECT_EQ(s.order_by[1].position, 0);
  EXPECT_FALSE(s.order_by[1].desc);
  EXPECT_EQ(st.Text(s.order_by_span), "ORDER BY 2 DESC NULLS LAST, a");
  EXPECT_EQ(s.limit->int_value, 10);
  EXPECT_EQ(s.offset->int_value, 5);
  EXPECT_EQ(st.Text(s.limit_span), "LIMIT 10 OFFSET 5");
  EXPECT_EQ(s.locking, Locking::kUpdate);
  EXPECT_EQ(st.Text(s.locking_span), "FOR UPDATE");
}

TEST(SelectTest, LimitForms) {
  struct Case {
    const char* tail;
    const char* limit;  // DebugString or "-" for none
    const char* offset;
    bool comma;
    const char* span;
  };
  const Case cases[] = {
      {"LIMIT 5", "5", "-", false, "LIMIT 5"},
      {"LIMIT $1 OFFSET $2", "$1", "$2", false, "LIMIT $1 OFFSET $2"},
      {"OFFSET 3 LIMIT 4", "4", "3", false, "OFFSET 3 LIMIT 4"},
      {"LIMIT 20, 10", "10", "20", true, "LIMIT 20, 10"},
      {"OFFSET 7", "-", "7", false, "OFFSET 7"},
      {"OFFSET 7 ROWS", "-", "7", false, "OFFSET 7 ROWS"},
      {"LIMIT ALL", "-", "-", false, "LIMIT ALL"},
      {"FETCH FIRST 3 ROWS ONLY", "3", "-", false, "FETCH FIRST 3 ROWS ONLY"},
      {"OFFSET 1 ROW FETCH NEXT ROW ONLY", "1", "1", false, "OFFSET 1 ROW FETCH NEXT ROW ONLY"},
      {"FETCH FIRST 2 ROWS WITH TIES", "2", "-", false, "FETCH FIRST 2 ROWS WITH TIES"},
  };
  for (const Case& c : cases) {
    Statement st = MustParse(absl::StrCat("SELECT a FROM t ORDER BY a ", c.tail));
    ASSERT_NE(st.select(), nullptr) << c.tail;
    const SelectStmt& s = *st.select();
    EXPECT_EQ(s.limit ? DebugString(*s.limit, st.text) : "-", c.limit) << c.tail;
    EXPECT_EQ(s.offset ? DebugString(*s.offset, st.text) : "-", c.offset) << c.tail;
    EXPECT_EQ(s.limit_comma, c.comma) << c.tail;
    EXPECT_EQ(st.Text(s.limit_span), c.span) << c.tail;
  }
}

TEST(SelectTest, CompoundsAndCtes) {
  Statement st = MustParse(
      "WITH x AS (SELECT a FROM t), y (b) AS MATERIALIZED (VALUES (1)) "
      "SELECT a FROM x UNION ALL SELECT b FROM y EXCEPT (SELECT 3 ORDER BY 1 LIMIT 1) "
      "ORDER BY 1 LIMIT 2");
  ASSERT_NE(st.select(), nullptr);
  EXPECT_TRUE(st.has_cte);
  const SelectStmt& s = *st.select();
  ASSERT_EQ(s.ctes.size(), 2u);
  EXPECT_EQ(s.ctes[0].name.value, "x");
  EXPECT_EQ(s.ctes[1].columns[0].value, "b");
  ASSERT_NE(s.ctes[1].query->select(), nullptr);
  EXPECT_TRUE(s.ctes[1].query->select()->core().is_values);
  ASSERT_EQ(s.cores.size(), 3u);
  EXPECT_TRUE(s.compound());
  EXPECT_EQ(s.set_ops[0], SetOp::kUnionAll);
  EXPECT_EQ(s.set_ops[1], SetOp::kExcept);
  ASSERT_NE(s.cores[2].nested, nullptr);
  EXPECT_EQ(s.cores[2].nested->order_by.size(), 1u);
  EXPECT_EQ(s.order_by.size(), 1u);
  EXPECT_EQ(s.limit->int_value, 2);

  EXPECT_FALSE(MustParse("SELECT 1").has_cte);
  EXPECT_TRUE(
      MustParse("SELECT * FROM t WHERE a IN (WITH q AS (SELECT 1) SELECT * FROM q)").has_cte);
  Statement paren = MustParse("(SELECT a FROM t WHERE id = 1)");
  ASSERT_NE(paren.select(), nullptr);
  EXPECT_FALSE(paren.select()->compound());
  EXPECT_EQ(paren.select()->core().from[0].table.name, "t");
}

TEST(SelectTest, ItemsAndAliases) {
  Statement st =
      MustParse("SELECT *, t.*, a b, c AS \"D\", e AS from_, 1 'one', f.g FROM t WHERE x = 1");
  ASSERT_NE(st.select(), nullptr);
  const auto& items = st.select()->core().items;
  ASSERT_EQ(items.size(), 7u);
  EXPECT_EQ(items[0].expr->kind, ExprKind::kStar);
  EXPECT_EQ(items[0].expr->table, "");
  EXPECT_EQ(items[1].expr->kind, ExprKind::kStar);
  EXPECT_EQ(items[1].expr->table, "t");
  EXPECT_EQ(items[2].alias.value, "b");
  EXPECT_EQ(items[3].alias.value, "D");
  EXPECT_EQ(items[4].alias.value, "from_");
  EXPECT_EQ(items[5].alias.value, "one");
  EXPECT_EQ(items[6].expr->table, "f");
  EXPECT_EQ(items[6].expr->name, "g");
  EXPECT_TRUE(items[6].alias.empty());
}

TEST(SelectTest, LockingForms) {
  for (const char* tail : {"FOR UPDATE", "FOR NO KEY UPDATE OF t NOWAIT", "FOR SHARE SKIP LOCKED",
                           "FOR KEY SHARE", "LIMIT 1 FOR UPDATE", "FOR UPDATE LIMIT 1"}) {
    Statement st = MustParse(absl::StrCat("SELECT * FROM t WHERE id = 1 ", tail));
    ASSERT_NE(st.select(), nullptr) << tail;
    EXPECT_NE(st.select()->locking, Locking::kNone) << tail;
  }
}

// The gateway splits a multi-row INSERT per shard by rebuilding it from the
// text before the first row, a subset of the rows and the text after the
// last row.
TEST(InsertTest, RowSpansRebuildTheStatement) {
  Statement st = MustParse(
      "INSERT INTO t (id, name) VALUES (1, 'a'), ($1, 'b''c'), (3, lower('D')) "
      "ON CONFLICT (id) DO UPDATE SET name = excluded.name RETURNING id;");
  ASSERT_NE(st.insert(), nullptr);
  const InsertStmt& ins = *st.insert();
  ASSERT_EQ(ins.rows.size(), 3u);
  EXPECT_EQ(st.Text(ins.rows[0].span), "(1, 'a')");
  EXPECT_EQ(st.Text(ins.rows[1].span), "($1, 'b''c')");
  EXPECT_EQ(st.Text(ins.rows[2].span), "(3, lower('D'))");
  std::string prefix(st.text.substr(0, ins.rows.front().span.begin));
  std::string suffix(st.text.substr(ins.rows.back().span.end));
  EXPECT_EQ(prefix, "INSERT INTO t (id, name) VALUES ");
  EXPECT_EQ(suffix, " ON CONFLICT (id) DO UPDATE SET name = excluded.name RETURNING id;");
  std::string rebuilt =
      absl::StrCat(prefix, st.Text(ins.rows[0].span), ", ", st.Text(ins.rows[2].span), suffix);
  EXPECT_EQ(rebuilt,
            "INSERT INTO t (id, name) VALUES (1, 'a'), (3, lower('D')) ON CONFLICT (id) DO "
            "UPDATE SET name = excluded.name RETURNING id;");
  ASSERT_TRUE(Parse(rebuilt).ok());
  ASSERT_EQ(ins.on_conflict.size(), 1u);
  EXPECT_TRUE(ins.on_conflict[0].do_update);
  EXPECT_EQ(ins.on_conflict[0].set[0].columns[0].value, "name");
  EXPECT_EQ(st.Text(ins.on_conflict_span), "ON CONFLICT (id) DO UPDATE SET name = excluded.name");
  EXPECT_EQ(ins.returning.size(), 1u);
  EXPECT_EQ(st.Text(ins.returning_span), "RETURNING id");
  EXPECT_EQ(ins.rows[1].values[0]->kind, ExprKind::kParam);
  EXPECT_EQ(ins.rows[1].values[1]->str_value, "b'c");
}

TEST(InsertTest, Forms) {
  Statement sel = MustParse(
      "INSERT INTO s.t AS x (a) SELECT b FROM u WHERE c = 1 "
      "ON CONFLICT DO NOTHING");
  ASSERT_NE(sel.insert(), nullptr);
  EXPECT_EQ(sel.insert()->source, InsertStmt::Source::kSelect);
  EXPECT_EQ(sel.insert()->table.schema, "s");
  EXPECT_EQ(sel.insert()->alias.value, "x");
  EXPECT_FALSE(sel.insert()->on_conflict[0].do_update);

  Statement def = MustParse("INSERT INTO t DEFAULT VALUES RETURNING *");
  EXPECT_EQ(def.insert()->source, InsertStmt::Source::kDefaultValues);
  EXPECT_EQ(def.insert()->returning[0].expr->kind, ExprKind::kStar);

  Statement rep = MustParse("REPLACE INTO t VALUES (1, DEFAULT)");
  EXPECT_TRUE(rep.insert()->replace_into);
  EXPECT_EQ(rep.insert()->or_action, OrAction::kReplace);
  EXPECT_EQ(rep.insert()->rows[0].values[1]->kind, ExprKind::kDefault);

  Statement ign = MustParse("INSERT OR IGNORE INTO t (a, b) VALUES (1, 2)");
  EXPECT_EQ(ign.insert()->or_action, OrAction::kIgnore);

  Statement paren = MustParse("INSERT INTO t (SELECT * FROM u)");
  EXPECT_EQ(paren.insert()->source, InsertStmt::Source::kSelect);
  EXPECT_TRUE(paren.insert()->columns.empty());

  Statement cons = MustParse(
      "INSERT INTO t VALUES (1) ON CONFLICT ON CONSTRAINT t_pkey DO UPDATE SET (a, b) = (1, 2) "
      "WHERE t.a > 0");
  EXPECT_EQ(cons.insert()->on_conflict[0].constraint.value, "t_pkey");
  EXPECT_EQ(cons.insert()->on_conflict[0].set[0].columns.size(), 2u);
  EXPECT_NE(cons.insert()->on_conflict[0].where, nullptr);
}

TEST(UpdateDeleteTest, Parts) {
  Statement up = MustParse(
      "UPDATE ONLY t AS x SET a = DEFAULT, (b, c) = (SELECT 1, 2) FROM u "
      "WHERE x.id = u.id AND x.k = $1 RETURNING x.a");
  ASSERT_NE(up.update(), nullptr);
  const UpdateStmt& u = *up.update();
  EXPECT_EQ(u.table.name, "t");
  EXPECT_EQ(u.alias.value, "x");
  ASSERT_EQ(u.set.size(), 2u);
  EXPECT_EQ(u.set[0].value->kind, ExprKind::kDefault);
  EXPECT_EQ(u.set[1].columns.size(), 2u);
  EXPECT_EQ(u.set[1].value->kind, ExprKind::kSubquery);
  EXPECT_TRUE(u.has_from());
  EXPECT_EQ(Conjuncts(u.where.get()).size(), 2u);
  EXPECT_EQ(up.Text(u.set_span), "a = DEFAULT, (b, c) = (SELECT 1, 2)");
  EXPECT_EQ(up.Text(u.returning_span), "RETURNING x.a");

  Statement bare = MustParse("UPDATE t set a = 1");
  EXPECT_TRUE(bare.update()->alias.empty());
  EXPECT_FALSE(bare.update()->has_from());
  Statement sqlite = MustParse("UPDATE OR REPLACE t SET a = 1");
  EXPECT_EQ(sqlite.update()->or_action, OrAction::kReplace);

  Statement del = MustParse("DELETE FROM t x USING u WHERE x.id = u.id RETURNING *");
  ASSERT_NE(del.del(), nullptr);
  EXPECT_EQ(del.del()->table.name, "t");
  EXPECT_EQ(del.del()->alias.value, "x");
  EXPECT_EQ(del.del()->using_tables.size(), 1u);
  EXPECT_EQ(del.Text(del.del()->returning_span), "RETURNING *");
  Statement all = MustParse("DELETE FROM t");
  EXPECT_EQ(all.del()->where, nullptr);
  Statement with = MustParse("WITH d AS (DELETE FROM t WHERE a = 1 RETURNING *) SELECT * FROM d");
  EXPECT_TRUE(with.has_cte);
  EXPECT_EQ(with.select()->ctes[0].query->kind, StatementKind::kDelete);
}

}  // namespace
}  // namespace shale::gate::sql
