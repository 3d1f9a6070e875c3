// Parser tests: statement kinds and the parts the gateway routes on.

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

TEST(ParserStmtTest, Kinds) {
  struct Case {
    const char* sql;
    StatementKind kind;
  };
  const Case cases[] = {
      {"SELECT 1", StatementKind::kSelect},
      {"select now();", StatementKind::kSelect},
      {"(SELECT 1) UNION (SELECT 2)", StatementKind::kSelect},
      {"VALUES (1, 2), (3, 4)", StatementKind::kSelect},
      {"WITH x AS (SELECT 1) SELECT * FROM x", StatementKind::kSelect},
      {"WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", StatementKind::kInsert},
      {"INSERT INTO t VALUES (1)", StatementKind::kInsert},
      {"INSERT OR IGNORE INTO t VALUES (1)", StatementKind::kInsert},
      {"REPLACE INTO t (a) VALUES (1)", StatementKind::kInsert},
      {"INSERT INTO t DEFAULT VALUES", StatementKind::kInsert},
      {"UPDATE t SET a = 1", StatementKind::kUpdate},
      {"DELETE FROM t", StatementKind::kDelete},
      {"BEGIN", StatementKind::kBegin},
      {"BEGIN TRANSACTION", StatementKind::kBegin},
      {"BEGIN IMMEDIATE", StatementKind::kBegin},
      {"START TRANSACTION READ ONLY", StatementKind::kBegin},
      {"COMMIT", StatementKind::kCommit},
      {"END TRANSACTION", StatementKind::kCommit},
      {"COMMIT WORK", StatementKind::kCommit},
      {"ROLLBACK", StatementKind::kRollback},
      {"ABORT", StatementKind::kRollback},
      {"ROLLBACK TRANSACTION", StatementKind::kRollback},
      {"SAVEPOINT sp1", StatementKind::kSavepoint},
      {"RELEASE sp1", StatementKind::kRelease},
      {"RELEASE SAVEPOINT sp1", StatementKind::kRelease},
      {"ROLLBACK TO sp1", StatementKind::kRollbackTo},
      {"ROLLBACK TO SAVEPOINT sp1", StatementKind::kRollbackTo},
      {"SET search_path TO public", StatementKind::kSet},
      {"RESET ALL", StatementKind::kReset},
      {"SHOW ALL", StatementKind::kShow},
      {"COPY t FROM STDIN", StatementKind::kCopy},
      {"CREATE TABLE t (a int)", StatementKind::kCreateTable},
      {"DROP TABLE t", StatementKind::kDropTable},
      {"ALTER TABLE t ADD COLUMN b text", StatementKind::kAlterTable},
      {"CREATE INDEX i ON t (a)", StatementKind::kCreateIndex},
      {"DROP INDEX i", StatementKind::kDropIndex},
      {"CREATE VIEW v AS SELECT 1", StatementKind::kCreateView},
      {"DROP VIEW v", StatementKind::kDropView},
      {"CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;", StatementKind::kCreateTrigger},
      {"DROP TRIGGER tr", StatementKind::kDropTrigger},
      {"EXPLAIN SELECT 1", StatementKind::kExplain},
      {"PRAGMA table_info(t)", StatementKind::kOther},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Statement> st = Parse(c.sql);
    ASSERT_TRUE(st.ok()) << c.sql << ": " << st.status();
    EXPECT_EQ(StatementKindName(st->kind), StatementKindName(c.kind)) << c.sql;
  }
}

