#include "ctld/ddl_statement.h"

#include "base/sqlstate.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::ctld {
namespace {

using ::testing::HasSubstr;

TEST(DdlStatementTest, ClassifiesAndStripsTheLayoutClause) {
  absl::StatusOr<DdlStatement> d = ParseDdl(
      "CREATE TABLE Orders (id INTEGER PRIMARY KEY, cust INTEGER) DISTRIBUTED BY (cust);");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->kind, DdlKind::kCreateTable);
  EXPECT_EQ(d->table, "orders");
  EXPECT_EQ(d->distributed_by, "cust");
  EXPECT_EQ(d->shard_sql, "CREATE TABLE Orders (id INTEGER PRIMARY KEY, cust INTEGER)");
  EXPECT_EQ(d->columns, (std::vector<std::string>{"id", "cust"}));
  EXPECT_EQ(d->primary_key, (std::vector<std::string>{"id"}));
  d = ParseDdl("CREATE TABLE e (body TEXT, at INTEGER, ev INTEGER, PRIMARY KEY (ev, at))");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->primary_key, (std::vector<std::string>{"ev", "at"}));

  d = ParseDdl("create table if not exists c (code text) distributed replicated");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->replicated);
  EXPECT_TRUE(d->if_not_exists);
  EXPECT_EQ(d->shard_sql, "create table if not exists c (code text)");

  d = ParseDdl("ALTER TABLE a RENAME TO \"B\"");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->kind, DdlKind::kAlterTable);
  EXPECT_EQ(d->renamed_to, "B");
  d = ParseDdl("DROP TABLE IF EXISTS a");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->kind, DdlKind::kDropTable);
  EXPECT_TRUE(d->if_exists);
  EXPECT_EQ(ParseDdl("CREATE UNIQUE INDEX i ON a (x)")->kind, DdlKind::kCreateIndex);
  EXPECT_EQ(ParseDdl("DROP INDEX i")->kind, DdlKind::kOther);
  EXPECT_EQ(ParseDdl("CREATE VIEW v AS SELECT 1")->kind, DdlKind::kOther);
}

TEST(DdlStatementTest, RefusesWhatIsNotOneClusterWideSchemaChange) {
  for (const char* sql : {"SELECT 1", "INSERT INTO a VALUES (1)", "CREATE TEMP TABLE t (a int)",
                          "DROP TABLE a, b",
                          "CREATE TABLE t (a int); DROP TABLE t", "CREATE TABLE (", ""}) {
    absl::StatusOr<DdlStatement> d = ParseDdl(sql);
    EXPECT_FALSE(d.ok()) << sql;
    EXPECT_FALSE(SqlState(d.status()).empty()) << sql << ": " << d.status();
  }
  EXPECT_THAT(ParseDdl("SELECT 1").status().message(), HasSubstr("not a schema change"));
}

}  // namespace
}  // namespace shale::ctld
