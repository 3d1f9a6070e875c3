// Planner and Route tests against a hand-built schema: keyspace `app` with
// shards -80 and 80- sharded by `id`, a reference table `ref`, and a table
// `byname` sharded by `name` through its VSchema entry.

#include "gate/planner.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "base/sqlstate.h"
#include "gate/route.h"
#include "gate/sql/parser.h"
#include "key/vindex.h"

namespace shale::gate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

KeyspaceSchema Schema() {
  auto srv = std::make_shared<topodata::SrvKeyspace>();
  srv->set_sharding_column_name("id");
  srv->set_sharding_column_type(topodata::UINT64);
  for (topodata::TabletType type : {topodata::PRIMARY, topodata::REPLICA}) {
    auto* p = srv->add_partitions();
    p->set_served_type(type);
    auto* a = p->add_shard_references();
    a->set_name("-80");
    *a->mutable_key_range() = key::KeyRange::Bounded(0, 0x8000000000000000ULL).ToProto();
    auto* b = p->add_shard_references();
    b->set_name("80-");
    *b->mutable_key_range() = key::KeyRange::From(0x8000000000000000ULL).ToProto();
  }
  auto vschema = std::make_shared<topodata::VSchema>();
  (*vschema->mutable_tables())["ref"].set_type(topodata::VSchema::REFERENCE);
  auto& byname = (*vschema->mutable_tables())["byname"];
  byname.add_column_vindexes()->set_column("name");
  return KeyspaceSchema("app", srv, vschema);
}

std::string ShardOf(int64_t id) {
  return key::KeyRange::Parse("-80")->Contains(key::HashInt64(id)) ? "-80" : "80-";
}

struct Planned {
  sql::Statement stmt;
  absl::StatusOr<Plan> plan;
};

std::unique_ptr<Planned> PlanOf(const std::string& text, SessionTarget target = {"app", "", topodata::PRIMARY}) {
  auto p = std::make_unique<Planned>();
  absl::StatusOr<sql::Statement> stmt = sql::Parse(text);
  EXPECT_TRUE(stmt.ok()) << text << ": " << stmt.status();
  p->stmt = *std::move(stmt);
  p->plan = PlanStatement(p->stmt, Schema(), target);
  return p;
}

std::vector<std::string> Shards(const Planned& p, std::vector<tablet::Value> params = {}) {
  absl::StatusOr<std::vector<ShardQuery>> qs =
      Route(*p.plan, p.stmt, Schema(), {"app", "", topodata::PRIMARY}, params);
  EXPECT_TRUE(qs.ok()) << qs.status();
  std::vector<std::string> out;
  if (qs.ok()) {
    for (const ShardQuery& q : *qs) out.push_back(q.shard);
  }
  return out;
}

TEST(PlannerTest, PointStatementsGoToTheShardOfTheirValue) {
  for (const char* text : {"SELECT * FROM t WHERE id = 5", "SELECT * FROM t WHERE 5 = id AND x > 1",
                           "UPDATE t SET x = 1 WHERE id = 5", "DELETE FROM t WHERE t.id = 5",
                           "INSERT INTO t (x, id) VALUES (1, 5)"}) {
    auto p = PlanOf(text);
    ASSERT_TRUE(p->plan.ok()) << text << ": " << p->plan.status();
    EXPECT_EQ(p->plan->routing.mode, Routing::Mode::kByValues) << text;
    EXPECT_THAT(Shards(*p), ElementsAre(ShardOf(5))) << text;
  }
}

TEST(PlannerTest, ParametersRouteByTheirValueAndBecomeSqliteParameters) {
  auto p = PlanOf("SELECT bal FROM accounts WHERE id = $1");
  ASSERT_TRUE(p->plan.ok());
  EXPECT_EQ(p->plan->sql, "SELECT bal FROM accounts WHERE id = ?1");
  tablet::Value v;
  v.set_text("77");  // PostgreSQL clients send text parameters
  EXPECT_THAT(Shards(*p, {v}), ElementsAre(ShardOf(77)));
}

TEST(PlannerTest, MultiRowInsertIsSplitPerShard) {
  int64_t a = 1, b = 2;
  while (ShardOf(b) == ShardOf(a)) ++b;
  auto p = PlanOf(absl::StrCat("INSERT INTO t (id, v) VALUES (", a, ", 'x'), ($1, 'y'), (", b,
                               ", $2) RETURNING id"));
  ASSERT_TRUE(p->plan.ok()) << p->plan.status();
  tablet::Value pa, pb;
  pa.set_int64(a);
  pb.set_text("z");
  auto qs = Route(*p->plan, p->stmt, Schema(), {"app", "", topodata::PRIMARY}, {pa, pb});
  ASSERT_TRUE(qs.ok()) << qs.status();
  ASSERT_EQ(qs->size(), 2u);
  for (const ShardQuery& q : *qs) {
    if (q.shard == ShardOf(a)) {
      EXPECT_EQ(q.sql, absl::StrCat("INSERT INTO t (id, v) VALUES (", a, ", 'x'), (?1, 'y') RETURNING id"));
      EXPECT_EQ(q.num_binds, 1);
    } else {
      EXPECT_EQ(q.sql, absl::StrCat("INSERT INTO t (id, v) VALUES (", b, ", ?2) RETURNING id"));
      EXPECT_EQ(q.num_binds, 2);
    }
  }
}

