// Resharding end to end (issue 10), real processes throughout: keyspace app
// (semi_sync, shards -80 and 80-, each a primary and a replica) behind a
// real gateway, under a real pgbench update load on the gateway.
//
// SplitSwitchReverseAndMergeBackUnderLoad: -80 is split into -40 and 40-80
// (new shards created after the table, so the copy creates it), VDiff is
// clean, rdonly/replica then primary traffic is switched, the primary is
// switched back (ReverseTraffic) and forward again, the split is completed
// with --drop-data, and then -40,40-80 are merged back into -80. Through all
// of it pgbench sees zero failed transactions, and the balance total grows
// by exactly the number of transactions pgbench completed: no update lost,
// none applied twice.
//
// StreamsResumeAfterATargetFailoverAndASourceMigration: a kill -9 of a
// target primary and a planned migration of the source primary while the
// streams run under load; nothing is lost and VDiff is clean.
//
// MoveTablesToAnotherKeyspaceUnderLoad: the vertical split, with its switch,
// reverse and completion, under load.

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/gate_fixture.h"
#include "tests/e2e/pgbench.h"

namespace shale::e2e {
namespace {

using ::testing::HasSubstr;

constexpr int kAccounts = 2000;

class ReshardE2eTest : public GateE2eTest {
 protected:
  void SetUp() override {
    GateE2eTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(StartCluster(/*replicas=*/1, "semi_sync"));
    ASSERT_NO_FATAL_FAILURE(StartGate());
    ASSERT_NO_FATAL_FAILURE(CreateAndFill("accounts", "bal"));
    std::ofstream(data_dir("update.sql"))
        << "\\set aid random(1, " << kAccounts
        << ")\nUPDATE accounts SET bal = bal + 1 WHERE id = :aid;\n";
  }