TEST(ParserStmtTest, OtherStatementsKeepTheirLeadingKeywords) {
  struct Case {
    const char* sql;
    const char* keywords;
  };
  const Case cases[] = {
      {"PRAGMA journal_mode = WAL", "pragma"},
      {"VACUUM", "vacuum"},
      {"ANALYZE t", "analyze"},
      {"LISTEN chan", "listen"},
      {"NOTIFY chan, 'x'", "notify"},
      {"DISCARD ALL", "discard all"},
      {"DEALLOCATE ALL", "deallocate"},
      {"PREPARE p AS SELECT $1", "prepare"},
      {"EXECUTE p(1)", "execute"},
      {"TRUNCATE t", "truncate"},
      {"CREATE SCHEMA s", "create schema"},
      {"CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;",
       "create function"},
      {"CREATE UNIQUE foo", "create foo"},
      {"DROP SCHEMA s CASCADE", "drop schema"},
      {"ALTER SEQUENCE s RESTART", "alter sequence"},
      {"COMMIT PREPARED 'x'", "commit prepared"},
      {"DO $$ BEGIN NULL; END $$;", "do"},
      {"GRANT SELECT ON t TO u", "grant"},
      {"TABLE t", "table"},
      {"ATTACH DATABASE 'x.db' AS x", "attach"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Statement> st = Parse(c.sql);
    ASSERT_TRUE(st.ok()) << c.sql << ": " << st.status();
    ASSERT_EQ(st->kind, StatementKind::kOther) << c.sql;
    EXPECT_EQ(st->other()->keywords, c.keywords) << c.sql;
  }
}

TEST(ParserStmtTest, PgbenchStatements) {
  Statement sel = MustParse("SELECT abalance FROM pgbench_accounts WHERE aid = $1");
  ASSERT_NE(sel.select(), nullptr);
  const SelectCore& core = sel.select()->core();
  EXPECT_EQ(core.from[0].table.name, "pgbench_accounts");
  EXPECT_EQ(DebugString(*core.where, sel.text), "(aid = $1)");
  EXPECT_EQ(sel.max_param, 1);

  Statement up = MustParse("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2");
  ASSERT_NE(up.update(), nullptr);
  EXPECT_EQ(up.update()->table.name, "pgbench_accounts");
  ASSERT_EQ(up.update()->set.size(), 1u);
  EXPECT_EQ(up.update()->set[0].columns[0].value, "abalance");
  EXPECT_EQ(DebugString(*up.update()->set[0].value, up.text), "(abalance + $1)");
  EXPECT_EQ(DebugString(*up.update()->where, up.text), "(aid = $2)");
  EXPECT_EQ(up.max_param, 2);

  Statement ins = MustParse(
      "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) "
      "VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)");
  ASSERT_NE(ins.insert(), nullptr);
  const InsertStmt& i = *ins.insert();
  EXPECT_EQ(i.table.name, "pgbench_history");
  std::vector<std::string> columns;
  for (const Name& n : i.columns) columns.push_back(n.value);
  EXPECT_EQ(absl::StrJoin(columns, ","), "tid,bid,aid,delta,mtime");
  EXPECT_EQ(ins.Text(i.columns_span), "(tid, bid, aid, delta, mtime)");
  ASSERT_EQ(i.rows.size(), 1u);
  ASSERT_EQ(i.rows[0].values.size(), 5u);
  EXPECT_EQ(i.rows[0].values[2]->kind, ExprKind::kParam);
  EXPECT_EQ(i.rows[0].values[4]->kind, ExprKind::kFunction);
  EXPECT_EQ(i.rows[0].values[4]->name, "current_timestamp");
  EXPECT_EQ(ins.max_param, 4);

  for (const char* sql :
       {"UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2",
        "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2", "BEGIN;", "END;",
        "select count(*) from pgbench_branches",
        "copy pgbench_accounts from stdin with (freeze on)", "vacuum analyze pgbench_branches",
        "alter table pgbench_accounts add primary key (aid)",
        "drop table if exists pgbench_accounts, pgbench_branches, pgbench_history, "
        "pgbench_tellers",
        "create table pgbench_history(tid int,bid int,aid    int,delta int,mtime timestamp,"
        "filler char(22))",
        "truncate table pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers",
        "insert into pgbench_branches(bid,bbalance) values(1,0)",
        "create table pgbench_accounts(aid int not null,bid int,abalance int,filler char(84)) "
        "with (fillfactor=100)",
        "insert into pgbench_accounts(aid,bid,abalance,filler) select aid, (aid - 1) / 100000 + "
        "1, 0, '' from generate_series(1, 100000) as aid",
        "SELECT abalance FROM pgbench_accounts WHERE aid = 12345;"}) {
    EXPECT_TRUE(Parse(sql).ok()) << sql << ": " << Parse(sql).status();
  }
}

// Queries psql sends for \d, \d t, \dt, \l.
TEST(ParserStmtTest, PsqlDescribeQueries) {
  const char* queries[] = {
      R"(SELECT n.nspname as "Schema", c.relname as "Name" FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p','v','m','S','f','') AND n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1,2;)",
      R"(SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','v','m','S','f','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;)",
      R"(SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(accounts)$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 2, 3;)",
      R"(SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, pg_catalog.array_to_string(c.reloptions || array(select 'toast.' || x from pg_catalog.unnest(tc.reloptions) x), ', ')
, c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpersistence, c.relreplident, am.amname
FROM pg_catalog.pg_class c
 LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)
LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)
WHERE c.oid = '16384';)",
      R"(SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
   FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
  a.attnotnull,
  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
  a.attidentity,
  a.attgenerated
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = '16384' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;)",
      R"(SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid, pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),
  pg_catalog.pg_get_constraintdef(con.oid, true), contype, condeferrable, condeferred, i.indisreplident, c2.reltablespace
FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i
  LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
WHERE c.oid = '16384' AND c.oid = i.indrelid AND i.indexrelid = c2.oid
ORDER BY i.indisprimary DESC, c2.relname;)",
      R"(SELECT pol.polname, pol.polpermissive,
  CASE WHEN pol.polroles = '{0}' THEN NULL ELSE pg_catalog.array_to_string(array(select rolname from pg_catalog.pg_roles where oid = any (pol.polroles) order by 1),',') END,
  pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
  CASE pol.polcmd
    WHEN 'r' THEN 'SELECT'
    WHEN 'a' THEN 'INSERT'
    ELSE NULL
  END AS cmd
FROM pg_catalog.pg_policy pol
WHERE pol.polrelid = '16384' ORDER BY 1;)",
      R"(SELECT pubname
     , NULL
     , NULL
FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid
     JOIN pg_catalog.pg_class pc ON pc.relnamespace = pn.pnnspid
WHERE pc.oid ='16384' and pg_catalog.pg_relation_is_publishable('16384')
UNION
SELECT pubname
     , pg_get_expr(pr.prqual, c.oid)
     , (CASE WHEN pr.prattrs IS NOT NULL THEN
         (SELECT string_agg(attname, ', ')
           FROM pg_catalog.generate_series(0, pg_catalog.array_upper(pr.prattrs::pg_catalog.int2[], 1)) s,
                pg_catalog.pg_attribute
          WHERE attrelid = pr.prrelid AND attnum = prattrs[s])
        ELSE NULL END) FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid
     JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
WHERE pr.prrelid = '16384'
ORDER BY 1;)",
      R"(SELECT c.oid::pg_catalog.regclass FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i WHERE c.oid = i.inhparent AND i.inhrelid = '16384'
  AND c.relkind != 'p' AND c.relkind != 'I'
ORDER BY inhseqno;)",
      R"(SELECT
  d.datname as "Name",
  pg_catalog.pg_get_userbyid(d.datdba) as "Owner",
  pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding",
  d.datcollate as "Collate",
  d.datctype as "Ctype",
  pg_catalog.array_to_string(d.datacl, E'\n') AS "Access privileges"
FROM pg_catalog.pg_database d
ORDER BY 1;)",
      R"(SELECT pg_catalog.quote_ident(c.relname) FROM pg_catalog.pg_class c WHERE c.relkind IN ('r', 'S', 'v', 'm', 'f', 'p') AND substring(pg_catalog.quote_ident(c.relname),1,3)='acc' AND pg_catalog.pg_table_is_visible(c.oid) AND c.relnamespace <> (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_catalog')
