// End-to-end: schema changes through the gateway go to ctld's meta service
// (issue 7): a table id from ctld, the table on every shard, the VSchema
// published and routable from every gateway; concurrent changes serialised;
// and a ctld leader killed during a change leaves the work to the standby.

#include <csignal>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "key/key_range.h"
#include "tests/e2e/gate_fixture.h"

namespace shale::e2e {
namespace {

using ::testing::HasSubstr;

class DdlTest : public GateE2eTest {
 protected:
  // A second gateway; returns its PostgreSQL port.
  int StartSecondGate() {
    second_ = std::make_unique<Subprocess>();
    EXPECT_TRUE(second_
                    ->Start({FindBinary("shale"), "gate", "--topo", topo(), "--cell", "zone1",
                             "--pg-port", "0", "--grpc-port", "-1", "--http-port", "0"})
                    .ok());
    absl::StatusOr<std::string> line = second_->ReadLine(absl::Seconds(30));
    EXPECT_TRUE(line.ok()) << line.status();
    int port = 0;
    for (absl::string_view part : absl::StrSplit(line.ok() ? *line : "", ' ')) {
      if (absl::ConsumePrefix(&part, "pg_port=")) {
        EXPECT_TRUE(absl::SimpleAtoi(part, &port));
      }
    }
    return port;
  }
  CliResult PsqlAt(int port, const std::string& sql) {
    absl::StatusOr<CliResult> r =
        RunProgram({"psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                    "-p", absl::StrCat(port), "-U", "tester", "-d", "app", "-c", sql});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : CliResult{};
  }
  // Whether the tablet's database has the table.
  bool HasTable(const std::string& alias, const std::string& table) {
    return TabletRows(alias, absl::StrCat("SELECT count(*) FROM sqlite_master WHERE type = "
                                          "'table' AND name = '",
                                          table, "'")) == 1;
  }
  int64_t TableId(const std::string& table) {
    absl::StatusOr<topodata::VSchema> v = ts_->GetVSchema("app");
    if (!v.ok()) return -1;
    auto it = v->tables().find(table);
    return it == v->tables().end() ? 0 : it->second.table_id();
  }

  std::unique_ptr<Subprocess> second_;
};

TEST_F(DdlTest, CreateTableGetsAnIdEveryShardAndIsRoutableFromEveryGateway) {
  StartCluster(1);
  StartGate();
  const int second = StartSecondGate();
  ASSERT_GT(second, 0);
  ASSERT_EQ(PsqlAt(second, "SELECT 1").exit_code, 0);  // the second gateway is up

  PsqlOk("CREATE TABLE orders (id INTEGER PRIMARY KEY, cust INTEGER, total INTEGER) "
         "DISTRIBUTED BY (cust)");
  const int64_t id = TableId("orders");
  EXPECT_GT(id, 0);
  for (int s = 0; s < 2; ++s) {
    for (int n = 0; n <= 1; ++n) {
      EXPECT_TRUE(WaitFor(absl::Seconds(10), [&] { return HasTable(Alias(s, n), "orders"); }))
          << Alias(s, n) << " lacks the table";
    }
  }
  // The gateway that ran it routes by the new column at once.
  EXPECT_EQ(PsqlOk("SHOW TABLES"), absl::StrCat("orders|sharded|cust|", id));
  // The other gateway learns it through its VSchema watch.
  const absl::Time created = absl::Now();
  ASSERT_TRUE(WaitFor(absl::Seconds(5), [&] {
    CliResult r = PsqlAt(second, "SHOW TABLES");
    return absl::StrContains(r.out, absl::StrCat("orders|sharded|cust|", id));
  }));
  std::cout << "second gateway saw the table " << absl::FormatDuration(absl::Now() - created)
            << " after the CREATE returned\n";
  // Rows land by cust, not by the keyspace's column id: 50 rows with
  // cust = 7 (and ids on both sides of the hash space) all go to one shard.
  std::string values;
  for (int i = 1; i <= 50; ++i) absl::StrAppend(&values, i > 1 ? ", " : "", "(", i, ", 7, 1)");
  ASSERT_EQ(PsqlAt(second, "INSERT INTO orders (id, cust, total) VALUES " + values).exit_code, 0);
  const int64_t on0 = TabletRows(PrimaryOf(0), "SELECT count(*) FROM orders");
  const int64_t on1 = TabletRows(PrimaryOf(1), "SELECT count(*) FROM orders");
  EXPECT_EQ(on0 + on1, 50);
  EXPECT_TRUE(on0 == 0 || on1 == 0) << on0 << " / " << on1;

  // A reference table; a repeat is an error; ids are never reused.
  PsqlOk("CREATE TABLE countries (code TEXT PRIMARY KEY, name TEXT) DISTRIBUTED REPLICATED");
  const int64_t countries = TableId("countries");
  EXPECT_GT(countries, id);
  CliResult again = Psql("CREATE TABLE countries (code TEXT PRIMARY KEY, name TEXT)");
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.err, HasSubstr("already exists"));
  PsqlOk("DROP TABLE countries");
  EXPECT_EQ(TableId("countries"), 0);
  EXPECT_FALSE(HasTable(PrimaryOf(1), "countries"));
  PsqlOk("CREATE TABLE countries (code TEXT PRIMARY KEY) DISTRIBUTED REPLICATED");
  EXPECT_GT(TableId("countries"), countries);
  // A table without the keyspace's sharding column is sharded by the first
  // column of its primary key; without a primary key either, it needs a layout.
  PsqlOk("CREATE TABLE events (ev INTEGER, at INTEGER, body TEXT, PRIMARY KEY (ev, at))");
  EXPECT_THAT(PsqlOk("SHOW TABLES"),
              HasSubstr(absl::StrCat("events|sharded|ev|", TableId("events"))));
  CliResult bad = Psql("CREATE TABLE notes (body TEXT)");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("DISTRIBUTED BY"));
  EXPECT_FALSE(HasTable(PrimaryOf(0), "notes"));

