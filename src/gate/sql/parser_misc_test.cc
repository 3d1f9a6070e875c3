// Parser tests: transactions, SET / RESET / SHOW, COPY, DDL and EXPLAIN.

#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gate/sql/parser.h"
#include "gate/sql/test_util.h"
#include "gtest/gtest.h"

namespace shale::gate::sql {
namespace {

TEST(TransactionTest, Table) {
  struct Case {
    const char* sql;
    StatementKind kind;
    const char* isolation;
    int read_only;  // -1 unset, 0 read write, 1 read only
    const char* sqlite_mode;
    const char* savepoint;
  };
  const Case cases[] = {
      {"BEGIN", StatementKind::kBegin, "", -1, "", ""},
      {"BEGIN WORK", StatementKind::kBegin, "", -1, "", ""},
      {"BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE", StatementKind::kBegin, "serializable", -1,
       "", ""},
      {"START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", StatementKind::kBegin,
       "repeatable read", 1, "", ""},
      {"START TRANSACTION READ WRITE ISOLATION LEVEL READ COMMITTED", StatementKind::kBegin,
       "read committed", 0, "", ""},
      {"BEGIN ISOLATION LEVEL READ UNCOMMITTED NOT DEFERRABLE", StatementKind::kBegin,
       "read uncommitted", -1, "", ""},
      {"BEGIN DEFERRED", StatementKind::kBegin, "", -1, "deferred", ""},
      {"BEGIN IMMEDIATE TRANSACTION", StatementKind::kBegin, "", -1, "immediate", ""},
      {"begin exclusive", StatementKind::kBegin, "", -1, "exclusive", ""},
      {"COMMIT AND NO CHAIN", StatementKind::kCommit, "", -1, "", ""},
      {"END WORK", StatementKind::kCommit, "", -1, "", ""},
      {"ROLLBACK WORK", StatementKind::kRollback, "", -1, "", ""},
      {"SAVEPOINT \"Sp\"", StatementKind::kSavepoint, "", -1, "", "Sp"},
      {"RELEASE SAVEPOINT sp", StatementKind::kRelease, "", -1, "", "sp"},
      {"ROLLBACK TRANSACTION TO SAVEPOINT sp", StatementKind::kRollbackTo, "", -1, "", "sp"},
  };
  for (const Case& c : cases) {
    Statement st = MustParse(c.sql);
    ASSERT_NE(st.transaction(), nullptr) << c.sql;
    const TransactionStmt& tx = *st.transaction();
    EXPECT_EQ(st.kind, c.kind) << c.sql;
    EXPECT_EQ(tx.isolation, c.isolation) << c.sql;
    EXPECT_EQ(tx.read_only.has_value() ? int{*tx.read_only} : -1, c.read_only) << c.sql;
    EXPECT_EQ(tx.sqlite_mode, c.sqlite_mode) << c.sql;
    EXPECT_EQ(tx.savepoint.value, c.savepoint) << c.sql;
  }
}

TEST(VariableTest, Table) {
  struct Case {
    const char* sql;
    StatementKind kind;
    const char* name;
    const char* value;
    std::vector<std::string> values;
    VariableStmt::Scope scope;
    bool to_default;
  };
  using S = VariableStmt::Scope;
  const Case cases[] = {
      {"SET search_path TO \"$user\", public",
       StatementKind::kSet,
       "search_path",
       "\"$user\", public",
       {"$user", "public"},
       S::kDefault,
       false},
      {"SET application_name = 'psql'",
       StatementKind::kSet,
       "application_name",
       "'psql'",
       {"psql"},
       S::kDefault,
       false},
      {"SET SESSION statement_timeout = 5000",
       StatementKind::kSet,
       "statement_timeout",
       "5000",
       {"5000"},
       S::kSession,
       false},
      {"SET LOCAL lock_timeout TO '1s'",
       StatementKind::kSet,
       "lock_timeout",
       "'1s'",
       {"1s"},
       S::kLocal,
       false},
      {"SET extra_float_digits = -3",
       StatementKind::kSet,
       "extra_float_digits",
       "-3",
       {"-3"},
       S::kDefault,
       false},
      {"SET DateStyle TO DEFAULT",
       StatementKind::kSet,
       "datestyle",
       "DEFAULT",
       {},
       S::kDefault,
       true},
      {"SET myapp.user_id = 7",
       StatementKind::kSet,
       "myapp.user_id",
       "7",
       {"7"},
       S::kDefault,
       false},
      {"SET TIME ZONE 'UTC'",
       StatementKind::kSet,
       "timezone",
       "'UTC'",
       {"UTC"},
       S::kDefault,
       false},
      {"SET NAMES 'UTF8'",
       StatementKind::kSet,
       "client_encoding",
       "'UTF8'",
       {"UTF8"},
       S::kDefault,
       false},
      {"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE",
       StatementKind::kSet,
       "session characteristics",
       "ISOLATION LEVEL SERIALIZABLE",
       {"isolation", "level", "serializable"},
       S::kDefault,
       false},
      {"SET TRANSACTION READ ONLY",
       StatementKind::kSet,
       "transaction",
       "READ ONLY",
       {"read", "only"},
       S::kDefault,
       false},
      {"SET CONSTRAINTS ALL DEFERRED",
       StatementKind::kSet,
       "constraints",
       "ALL DEFERRED",
       {"all", "deferred"},
       S::kDefault,
       false},
      {"RESET ALL", StatementKind::kReset, "all", "", {}, S::kDefault, false},
      {"RESET statement_timeout",
       StatementKind::kReset,
       "statement_timeout",
       "",
       {},
       S::kDefault,
       false},
      {"SHOW ALL", StatementKind::kShow, "all", "", {}, S::kDefault, false},
      {"SHOW transaction_isolation",
       StatementKind::kShow,
       "transaction_isolation",
       "",
       {},
       S::kDefault,
       false},
      {"SHOW TRANSACTION ISOLATION LEVEL",
       StatementKind::kShow,
       "transaction_isolation",
       "",
       {},
       S::kDefault,
       false},
      {"SHOW TIME ZONE", StatementKind::kShow, "timezone", "", {}, S::kDefault, false},
      {"SHOW KEYSPACES", StatementKind::kShow, "keyspaces", "", {}, S::kDefault, false},
      {"show shards", StatementKind::kShow, "shards", "", {}, S::kDefault, false},
      {"SHOW TABLETS FROM ks;",
       StatementKind::kShow,
       "tablets",
       "FROM ks",
       {"from", "ks"},
       S::kDefault,
       false},
      {"SHOW server_version", StatementKind::kShow, "server_version", "", {}, S::kDefault, false},
  };
  for (const Case& c : cases) {
    Statement st = MustParse(c.sql);
    ASSERT_NE(st.variable(), nullptr) << c.sql;
    const VariableStmt& v = *st.variable();
    EXPECT_EQ(st.kind, c.kind) << c.sql;
    EXPECT_EQ(v.name, c.name) << c.sql;
    EXPECT_EQ(v.value, c.value) << c.sql;
    EXPECT_EQ(v.values, c.values) << c.sql;
    EXPECT_EQ(v.scope, c.scope) << c.sql;
    EXPECT_EQ(v.to_default, c.to_default) << c.sql;
  }
}

TEST(CopyTest, Table) {
  using F = CopyStmt::Format;
  struct Case {
    const char* sql;
    CopyStmt::Direction direction;
    CopyStmt::Endpoint endpoint;
    F format;
    const char* delimiter;  // "" when unset
    bool header;
    const char* null_string;  // "-" when unset
    const char* columns;
  };
  using D = CopyStmt::Direction;
  using E = CopyStmt::Endpoint;
  const Case cases[] = {
      {"COPY t FROM STDIN", D::kFrom, E::kStdin, F::kText, "", false, "-", ""},
      {"COPY t (a, b) FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true, NULL 'NA')",
       D::kFrom, E::kStdin, F::kCsv, ";", true, "NA", "a,b"},
      {"COPY t FROM STDIN (FORMAT text, HEADER false)", D::kFrom, E::kStdin, F::kText, "", false,
       "-", ""},
      {"COPY t FROM STDIN (FORMAT 'csv', HEADER)", D::kFrom, E::kStdin, F::kCsv, "", true, "-", ""},
      {"COPY t FROM STDIN WITH CSV HEADER DELIMITER ','", D::kFrom, E::kStdin, F::kCsv, ",", true,
       "-", ""},
      {"COPY t FROM STDIN DELIMITER AS '|' NULL AS ''", D::kFrom, E::kStdin, F::kText, "|", false,
       "", ""},
      {"COPY t FROM STDIN WITH CSV QUOTE AS '\"' FORCE NOT NULL a, b", D::kFrom, E::kStdin, F::kCsv,
       "", false, "-", ""},
      {"COPY BINARY t FROM STDIN", D::kFrom, E::kStdin, F::kBinary, "", false, "-", ""},
      {"COPY t TO STDOUT", D::kTo, E::kStdout, F::kText, "", false, "-", ""},
      {"COPY (SELECT * FROM t) TO STDOUT WITH (FORMAT csv)", D::kTo, E::kStdout, F::kCsv, "", false,
       "-", ""},
      {"COPY t FROM '/tmp/x.csv' WITH (FORMAT csv)", D::kFrom, E::kFile, F::kCsv, "", false, "-",
       ""},
      {"COPY t FROM PROGRAM 'cat x'", D::kFrom, E::kProgram, F::kText, "", false, "-", ""},
      {"copy pgbench_accounts from stdin with (freeze on)", D::kFrom, E::kStdin, F::kText, "",
       false, "-", ""},
  };
  for (const Case& c : cases) {
    Statement st = MustParse(c.sql);
    ASSERT_NE(st.copy(), nullptr) << c.sql;
    const CopyStmt& cp = *st.copy();
    EXPECT_EQ(cp.direction, c.direction) << c.sql;
    EXPECT_EQ(cp.endpoint, c.endpoint) << c.sql;
    EXPECT_EQ(cp.format, c.format) << c.sql;
    EXPECT_EQ(cp.delimiter.value_or(""), c.delimiter) << c.sql;
    EXPECT_EQ(cp.header, c.header) << c.sql;
    EXPECT_EQ(cp.null_string.value_or("-"), c.null_string) << c.sql;
    std::vector<std::string> columns;
    for (const Name& n : cp.columns) columns.push_back(n.value);
    EXPECT_EQ(absl::StrJoin(columns, ","), c.columns) << c.sql;
  }
  Statement file = MustParse("COPY t FROM '/tmp/x.csv'");
  EXPECT_EQ(file.copy()->file, "/tmp/x.csv");
  Statement where = MustParse("COPY t FROM STDIN WHERE a > 1");
  EXPECT_NE(where.copy()->where, nullptr);
}

TEST(DdlTest, CreateTable) {
  Statement st = MustParse(
      "CREATE TEMP TABLE IF NOT EXISTS s.users (\n"
      "  id bigint PRIMARY KEY,\n"
      "  \"Name\" varchar(20) NOT NULL DEFAULT 'x',\n"
      "  price numeric(10, 2) CHECK (price > 0),\n"
      "  created timestamp with time zone,\n"
      "  data,\n"
      "  CONSTRAINT u UNIQUE (\"Name\")\n"
      ") WITHOUT ROWID;");
  ASSERT_NE(st.ddl(), nullptr);
  EXPECT_EQ(st.kind, StatementKind::kCreateTable);
  const DdlStmt& d = *st.ddl();
  EXPECT_TRUE(d.temporary);
  EXPECT_TRUE(d.if_not_exists);
  EXPECT_TRUE(d.without_rowid);
  EXPECT_EQ(d.object.schema, "s");
  EXPECT_EQ(d.object.name, "users");
  EXPECT_EQ(d.table.name, "users");
  ASSERT_EQ(d.columns.size(), 5u);
  std::vector<std::string> got;
  for (const ColumnDef& c : d.columns) got.push_back(c.name.value + ":" + c.type);
  EXPECT_EQ(absl::StrJoin(got, "|"),
            "id:bigint|Name:varchar(20)|price:numeric(10, 2)|created:timestamp with time "
            "zone|data:");
  EXPECT_TRUE(d.columns[0].primary_key);
  EXPECT_FALSE(d.columns[1].primary_key);
  ASSERT_EQ(d.primary_key.size(), 1u);
  EXPECT_EQ(d.primary_key[0].value, "id");
  EXPECT_EQ(st.Text(d.columns[1].span), "\"Name\" varchar(20) NOT NULL DEFAULT 'x'");
  EXPECT_EQ(st.Text(d.columns_span).front(), '(');
  EXPECT_EQ(st.Text(d.columns_span).back(), ')');

  Statement composite = MustParse(
      "CREATE TABLE t (a int, b text, c int, PRIMARY KEY (b, a DESC), FOREIGN KEY (c) "
      "REFERENCES u (id))");
  std::vector<std::string> keys;
  for (const Name& n : composite.ddl()->primary_key) keys.push_back(n.value);
  EXPECT_EQ(absl::StrJoin(keys, ","), "b,a");

  Statement as = MustParse("CREATE TABLE t2 AS SELECT * FROM t WITH NO DATA");
  ASSERT_NE(as.ddl()->query, nullptr);
  EXPECT_TRUE(as.ddl()->columns.empty());
}

TEST(DdlTest, OtherDdl) {
  Statement idx = MustParse(
      "CREATE UNIQUE INDEX IF NOT EXISTS i ON s.t USING btree (a, lower(b)) "
      "WHERE a > 0");
  EXPECT_EQ(idx.kind, StatementKind::kCreateIndex);
  EXPECT_TRUE(idx.ddl()->unique);
  EXPECT_TRUE(idx.ddl()->if_not_exists);
  EXPECT_EQ(idx.ddl()->object.name, "i");
  EXPECT_EQ(idx.ddl()->table.FullName(), "s.t");
  EXPECT_EQ(idx.Text(idx.ddl()->columns_span), "(a, lower(b))");
  Statement noname = MustParse("CREATE INDEX ON t (a)");
  EXPECT_EQ(noname.ddl()->object.name, "");
  EXPECT_EQ(noname.ddl()->table.name, "t");

  Statement drop = MustParse("DROP TABLE IF EXISTS a, s.b CASCADE");
  EXPECT_EQ(drop.kind, StatementKind::kDropTable);
  EXPECT_TRUE(drop.ddl()->if_exists);
  EXPECT_TRUE(drop.ddl()->cascade);
  ASSERT_EQ(drop.ddl()->objects.size(), 2u);
  EXPECT_EQ(drop.ddl()->objects[1].FullName(), "s.b");

  Statement dropi = MustParse("DROP INDEX CONCURRENTLY IF EXISTS i");
  EXPECT_EQ(dropi.kind, StatementKind::kDropIndex);
  EXPECT_EQ(dropi.ddl()->object.name, "i");

  Statement alter = MustParse("ALTER TABLE IF EXISTS t ADD COLUMN c int DEFAULT (1 + 2)");
  EXPECT_EQ(alter.kind, StatementKind::kAlterTable);
  EXPECT_EQ(alter.ddl()->table.name, "t");
  EXPECT_EQ(alter.ddl()->alter_action, "add column");
  EXPECT_EQ(alter.Text(alter.ddl()->body), "ADD COLUMN c int DEFAULT (1 + 2)");
  EXPECT_EQ(MustParse("ALTER TABLE t RENAME TO u").ddl()->alter_action, "rename to");

  Statement view = MustParse("CREATE OR REPLACE TEMP VIEW v (x) AS SELECT a FROM t");
  EXPECT_EQ(view.kind, StatementKind::kCreateView);
  EXPECT_TRUE(view.ddl()->or_replace);
  EXPECT_EQ(view.ddl()->object.name, "v");
  ASSERT_NE(view.ddl()->query, nullptr);
  Statement dropv = MustParse("DROP VIEW IF EXISTS v");
  EXPECT_EQ(dropv.kind, StatementKind::kDropView);

  Statement trig = MustParse(
      "CREATE TRIGGER IF NOT EXISTS tr AFTER UPDATE OF a, b ON t FOR EACH ROW "
      "WHEN new.a > 0 BEGIN UPDATE c SET n = n + 1; DELETE FROM d; END;");
  EXPECT_EQ(trig.kind, StatementKind::kCreateTrigger);
  EXPECT_TRUE(trig.ddl()->if_not_exists);
  EXPECT_EQ(trig.ddl()->object.name, "tr");
  EXPECT_EQ(trig.ddl()->table.name, "t");
  EXPECT_EQ(trig.Text(trig.ddl()->body),
            "FOR EACH ROW WHEN new.a > 0 BEGIN UPDATE c SET n = n + 1; DELETE FROM d; END");
  Statement dropt = MustParse("DROP TRIGGER IF EXISTS tr ON t");
  EXPECT_EQ(dropt.kind, StatementKind::kDropTrigger);
  EXPECT_EQ(dropt.ddl()->table.name, "t");
}

TEST(ExplainTest, Forms) {
  Statement plan = MustParse("EXPLAIN QUERY PLAN SELECT * FROM t WHERE id = 1");
  ASSERT_NE(plan.explain(), nullptr);
  EXPECT_TRUE(plan.explain()->query_plan);
  EXPECT_EQ(plan.explain()->inner->kind, StatementKind::kSelect);
  EXPECT_EQ(plan.Text(plan.explain()->inner->span), "SELECT * FROM t WHERE id = 1");
  Statement analyze = MustParse("EXPLAIN ANALYZE VERBOSE UPDATE t SET a = 1");
  EXPECT_TRUE(analyze.explain()->analyze);
  EXPECT_EQ(analyze.explain()->inner->kind, StatementKind::kUpdate);
  Statement opts = MustParse("EXPLAIN (ANALYZE, FORMAT JSON) SELECT 1");
  EXPECT_EQ(opts.Text(opts.explain()->options), "(ANALYZE, FORMAT JSON)");
  Statement paren = MustParse("EXPLAIN (SELECT 1)");
  EXPECT_EQ(paren.explain()->inner->kind, StatementKind::kSelect);
}

}  // namespace
}  // namespace shale::gate::sql