UNION
SELECT pg_catalog.quote_ident(n.nspname) || '.' FROM pg_catalog.pg_namespace n WHERE substring(pg_catalog.quote_ident(n.nspname) || '.',1,3)='acc' AND (SELECT pg_catalog.count(*) FROM pg_catalog.pg_namespace WHERE substring(pg_catalog.quote_ident(nspname) || '.',1,3) = substring('acc',1,pg_catalog.length(pg_catalog.quote_ident(nspname))+1)) > 1
LIMIT 1000)",
      "SELECT version()",
      "SELECT pg_catalog.set_config('search_path', '', false);",
  };
  for (const char* sql : queries) {
    absl::StatusOr<Statement> st = Parse(sql);
    EXPECT_TRUE(st.ok()) << sql << "\n" << st.status();
  }
  Statement st = MustParse(queries[0]);
  EXPECT_EQ(Tables(st), "pg_catalog.pg_class,pg_catalog.pg_namespace");
  const SelectStmt& s = *st.select();
  ASSERT_EQ(s.core().from.size(), 2u);
  EXPECT_EQ(s.core().from[1].join, JoinType::kLeft);
  EXPECT_EQ(s.core().from[1].alias.value, "n");
  EXPECT_EQ(s.core().items[0].alias.value, "Schema");
  EXPECT_TRUE(s.core().items[0].alias.quoted);
  EXPECT_EQ(Conjuncts(s.core().where.get()).size(), 4u);
  ASSERT_EQ(s.order_by.size(), 2u);
  EXPECT_EQ(s.order_by[0].position, 1);
  EXPECT_EQ(s.order_by[1].position, 2);
}

// Statements client drivers send on connect and for type lookups.
TEST(ParserStmtTest, DriverQueries) {
  const char* queries[] = {
      "SET extra_float_digits = 3",
      "SET application_name = 'PostgreSQL JDBC Driver'",
      "select current_schema()",
      "SET client_min_messages TO 'warning'",
      "SET intervalstyle = iso_8601",
      "SET SESSION timezone TO 'UTC'",
      "show standard_conforming_strings",
      "select pg_catalog.version()",
      "SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, pg_type.oid "
      "FROM pg_catalog.pg_type LEFT JOIN (select ns.oid as nspoid, ns.nspname, r.r from "
      "pg_namespace as ns join ( select s.r, (current_schemas(false))[s.r] as nspname from "
      "generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r using ( nspname "
      ") ) as sp ON sp.nspoid = typnamespace WHERE pg_type.oid = $1 ORDER BY sp.r, pg_type.oid "
      "DESC",
      "select t.oid, t.typname, t.typtype, t.typbasetype, t.typelem from pg_type t where "
      "t.typname = any($1::text[])",
      "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
      "n.nspname = $1 AND c.relkind = ANY (ARRAY['r', 'p'])",
      "SAVEPOINT pg_psql_temporary_savepoint",
      "RELEASE pg_psql_temporary_savepoint",
      "CREATE TABLE t (exclude int, \"like\" text, EXCLUDE USING gist (exclude WITH =))",
  };
  for (const char* sql : queries) {
    absl::StatusOr<Statement> st = Parse(sql);
    EXPECT_TRUE(st.ok()) << sql << "\n" << st.status();
  }
  EXPECT_EQ(MustParse(queries[13]).ddl()->columns.size(), 2u);
}

// Shale's layout clause of CREATE TABLE.
TEST(ParserStmtTest, DistributedClause) {
  const std::string by = "CREATE TABLE o (id int, cust int) DISTRIBUTED BY (Cust)";
  Statement st = MustParse(by);
  ASSERT_NE(st.ddl(), nullptr);
  EXPECT_EQ(st.ddl()->distributed_by.value, "cust");
  EXPECT_FALSE(st.ddl()->distributed_replicated);
  const Span span = st.ddl()->distributed_span;
  EXPECT_EQ(by.substr(span.begin, span.size()), "DISTRIBUTED BY (Cust)");

  const std::string rep = "CREATE TABLE c (code text) STRICT DISTRIBUTED REPLICATED;";
  st = MustParse(rep);
  EXPECT_TRUE(st.ddl()->distributed_replicated);
  EXPECT_EQ(rep.substr(st.ddl()->distributed_span.begin, st.ddl()->distributed_span.size()),
            "DISTRIBUTED REPLICATED");

  EXPECT_TRUE(MustParse("CREATE TABLE t (a int)").ddl()->distributed_span.empty());
  for (const char* bad : {"CREATE TABLE t (a int) DISTRIBUTED BY (a, b)",
                          "CREATE TABLE t (a int) DISTRIBUTED",
                          "CREATE TABLE t (a int) DISTRIBUTED REPLICATED DISTRIBUTED BY (a)"}) {
    EXPECT_FALSE(Parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace shale::gate::sql
