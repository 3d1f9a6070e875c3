// End-to-end tests of `shale tablet` processes: the record, type changes
// through `shale ctl` (state, health stream, then record), startup rules on
// restart, durability across kill -9, clean shutdown on SIGTERM.

#include <signal.h>

#include "gmock/gmock.h"
#include "tablet/engine/sqlite_errors.h"
#include "tests/e2e/tablet_fixture.h"

namespace shale::e2e {
namespace {

using ::testing::HasSubstr;

TEST_F(TabletE2eTest, RecordAppearsWithTheRightFields) {
  StartTablet("zone1-101", {"--keyspace", "app", "--shard", "0", "--init-type", "replica"});
  auto rec = ts_->GetTablet({"zone1", 101});
  ASSERT_TRUE(rec.ok()) << rec.status();
  const topodata::Tablet& t = rec->record;
  EXPECT_EQ(t.keyspace(), "app");
  EXPECT_EQ(t.shard(), "0");
  EXPECT_EQ(t.db_name(), "app");
  EXPECT_EQ(t.type(), topodata::REPLICA);
  EXPECT_EQ(t.hostname(), "localhost");
  EXPECT_GT(t.port_map().at("grpc"), 0);
  auto repl = ts_->GetShardReplication("zone1", "app", "0");
  ASSERT_TRUE(repl.ok());
  EXPECT_EQ(repl->nodes_size(), 1);

  nlohmann::json state = CtlJson({"GetTabletState", "zone1-101"});
  EXPECT_EQ(state["target"]["tablet_type"], "REPLICA") << state.dump();
  EXPECT_EQ(state["serving"], true);
  nlohmann::json ping = CtlJson({"Ping", "zone1-101"});
  EXPECT_EQ(ping["alias"], "zone1-101");
  EXPECT_EQ(StopTablet("zone1-101"), 0);  // clean shutdown on SIGTERM
}

TEST_F(TabletE2eTest, ChangeTabletTypeShowsInStateThenHealthThenRecord) {
  StartTablet("zone1-101", {"--keyspace", "app", "--shard", "0"});
  auto client = Client("zone1-101");
  ASSERT_NE(client, nullptr);
  grpc::ClientContext hctx;
  hctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto health = client->health().StreamHealth(&hctx, tablet::StreamHealthRequest());
  tablet::StreamHealthResponse h;
  ASSERT_TRUE(health->Read(&h));
  EXPECT_EQ(h.target().tablet_type(), topodata::REPLICA);

  nlohmann::json changed = CtlJson({"ChangeTabletType", "zone1-101", "rdonly"});
  EXPECT_EQ(changed["target"]["tablet_type"], "RDONLY") << changed.dump();
  EXPECT_EQ(CtlJson({"GetTabletState", "zone1-101"})["target"]["tablet_type"], "RDONLY");
  bool seen = false;
  while (!seen && health->Read(&h)) seen = h.target().tablet_type() == topodata::RDONLY;
  EXPECT_TRUE(seen);
  hctx.TryCancel();
  EXPECT_TRUE(TabletE2eTest::WaitFor(absl::Seconds(20), [&] {
    auto rec = ts_->GetTablet({"zone1", 101});
    return rec.ok() && rec->record.type() == topodata::RDONLY;
  }));

  CliResult primary = Ctl({"ChangeTabletType", "zone1-101", "primary"});
  EXPECT_EQ(primary.exit_code, 1);
  EXPECT_THAT(primary.err, HasSubstr("reparent"));
}

TEST_F(TabletE2eTest, RestartKeepsRecordedTypeAndMismatchExitsNamingTheField) {
  const std::vector<std::string> flags = {"--keyspace", "app", "--shard", "0", "--init-type",
                                          "replica"};
  StartTablet("zone1-101", flags);
  CtlJson({"ChangeTabletType", "zone1-101", "spare"});
  EXPECT_EQ(StopTablet("zone1-101"), 0);

  // The original command line: the recorded type SPARE wins over --init-type.
  StartTablet("zone1-101", flags);
  EXPECT_EQ(CtlJson({"GetTabletState", "zone1-101"})["target"]["tablet_type"], "SPARE");
  EXPECT_EQ(StopTablet("zone1-101"), 0);

  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"--keyspace", "other"}, {"--shard", "-80"}, {"--db-name", "otherdb"}}) {
    std::vector<std::string> args = TabletArgs("zone1-101", {flag, value});
    args.erase(args.begin());  // RunShale adds the binary
    absl::StatusOr<CliResult> r = RunShale(args);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_NE(r->exit_code, 0) << flag;
    EXPECT_THAT(r->err, HasSubstr(flag + " is \"" + value + "\"")) << r->err;
  }
}

TEST_F(TabletE2eTest, AliasIsRequired) {
  absl::StatusOr<CliResult> r = RunShale({"tablet", "--topo", topo()});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->exit_code, 0);
  EXPECT_THAT(r->err, HasSubstr("--alias is required"));
}

TEST_F(TabletE2eTest, DataSurvivesKill9AndRestart) {
  const std::vector<std::string> flags = {"--keyspace", "app", "--shard", "0", "--init-type",
                                          "primary"};
  Subprocess* p = StartTablet("zone1-101", flags);
  CtlJson({"ExecuteFetchAsDba", "zone1-101", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"});
  CtlJson({"ExecuteFetchAsDba", "zone1-101", "INSERT INTO t VALUES (1, 'kept')"});
  ASSERT_TRUE(p->Kill(SIGKILL).ok());
  ASSERT_TRUE(p->WaitFor(absl::Seconds(10)).ok());

  StartTablet("zone1-101", flags);
  nlohmann::json state = CtlJson({"GetTabletState", "zone1-101"});
  EXPECT_EQ(state["target"]["tablet_type"], "PRIMARY");  // the Shard record names it
  nlohmann::json rows = CtlJson({"ExecuteFetchAsDba", "zone1-101", "SELECT v FROM t"});
  ASSERT_EQ(rows["rows"].size(), 1u) << rows.dump();
  EXPECT_EQ(rows["rows"][0][0], "kept");
  CliResult table = Ctl({"--format", "table", "ExecuteFetchAsDba", "zone1-101", "SELECT v FROM t"});
  EXPECT_THAT(table.out, HasSubstr("kept"));
}

}  // namespace
}  // namespace shale::e2e