  // Creates table (id, column) through the gateway with kAccounts rows,
  // column 0.
  void CreateAndFill(const std::string& table, const std::string& column) {
    PsqlOk(absl::StrCat("CREATE TABLE ", table, " (id INTEGER PRIMARY KEY, ", column,
                        " INTEGER NOT NULL)"));
    const std::string csv = data_dir(table + ".csv");
    std::ofstream out(csv);
    for (int id = 1; id <= kAccounts; ++id) out << id << ",0\n";
    out.close();
    CliResult r = Psql(absl::StrCat("\\copy ", table, " (id, ", column, ") from '", csv,
                                    "' with (format csv)"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Creates shard `name` with a primary (uid) and replicas (uid + 1, ...).
  void AddShard(const std::string& name, int uid, int replicas = 1,
                const std::string& keyspace = "app") {
    CliResult r = Ctl({"CreateShard", absl::StrCat(keyspace, "/", name)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (int n = 0; n <= replicas; ++n) {
      const std::string alias = absl::StrCat("zone1-", uid + n);
      StartTablet(alias, {"--keyspace", keyspace, "--shard", name, "--init-type", "replica"});
      ASSERT_TRUE(WaitServing(alias));
    }
    r = Ctl({"PlannedReparentShard", absl::StrCat(keyspace, "/", name), "--new-primary",
             absl::StrCat("zone1-", uid)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  int64_t TotalBalance(const std::string& db = "app") {
    int64_t n = -1;
    return absl::SimpleAtoi(PsqlOk("SELECT sum(bal) FROM accounts", db), &n) ? n : -1;
  }

  // A ctl command that must succeed; its JSON output.
  nlohmann::json CtlOk(const std::vector<std::string>& args) {
    CliResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << absl::StrJoin(args, " ") << "\n" << r.out << r.err;
    std::cerr << absl::StrJoin(args, " ") << ":\n" << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }

  // Rows of accounts on the shard's primary, straight from its database.
  int64_t ShardRows(const std::string& primary) {
    return TabletRows(primary, "SELECT count(*) FROM accounts");
  }
};

TEST_F(ReshardE2eTest, SplitSwitchReverseAndMergeBackUnderLoad) {
  ASSERT_NO_FATAL_FAILURE(AddShard("-40", 300));
  ASSERT_NO_FATAL_FAILURE(AddShard("40-80", 400));
  const int64_t before = TotalBalance();
  ASSERT_EQ(before, 0);
  std::unique_ptr<Subprocess> bench =
      StartPgbench(pg_port_, data_dir("update.sql"), "prepared", 8, 60);
  ASSERT_NE(bench, nullptr);
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return TotalBalance() > 200; }));

  // Split -80 while updates run.
  nlohmann::json copied = CtlOk({"Reshard", "app", "--source", "-80", "--target", "-40,40-80"});
  ASSERT_TRUE(copied.is_array()) << copied.dump();
  EXPECT_EQ(copied.size(), 2u);
  nlohmann::json status = CtlOk({"ReshardStatus", "app"});
  ASSERT_EQ(status["streams"].size(), 2u) << status.dump();
  for (const auto& s : status["streams"]) EXPECT_EQ(s["phase"], "RUNNING") << s.dump();
  // Every row of -80 is on exactly one of the new shards.
  const int64_t old_rows = ShardRows("zone1-100");
  EXPECT_GT(old_rows, 0);
  EXPECT_EQ(ShardRows("zone1-300") + ShardRows("zone1-400"), old_rows);
  EXPECT_GT(ShardRows("zone1-300"), 0);
  EXPECT_GT(ShardRows("zone1-400"), 0);

  CliResult vdiff = Ctl({"VDiff", "app"});
  EXPECT_EQ(vdiff.exit_code, 0) << vdiff.out << vdiff.err;

  CtlOk({"SwitchTraffic", "app", "--tablet-types", "rdonly,replica"});
  nlohmann::json sw = CtlOk({"SwitchTraffic", "app", "--tablet-types", "primary"});
  EXPECT_THAT(sw.dump(), HasSubstr("writes were frozen for")) << sw.dump();
  // Writes now land on the new shards; the old one follows them.
  const int64_t b1 = TotalBalance();
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return TotalBalance() > b1 + 100; }));

  // Back and forth once more: the reverse streams kept -80 up to date.
  CtlOk({"ReverseTraffic", "app", "--tablet-types", "primary"});
  const int64_t b2 = TotalBalance();
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return TotalBalance() > b2 + 100; }));
  CtlOk({"SwitchTraffic", "app", "--tablet-types", "primary"});
  const int64_t b3 = TotalBalance();
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return TotalBalance() > b3 + 100; }));

  CtlOk({"Complete", "app", "--drop-data"});
  EXPECT_EQ(ShardRows("zone1-100"), 0);

  // Merge back into the emptied -80.
  copied = CtlOk({"Reshard", "app", "--source", "-40,40-80", "--target", "-80"});
  EXPECT_EQ(copied.size(), 2u) << copied.dump();
  vdiff = Ctl({"VDiff", "app"});
  EXPECT_EQ(vdiff.exit_code, 0) << vdiff.out << vdiff.err;
  CtlOk({"SwitchTraffic", "app", "--tablet-types", "rdonly,replica"});
  CtlOk({"SwitchTraffic", "app", "--tablet-types", "primary"});
  CtlOk({"Complete", "app"});

  PgbenchResult result = FinishPgbench(std::move(bench));
  std::cerr << "pgbench during the split, switches and merge:\n" << result.out;
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_THAT(result.out, HasSubstr("number of failed transactions: 0"));
  const int64_t updates = PgbenchProcessed(result.out);
  EXPECT_GT(updates, 0);
  EXPECT_EQ(TotalBalance() - before, updates) << "an update was lost or applied twice";
  EXPECT_EQ(PsqlOk("SELECT count(*) FROM accounts"), absl::StrCat(kAccounts));
  EXPECT_EQ(ShardRows("zone1-100") + ShardRows("zone1-200"), kAccounts);
}

