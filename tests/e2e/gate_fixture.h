#pragma once

// Helpers for the gateway's end-to-end tests (gate_test.cc and friends): a
// keyspace `app` hash-sharded by column `id` over shards -80 and 80-, each
// with a primary and replicas (real `shale tablet` processes), its serving
// graph published, and a real `shale gate` in front; clients are real psql
// and pgbench. Confined to the test thread.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/e2e/ctld_fixture.h"
#include "tests/e2e/tablet_fixture.h"

namespace shale::e2e {

class GateE2eTest : public TabletE2eTest {
 protected:
  static constexpr const char* kShards[] = {"-80", "80-"};

  // The tablets of shard i: uids 100*(i+1) + 0..replicas; the first is the primary.
  static std::string Alias(int shard, int n) {
    return absl::StrCat("zone1-", 100 * (shard + 1) + n);
  }
  std::string PrimaryOf(int shard) const { return Alias(shard, 0); }

  // Creates app (sharded by id), its two shards and their tablets, elects
  // the primaries, publishes the serving graph and starts a ctld (schema
  // changes through the gateway go to its meta service) with ctld_flags.
  void StartCluster(int replicas = 2, const std::string& durability = "none",
                    const std::vector<std::string>& ctld_flags = {}) {
    ASSERT_EQ(Ctl({"CreateKeyspace", "app", "--sharding-column", "id", "--durability",
                   durability})
                  .exit_code,
              0);
    for (int s = 0; s < 2; ++s) {
      ASSERT_EQ(Ctl({"CreateShard", absl::StrCat("app/", kShards[s])}).exit_code, 0);
      for (int n = 0; n <= replicas; ++n) {
        StartTablet(Alias(s, n),
                    {"--keyspace", "app", "--shard", kShards[s], "--init-type", "replica"});
      }
    }
    for (int s = 0; s < 2; ++s) {
      for (int n = 0; n <= replicas; ++n) ASSERT_TRUE(WaitServing(Alias(s, n)));
      CliResult r = Ctl({"PlannedReparentShard", absl::StrCat("app/", kShards[s]),
                         "--new-primary", PrimaryOf(s)});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    CliResult r = Ctl({"RebuildKeyspaceGraph", "app"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    num_tablets_ = 2 * (replicas + 1);
    ctld_ = StartCtldProcess(topo(), ctld_flags, LaunchPrefix("ctld"));
    ASSERT_GT(ctld_.grpc_port, 0);
  }

  // Starts `shale gate` and (unless told not to) waits until it serves
  // every tablet, as seen through psql. A restart keeps the PostgreSQL port.
  void StartGate(std::vector<std::string> extra = {}, bool wait_for_tablets = true) {
    gate_ = std::make_unique<Subprocess>();
    const std::vector<std::string> command = {
        FindBinary("shale"), "gate", "--topo", topo(), "--cell", "zone1", "--pg-port",
        absl::StrCat(pg_port_), "--grpc-port", "0", "--http-port", "0"};
    std::vector<std::string> args = LaunchPrefix("gate");
    args.insert(args.end(), command.begin(), command.end());
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(gate_->Start(args).ok());
    absl::StatusOr<std::string> line = gate_->ReadLine(absl::Seconds(30));
    ASSERT_TRUE(line.ok()) << line.status();
    for (absl::string_view part : absl::StrSplit(*line, ' ')) {
      if (absl::ConsumePrefix(&part, "pg_port=")) {
        ASSERT_TRUE(absl::SimpleAtoi(part, &pg_port_));
      } else if (absl::ConsumePrefix(&part, "grpc_port=")) {
        ASSERT_TRUE(absl::SimpleAtoi(part, &grpc_port_));
      } else if (absl::ConsumePrefix(&part, "http_port=")) {
        ASSERT_TRUE(absl::SimpleAtoi(part, &http_port_));
      }
    }
    ASSERT_GT(pg_port_, 0) << *line;
    if (!wait_for_tablets) return;
    ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] { return ServingTablets() == num_tablets_; }))
        << "the gateway serves " << ServingTablets() << " of " << num_tablets_ << " tablets";
  }

  // psql -c sql against the gateway: unaligned, tuples only.
  CliResult Psql(const std::string& sql, const std::string& db = "app",
                 std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                                     "-h", "127.0.0.1", "-p", absl::StrCat(pg_port_),
                                     "-U", "tester", "-d", db};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("-c");
    argv.push_back(sql);
    absl::StatusOr<CliResult> r = RunProgram(argv);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : CliResult{};
  }
  // Psql that must succeed; its output without the trailing newline.
  std::string PsqlOk(const std::string& sql, const std::string& db = "app") {
    CliResult r = Psql(sql, db);
    EXPECT_EQ(r.exit_code, 0) << sql << ": " << r.err;
    return std::string(absl::StripSuffix(r.out, "\n"));
  }

  // Tablets the gateway reports SERVING (SHOW TABLETS), or -1.
  int ServingTablets() {
    CliResult r = Psql("SHOW TABLETS");
    if (r.exit_code != 0) return -1;
    int n = 0;
    for (absl::string_view line : absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
      if (absl::StrContains(line, "|SERVING|")) ++n;
    }
    return n;
  }

  // Rows of table on one tablet, straight from its database, or -1.
  int64_t TabletRows(const std::string& alias, const std::string& sql) {
    auto c = Client(alias);
    if (c == nullptr) return -1;
    tablet::ExecuteFetchAsDbaRequest req;
    req.set_sql(sql);
    auto r = c->Call(c->manager(), &tablet::TabletManager::Stub::ExecuteFetchAsDba, req,
                     absl::Seconds(10));
    if (!r.ok() || r->result().rows_size() != 1) return -1;
    return r->result().rows(0).values(0).int64();
  }

  int pg_port_ = 0;
  int grpc_port_ = 0;
  int http_port_ = 0;
  int num_tablets_ = 0;
  std::unique_ptr<Subprocess> gate_;
  CtldProcess ctld_;
};

}  // namespace shale::e2e
