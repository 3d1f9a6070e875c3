// The gateway under pgbench load (issue: gateway): every pgbench query mode,
// COPY through psql's \copy, a planned migration of both shards' primaries
// during an update load (zero client errors, every update counted exactly
// once), and a kill -9 of a primary under a read load on the primaries
// (zero client errors: the gateway buffers until ctld's failover is done).

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/gate_fixture.h"
#include "tests/e2e/pgbench.h"

namespace shale::e2e {
namespace {

constexpr int kAccounts = 1000;

class GateLoadTest : public GateE2eTest {
 protected:
  void SetUp() override {
    GateE2eTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(StartCluster());
    ASSERT_NO_FATAL_FAILURE(StartGate());
    PsqlOk("CREATE TABLE accounts (id INTEGER PRIMARY KEY, bal INTEGER NOT NULL)");
    // Load through COPY FROM STDIN (psql's \copy), split per shard by the gateway.
    const std::string csv = Path("accounts.csv");
    std::ofstream out(csv);
    for (int id = 1; id <= kAccounts; ++id) out << id << ",0\n";
    out.close();
    CliResult r = Psql("\\copy accounts (id, bal) from '" + csv + "' with (format csv)");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(PsqlOk("SELECT count(*) FROM accounts"), absl::StrCat(kAccounts));
    WriteScript("select.sql", absl::StrCat("\\set aid random(1, ", kAccounts,
                                           ")\nSELECT bal FROM accounts WHERE id = :aid;\n"));
    WriteScript("update.sql", absl::StrCat("\\set aid random(1, ", kAccounts,
                                           ")\nUPDATE accounts SET bal = bal + 1 WHERE id = :aid;\n"));
  }

  std::string Path(const std::string& name) const { return data_dir(name); }
  void WriteScript(const std::string& name, const std::string& text) {
    std::ofstream(Path(name)) << text;
  }

  std::unique_ptr<Subprocess> StartPgbench(const std::string& script, const std::string& mode,
                                           int clients, int seconds) {
    auto p = e2e::StartPgbench(pg_port_, Path(script), mode, clients, seconds);
    EXPECT_NE(p, nullptr);
    return p;
  }
  using Pgbench = PgbenchResult;
  static Pgbench Finish(std::unique_ptr<Subprocess> p) { return FinishPgbench(std::move(p)); }
  static int64_t Processed(const std::string& out) { return PgbenchProcessed(out); }
  int64_t TotalBalance() {
    int64_t n = -1;
    return absl::SimpleAtoi(PsqlOk("SELECT sum(bal) FROM accounts"), &n) ? n : -1;
  }
};

TEST_F(GateLoadTest, PgbenchRunsInEveryQueryMode) {
  for (const char* mode : {"simple", "extended", "prepared"}) {
    const int64_t before = TotalBalance();
    Pgbench sel = Finish(StartPgbench("select.sql", mode, 4, 2));
    EXPECT_EQ(sel.exit_code, 0) << mode << "\n" << sel.out;
    EXPECT_GT(Processed(sel.out), 0) << sel.out;
    Pgbench upd = Finish(StartPgbench("update.sql", mode, 4, 2));
    EXPECT_EQ(upd.exit_code, 0) << mode << "\n" << upd.out;
    const int64_t updates = Processed(upd.out);
    EXPECT_GT(updates, 0) << upd.out;
    // Every acknowledged update counted exactly once.
    EXPECT_EQ(TotalBalance() - before, updates) << mode;
  }
}

TEST_F(GateLoadTest, PlannedMigrationDuringUpdatesCausesNoClientError) {
  const int64_t before = TotalBalance();
  std::unique_ptr<Subprocess> bench = StartPgbench("update.sql", "prepared", 8, 8);
  // Let the load run, then move both shards' primaries to a replica.
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return TotalBalance() - before > 200; }));
  for (int s = 0; s < 2; ++s) {
    CliResult r = Ctl({"PlannedReparentShard", absl::StrCat("app/", kShards[s]),
                       "--new-primary", Alias(s, 1)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  Pgbench result = Finish(std::move(bench));
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_THAT(result.out, ::testing::HasSubstr("number of failed transactions: 0"));
  const int64_t updates = Processed(result.out);
  EXPECT_GT(updates, 0);
  EXPECT_EQ(TotalBalance() - before, updates) << "an update was lost or applied twice";
  std::string shards = PsqlOk("SHOW SHARDS");
  EXPECT_THAT(shards, ::testing::HasSubstr(Alias(0, 1)));
  EXPECT_THAT(shards, ::testing::HasSubstr(Alias(1, 1)));
}

TEST_F(GateLoadTest, KillOfAPrimaryDuringReadsCausesNoClientError) {
  Subprocess ctld;
  ASSERT_TRUE(ctld.Start({FindBinary("shale"), "ctld", "--topo", topo(), "--failover-after",
                          "1s", "--http-port", "0", "--grpc-port", "0", "--discovery-interval", "1s"})
                  .ok());
  ASSERT_TRUE(ctld.ReadLine(absl::Seconds(30)).ok());
  std::unique_ptr<Subprocess> bench = StartPgbench("select.sql", "prepared", 4, 8);
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] {
    return !PsqlOk("SELECT 1 FROM accounts WHERE id = 1").empty();
  }));
  Subprocess& primary = *tablets_.at(PrimaryOf(0));
  ASSERT_TRUE(primary.Kill(SIGKILL).ok());
  ASSERT_TRUE(primary.WaitFor(absl::Seconds(10)).ok());
  Pgbench result = Finish(std::move(bench));
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_THAT(result.out, ::testing::HasSubstr("number of failed transactions: 0"));
  // ctld promoted a replica of -80 and the gateway routes to it.
  EXPECT_EQ(PsqlOk("SELECT count(*) FROM accounts"), absl::StrCat(kAccounts));
  EXPECT_THAT(PsqlOk("SHOW SHARDS"), ::testing::Not(::testing::HasSubstr(PrimaryOf(0))));
  ASSERT_TRUE(ctld.Kill(SIGTERM).ok());
  EXPECT_TRUE(ctld.WaitFor(absl::Seconds(30)).ok());
}

}  // namespace
}  // namespace shale::e2e