// The streams survive their tablets: a kill -9 of a target primary (ctld
// fails over to its replica, which resumes from the replicated stream state)
// and a planned migration of the source primary, all under pgbench. VDiff is
// clean afterwards, the primary switch works, and no update is lost.
TEST_F(ReshardE2eTest, StreamsResumeAfterATargetFailoverAndASourceMigration) {
  // Two replicas: under semi_sync the promoted one still has a replica to
  // acknowledge its commits.
  ASSERT_NO_FATAL_FAILURE(AddShard("-40", 300, /*replicas=*/2));
  ASSERT_NO_FATAL_FAILURE(AddShard("40-80", 400));
  const int64_t before = TotalBalance();
  std::unique_ptr<Subprocess> bench =
      StartPgbench(pg_port_, data_dir("update.sql"), "prepared", 8, 40);
  ASSERT_NE(bench, nullptr);
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return TotalBalance() > before + 200; }));
  CtlOk({"Reshard", "app", "--source", "-80", "--target", "-40,40-80"});

  // kill -9 the primary of -40; ctld promotes zone1-301.
  Subprocess& target_primary = *tablets_.at("zone1-300");
  ASSERT_TRUE(target_primary.Kill(SIGKILL).ok());
  ASSERT_TRUE(target_primary.WaitFor(absl::Seconds(10)).ok());
  ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] {
    const std::string shard = Ctl({"GetShard", "app/-40"}).out;
    return absl::StrContains(shard, "\"uid\": 301") || absl::StrContains(shard, "\"uid\": 302");
  })) << Ctl({"GetShard", "app/-40"}).out;
  // A planned migration of the source's primary.
  CtlOk({"PlannedReparentShard", "app/-80", "--new-primary", "zone1-101"});

  // Both streams run again, on the new primaries, and catch up.
  ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] {
    nlohmann::json st =
        nlohmann::json::parse(Ctl({"ReshardStatus", "app"}).out, nullptr, false);
    if (!st.is_object() || st["streams"].size() != 2) return false;
    for (const auto& s : st["streams"]) {
      if (s.value("phase", "") != "RUNNING") return false;
    }
    return true;
  })) << Ctl({"ReshardStatus", "app"}).out;
  CliResult vdiff = Ctl({"VDiff", "app"});
  EXPECT_EQ(vdiff.exit_code, 0) << vdiff.out << vdiff.err;
  CtlOk({"SwitchTraffic", "app", "--tablet-types", "primary"});
  const int64_t switched = TotalBalance();
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return TotalBalance() > switched + 100; }));

  PgbenchResult result = FinishPgbench(std::move(bench));
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_THAT(result.out, HasSubstr("number of failed transactions: 0"));
  const int64_t updates = PgbenchProcessed(result.out);
  EXPECT_GT(updates, 0);
  EXPECT_EQ(TotalBalance() - before, updates) << "an update was lost or applied twice";
  const std::string new_primary =
      absl::StrContains(Ctl({"GetShard", "app/-40"}).out, "\"uid\": 301") ? "zone1-301"
                                                                           : "zone1-302";
  EXPECT_EQ(ShardRows(new_primary) + ShardRows("zone1-400"), ShardRows("zone1-101"));
}