  // The same path from `shale ctl`.
  CliResult ctl = Ctl({"CreateIndex", "app", "--sql", "CREATE INDEX orders_cust ON orders (cust)"});
  EXPECT_EQ(ctl.exit_code, 0) << ctl.err;
  EXPECT_THAT(ctl.out, HasSubstr("applied"));
  EXPECT_EQ(TabletRows(PrimaryOf(1), "SELECT count(*) FROM sqlite_master WHERE name = "
                                     "'orders_cust'"),
            1);
  ctl = Ctl({"CreateTable", "app", "--sql", "DROP TABLE orders"});
  EXPECT_NE(ctl.exit_code, 0);
  EXPECT_THAT(ctl.err, HasSubstr("CreateTable was sent a statement for DropTable"));
  // Without a ctld, schema changes are refused at once, saying what to start.
  ASSERT_TRUE(ctld_.process->Kill(SIGTERM).ok());
  ASSERT_TRUE(ctld_.process->WaitFor(absl::Seconds(20)).ok());
  CliResult none = Psql("CREATE TABLE later (id INTEGER PRIMARY KEY)");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_THAT(none.err, HasSubstr("start `shale ctld"));
}

TEST_F(DdlTest, ConcurrentDdlFromTwoGatewaysIsSerialised) {
  StartCluster(0);
  StartGate();
  const int second = StartSecondGate();
  ASSERT_GT(second, 0);
  auto psql_async = [&](int port, const std::string& sql) {
    auto p = std::make_unique<Subprocess>();
    EXPECT_TRUE(p->Start({"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                          absl::StrCat(port), "-U", "tester", "-d", "app", "-c", sql})
                    .ok());
    return p;
  };
  // Two different tables at once: both made, with different ids.
  auto a = psql_async(pg_port_, "CREATE TABLE t1 (id INTEGER PRIMARY KEY)");
  auto b = psql_async(second, "CREATE TABLE t2 (id INTEGER PRIMARY KEY)");
  EXPECT_EQ(*a->WaitFor(absl::Seconds(60)), 0);
  EXPECT_EQ(*b->WaitFor(absl::Seconds(60)), 0);
  EXPECT_GT(TableId("t1"), 0);
  EXPECT_GT(TableId("t2"), 0);
  EXPECT_NE(TableId("t1"), TableId("t2"));
  // The same table from both at once: exactly one wins, the other is told
  // it exists; one id.
  a = psql_async(pg_port_, "CREATE TABLE same (id INTEGER PRIMARY KEY, v TEXT)");
  b = psql_async(second, "CREATE TABLE same (id INTEGER PRIMARY KEY, v TEXT)");
  const int ca = *a->WaitFor(absl::Seconds(60));
  const int cb = *b->WaitFor(absl::Seconds(60));
  EXPECT_EQ((ca == 0) + (cb == 0), 1) << ca << " " << cb;
  EXPECT_GT(TableId("same"), TableId("t2"));
}

TEST_F(DdlTest, StandbyCompletesTheDdlOfAKilledLeader) {
  StartCluster(0);
  StartGate();
  CtldProcess standby = StartCtldProcess(topo(), {});
  ASSERT_GT(standby.grpc_port, 0);
  // Shard 80-'s primary stops answering, so the change stalls after -80.
  ASSERT_TRUE(tablets_.at(PrimaryOf(1))->Kill(SIGSTOP).ok());
  auto create = std::make_unique<Subprocess>();
  ASSERT_TRUE(create
                  ->Start({"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                           absl::StrCat(pg_port_), "-U", "tester", "-d", "app", "-c",
                           "CREATE TABLE late (id INTEGER PRIMARY KEY, v TEXT)"})
                  .ok());
  ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] { return HasTable(PrimaryOf(0), "late"); }));
  ASSERT_TRUE(ctld_.process->Kill(SIGKILL).ok());
  ASSERT_TRUE(ctld_.process->WaitFor(absl::Seconds(10)).ok());
  ASSERT_TRUE(tablets_.at(PrimaryOf(1))->Kill(SIGCONT).ok());
  // The gateway sends the statement again to the next leader, which finds
  // -80 done and completes 80-.
  absl::StatusOr<int> code = create->WaitFor(absl::Seconds(90));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(HasTable(PrimaryOf(1), "late"));
  EXPECT_GT(TableId("late"), 0);
  PsqlOk("INSERT INTO late (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  EXPECT_EQ(PsqlOk("SELECT count(*) FROM late"), "3");
}

}  // namespace
}  // namespace shale::e2e