TEST(PlannerTest, ScatterSelectGetsAMergeSpecAndShardText) {
  auto p = PlanOf("SELECT g, avg(v) FROM t GROUP BY g ORDER BY count(*) DESC LIMIT 3 OFFSET 1");
  ASSERT_TRUE(p->plan.ok()) << p->plan.status();
  EXPECT_EQ(p->plan->routing.mode, Routing::Mode::kAllShards);
  ASSERT_TRUE(p->plan->merge.has_value());
  const merge::MergeSpec& m = *p->plan->merge;
  EXPECT_TRUE(m.aggregate);
  EXPECT_THAT(m.group_by, ElementsAre(0));
  EXPECT_EQ(m.visible_columns, 2);
  EXPECT_EQ(m.limit, 3);
  EXPECT_EQ(m.offset, 1);
  // AVG becomes SUM plus a hidden COUNT; the ORDER BY aggregate is hidden too;
  // aggregates are not limited per shard.
  EXPECT_EQ(p->plan->scatter_sql,
            "SELECT g, sum(v), count(v), count(*) FROM t GROUP BY g ORDER BY count(*) DESC");
  EXPECT_THAT(Shards(*p), ElementsAre("-80", "80-"));
}

TEST(PlannerTest, ScatterLimitCoversTheOffset) {
  auto p = PlanOf("SELECT id FROM t ORDER BY id LIMIT 5 OFFSET 10");
  ASSERT_TRUE(p->plan.ok());
  EXPECT_EQ(p->plan->scatter_sql, "SELECT id FROM t ORDER BY id LIMIT 15");
}

TEST(PlannerTest, ReferenceTablesReadOneShardAndWriteAll) {
  auto read = PlanOf("SELECT * FROM ref JOIN t ON ref.id = t.ref_id WHERE t.id = 3");
  ASSERT_TRUE(read->plan.ok()) << read->plan.status();
  EXPECT_THAT(Shards(*read), ElementsAre(ShardOf(3)));
  auto only_ref = PlanOf("SELECT * FROM ref");
  EXPECT_THAT(Shards(*only_ref), ElementsAre("-80"));
  auto write = PlanOf("INSERT INTO ref (id) VALUES (1)");
  EXPECT_THAT(Shards(*write), ElementsAre("-80", "80-"));
}

TEST(PlannerTest, VSchemaColumnOverridesTheKeyspaceColumn) {
  auto p = PlanOf("SELECT * FROM byname WHERE name = 'bob'");
  ASSERT_TRUE(p->plan.ok());
  EXPECT_EQ(p->plan->routing.mode, Routing::Mode::kByValues);
  auto q = PlanOf("SELECT * FROM byname WHERE id = 1");
  EXPECT_EQ(q->plan->routing.mode, Routing::Mode::kAllShards);
}

TEST(PlannerTest, WhatCannotRunCorrectlyIsRefusedWithFeatureNotSupported) {
  for (const char* text : {
           "SELECT * FROM a JOIN b ON a.id = b.id",
           "SELECT g, count(*) FROM t GROUP BY g HAVING count(*) > 1",
           "SELECT count(DISTINCT v) FROM t",
           "SELECT sum(v) / 2 FROM t",
           "SELECT id FROM t UNION SELECT id FROM u",
           "SELECT * FROM t LIMIT $1",
           "INSERT INTO t (id) SELECT id FROM u",
           "UPDATE t SET id = 3 WHERE id = 2",
           "SAVEPOINT s1",
           "SELECT * FROM pg_catalog.pg_class",
       }) {
    auto p = PlanOf(text);
    ASSERT_FALSE(p->plan.ok()) << text;
    EXPECT_EQ(SqlStateOrDefault(p->plan.status()), "0A000") << text << ": " << p->plan.status();
  }
  auto missing = PlanOf("INSERT INTO t (x) VALUES (1)");
  ASSERT_FALSE(missing->plan.ok());
  EXPECT_THAT(missing->plan.status().message(), HasSubstr("sharding column id"));
}

TEST(PlannerTest, OneShardTargetsSendTheStatementAsIs) {
  auto p = PlanOf("SELECT * FROM a JOIN b ON a.id = b.id", {"app", "-80", topodata::PRIMARY});
  ASSERT_TRUE(p->plan.ok()) << p->plan.status();
  auto qs = Route(*p->plan, p->stmt, Schema(), {"app", "-80", topodata::PRIMARY}, {});
  ASSERT_TRUE(qs.ok());
  ASSERT_EQ(qs->size(), 1u);
  EXPECT_EQ((*qs)[0].shard, "-80");
}

TEST(TargetTest, DatabaseNamesParse) {
  auto t = ParseTarget("app");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->tablet_type, topodata::PRIMARY);
  t = ParseTarget("app@replica");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->tablet_type, topodata::REPLICA);
  t = ParseTarget("app:-80@rdonly");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->shard, "-80");
  EXPECT_EQ(t->ToString(), "app:-80@rdonly");
  for (const char* bad : {"", "@replica", "app@spare", "app:zz@replica"}) {
    absl::StatusOr<SessionTarget> r = ParseTarget(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(SqlState(r.status()), "3D000") << bad;
  }
}

}  // namespace
}  // namespace shale::gate