TEST_F(ReshardE2eTest, ImpossibleRequestsAreRefusedAndChangeNothing) {
  ASSERT_NO_FATAL_FAILURE(AddShard("-40", 300));
  // A target range that does not match the source's.
  CliResult r = Ctl({"Reshard", "app", "--source", "-80", "--target", "-40"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("same key range"));
  // A target that does not exist.
  r = Ctl({"Reshard", "app", "--source", "-80", "--target", "-40,40-80"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("40-80 does not exist"));
  // A serving shard as the target.
  r = Ctl({"Reshard", "app", "--source", "-40", "--target", "-80"});
  EXPECT_EQ(r.exit_code, 1);
  // Bad input is a usage error.
  EXPECT_EQ(Ctl({"Reshard", "app", "--source", "-8", "--target", "-40"}).exit_code, 2);
  EXPECT_EQ(Ctl({"SwitchTraffic", "app", "--tablet-types", "master"}).exit_code, 2);
  // No workflow: nothing to switch or show.
  r = Ctl({"SwitchTraffic", "app", "--tablet-types", "primary"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("has no resharding workflow"));
  EXPECT_EQ(Ctl({"ReshardStatus", "app"}).exit_code, 1);
  // Nothing changed: no shard follows another.
  nlohmann::json shard = nlohmann::json::parse(Ctl({"GetShard", "app/-40"}).out, nullptr, false);
  ASSERT_TRUE(shard.is_object());
  EXPECT_TRUE(shard["source_shards"].empty()) << shard.dump();
}

// MoveTables (the vertical split) under load: accounts moves from the
// sharded keyspace app to a new unsharded keyspace archive while pgbench
// updates accounts and a table that stays (stay) through the gateway's app
// database. Sessions on either keyspace reach accounts wherever it is
// served; after the primary switch app's shards refuse it; ReverseTraffic
// and a second switch work; Complete --drop-data empties app's copy. No
// client error, and both tables' sums equal pgbench's transactions.
TEST_F(ReshardE2eTest, MoveTablesToAnotherKeyspaceUnderLoad) {
  ASSERT_NO_FATAL_FAILURE(CreateAndFill("stay", "n"));
  ASSERT_EQ(Ctl({"CreateKeyspace", "archive", "--durability", "semi_sync"}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(AddShard("0", 500, /*replicas=*/1, "archive"));
  ASSERT_EQ(Ctl({"RebuildKeyspaceGraph", "archive"}).exit_code, 0);
  std::ofstream(data_dir("move.sql"))
      << "\\set aid random(1, " << kAccounts
      << ")\nUPDATE accounts SET bal = bal + 1 WHERE id = :aid;\n"
         "UPDATE stay SET n = n + 1 WHERE id = :aid;\n";
  std::unique_ptr<Subprocess> bench =
      StartPgbench(pg_port_, data_dir("move.sql"), "prepared", 8, 45);
  ASSERT_NE(bench, nullptr);
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return TotalBalance() > 200; }));

  // Bad requests change nothing.
  CliResult r = Ctl({"MoveTables", "--from", "app", "--to", "app", "--tables", "accounts"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("same keyspace"));
  r = Ctl({"MoveTables", "--from", "app", "--to", "archive", "--tables", "nosuch"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("not in keyspace app's VSchema"));
  r = Ctl({"MoveTables", "--from", "app", "--to", "nowhere", "--tables", "accounts"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("keyspace nowhere does not exist"));
  EXPECT_EQ(Ctl({"MoveTables", "--from", "app", "--to", "archive", "--tables", "_shale_x"})
                .exit_code,
            2);
  r = Ctl({"SwitchTraffic", "archive", "--tablet-types", "primary"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no MoveTables workflow"));

  nlohmann::json copied =
      CtlOk({"MoveTables", "--from", "app", "--to", "archive", "--tables", "accounts"});
  ASSERT_TRUE(copied.is_array()) << copied.dump();
  EXPECT_EQ(copied.size(), 2u) << copied.dump();  // archive/0 follows both app shards
  EXPECT_EQ(TabletRows("zone1-500", "SELECT count(*) FROM accounts"), kAccounts);
  EXPECT_EQ(TabletRows("zone1-500", "SELECT count(*) FROM stay"), -1) << "stay was not moved";
  nlohmann::json status = CtlOk({"ReshardStatus", "archive"});
  EXPECT_EQ(status["workflow"], "MoveTables") << status.dump();
  EXPECT_EQ(status["served_by"]["primary"], "app") << status.dump();
  CliResult vdiff = Ctl({"VDiff", "archive"});
  EXPECT_EQ(vdiff.exit_code, 0) << vdiff.out << vdiff.err;
  // No resharding of a keyspace a MoveTables involves.
  r = Ctl({"Reshard", "app", "--source", "-80", "--target", "-40,40-80"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("takes part in a MoveTables workflow"));
  // A session on archive reaches accounts in app until the switch.
  EXPECT_EQ(PsqlOk("SELECT count(*) FROM accounts", "archive"), absl::StrCat(kAccounts));

  // What an interrupted primary switch leaves: a reverse stream into app,
  // dormant because app still serves accounts. The next switch command
  // removes it before it starts.
  ASSERT_TRUE(ts_->UpdateShardFields("app", "-80", [](topodata::Shard& rec) -> absl::Status {
                   auto* s = rec.add_source_shards();
                   s->set_uid(1);
                   s->set_keyspace("archive");
                   s->set_shard("0");
                   s->add_tables("accounts");
                   s->set_reverse(true);
                   s->set_start_seq(1);
                   s->set_start_term(1);
                   return absl::OkStatus();
                 }).ok());
  status = CtlOk({"ReshardStatus", "archive"});
  EXPECT_TRUE(status.contains("interrupted_switch")) << status.dump();
  CtlOk({"SwitchTraffic", "archive", "--tablet-types", "rdonly,replica"});
  nlohmann::json shard = nlohmann::json::parse(Ctl({"GetShard", "app/-80"}).out, nullptr, false);
  EXPECT_TRUE(shard["source_shards"].empty()) << shard.dump();
  nlohmann::json sw = CtlOk({"SwitchTraffic", "archive", "--tablet-types", "primary"});
  EXPECT_THAT(sw.dump(), HasSubstr("writes were frozen for")) << sw.dump();
  const int64_t b1 = TotalBalance();
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return TotalBalance() > b1 + 100; }));
  // app's shards refuse accounts now (a session bound to a shard follows no
  // routing rule); stay is still theirs.
  r = Psql("SELECT count(*) FROM accounts", "app:-80");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("resharded"));
  EXPECT_EQ(Psql("SELECT count(*) FROM stay", "app:-80").exit_code, 0);
  status = CtlOk({"ReshardStatus", "archive"});
  EXPECT_EQ(status["served_by"]["primary"], "archive") << status.dump();
  EXPECT_EQ(status["primary_switched"], true) << status.dump();

  CtlOk({"ReverseTraffic", "archive", "--tablet-types", "primary"});
  const int64_t b2 = TotalBalance();
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return TotalBalance() > b2 + 100; }));
  CtlOk({"SwitchTraffic", "archive", "--tablet-types", "primary"});
  const int64_t b3 = TotalBalance();
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return TotalBalance() > b3 + 100; }));
  CtlOk({"Complete", "archive", "--drop-data"});
  EXPECT_EQ(TabletRows("zone1-100", "SELECT count(*) FROM accounts"), 0);
  EXPECT_EQ(TabletRows("zone1-200", "SELECT count(*) FROM accounts"), 0);

  PgbenchResult result = FinishPgbench(std::move(bench));
  std::cerr << "pgbench during MoveTables, switches and Complete:\n" << result.out;
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_THAT(result.out, HasSubstr("number of failed transactions: 0"));
  const int64_t txns = PgbenchProcessed(result.out);
  EXPECT_GT(txns, 0);
  EXPECT_EQ(TotalBalance(), txns) << "an update of the moved table was lost or applied twice";
  EXPECT_EQ(TotalBalance("archive"), txns);
  EXPECT_EQ(PsqlOk("SELECT sum(n) FROM stay"), absl::StrCat(txns));
  EXPECT_EQ(TabletRows("zone1-500", "SELECT sum(bal) FROM accounts"), txns);
}

}  // namespace
}  // namespace shale::e2e
