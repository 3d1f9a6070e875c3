// NamedTables and RoutedKeyspace (routing_rules.h) on parsed statements and
// a hand-built SrvKeyspace with MoveTables routing rules.

#include "gate/routing_rules.h"

#include "base/sqlstate.h"
#include "gate/sql/parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::gate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Tables(absl::string_view sql) {
  absl::StatusOr<sql::Statement> st = sql::Parse(sql);
  EXPECT_TRUE(st.ok()) << sql << ": " << st.status();
  return st.ok() ? NamedTables(*st) : std::vector<std::string>{};
}

TEST(NamedTablesTest, TargetsReadsCopyDdlAndExplain) {
  EXPECT_THAT(Tables("SELECT * FROM t JOIN u ON t.id = u.id WHERE x IN (SELECT y FROM w)"),
              ElementsAre("t", "u", "w"));
  EXPECT_THAT(Tables("INSERT INTO t (id) SELECT id FROM u"), ElementsAre("t", "u"));
  EXPECT_THAT(Tables("UPDATE T SET v = 1 WHERE id IN (SELECT id FROM t)"), ElementsAre("t"));
  EXPECT_THAT(Tables("DELETE FROM t WHERE id = 1"), ElementsAre("t"));
  EXPECT_THAT(Tables("COPY t (id) FROM STDIN"), ElementsAre("t"));
  EXPECT_THAT(Tables("ALTER TABLE t ADD COLUMN w INTEGER"), ElementsAre("t"));
  EXPECT_THAT(Tables("CREATE INDEX i ON t (v)"), ElementsAre("t"));
  EXPECT_THAT(Tables("EXPLAIN QUERY PLAN DELETE FROM t"), ElementsAre("t"));
  EXPECT_THAT(Tables("WITH c AS (SELECT 1) SELECT * FROM c"), ElementsAre());
  EXPECT_THAT(Tables("SELECT 1"), ElementsAre());
}

topodata::SrvKeyspace Rules() {
  topodata::SrvKeyspace srv;
  auto add = [&](const char* table, topodata::TabletType type, const char* to) {
    auto* r = srv.add_routing_rules();
    r->set_table(table);
    r->set_tablet_type(type);
    r->set_to_keyspace(to);
  };
  add("t", topodata::PRIMARY, "ks2");
  add("T2", topodata::PRIMARY, "ks2");
  add("r", topodata::REPLICA, "ks3");
  return srv;
}

TEST(RoutedKeyspaceTest, RulesPerTabletTypeCaseInsensitive) {
  const topodata::SrvKeyspace srv = Rules();
  auto routed = [&](std::vector<std::string> tables, topodata::TabletType type) {
    absl::StatusOr<std::string> ks = RoutedKeyspace(tables, srv, "app", type);
    return ks.ok() ? *ks : std::string(ks.status().message());
  };
  EXPECT_EQ(routed({}, topodata::PRIMARY), "app");
  EXPECT_EQ(routed({"u"}, topodata::PRIMARY), "app");
  EXPECT_EQ(routed({"t"}, topodata::PRIMARY), "ks2");
  EXPECT_EQ(routed({"t", "t2"}, topodata::PRIMARY), "ks2");
  EXPECT_EQ(routed({"t"}, topodata::REPLICA), "app");
  EXPECT_EQ(routed({"r"}, topodata::REPLICA), "ks3");
  EXPECT_EQ(routed({"r"}, topodata::PRIMARY), "app");
  EXPECT_EQ(RoutedKeyspace({"u"}, topodata::SrvKeyspace(), "app", topodata::PRIMARY).value(),
            "app");
}

TEST(RoutedKeyspaceTest, TablesOfTwoKeyspacesAreRefused) {
  const topodata::SrvKeyspace srv = Rules();
  absl::StatusOr<std::string> ks = RoutedKeyspace({"u", "t"}, srv, "app", topodata::PRIMARY);
  ASSERT_FALSE(ks.ok());
  EXPECT_EQ(SqlState(ks.status()), "0A000");
  EXPECT_THAT(ks.status().message(),
              HasSubstr("table u is served by keyspace app and table t by keyspace ks2"));
}

}  // namespace
}  // namespace shale::gate
