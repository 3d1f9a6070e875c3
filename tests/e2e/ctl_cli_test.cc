// End-to-end tests of `shale ctl` against a real sqlite topology file: the
// operator's shell session from the foundation issue, and bad input that must
// fail with one clear line on stderr and leave the topology unchanged.

#include <algorithm>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/shale_cli.h"
#include "topo/open/open.h"
#include "topo/path.h"

namespace shale::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class CtlCliTest : public ::testing::Test {
 protected:
  std::string topo() const { return absl::StrCat("sqlite:", dir_.path(), "/topo.db"); }

  CliResult Ctl(std::vector<std::string> args) { return RunCtl(topo(), std::move(args)); }
  nlohmann::json CtlJson(std::vector<std::string> args) {
    return RunCtlJson(topo(), std::move(args));
  }

  // Every path in the topology with its version: equal snapshots mean nothing changed.
  std::map<std::string, topo::Version> Snapshot() {
    topo::ConnOptions options;
    options.create_if_missing = false;
    auto conn = topo::OpenConn(topo(), options);
    EXPECT_TRUE(conn.ok()) << conn.status();
    std::map<std::string, topo::Version> out;
    if (conn.ok()) Walk(**conn, "/", out);
    return out;
  }

  void Walk(topo::Conn& conn, const std::string& dir, std::map<std::string, topo::Version>& out) {
    auto entries = conn.ListDir(dir);
    if (!entries.ok()) return;
    for (const auto& e : *entries) {
      std::string child = topo::JoinPath(dir, e.name);
      if (e.has_value) out[child] = conn.Get(child)->version;
      if (e.has_children) Walk(conn, child, out);
    }
  }

  // Builds keyspace app with shards -80 and 80- in cells zone1 and zone2.
  void BuildCluster() {
    CtlJson({"AddCellInfo", "zone1", "--region", "us"});
    CtlJson({"AddCellInfo", "zone2", "--region", "eu"});
    CtlJson({"CreateKeyspace", "app", "--sharding-column", "id", "--durability", "semi_sync"});
    CtlJson({"CreateShard", "app/-80"});
    CtlJson({"CreateShard", "app/80-"});
  }

  TempDir dir_;
};

TEST_F(CtlCliTest, OperatorBuildsTwoShardsInTwoCellsAndPrintsTheServingGraph) {
  BuildCluster();
  EXPECT_EQ(CtlJson({"ListKeyspaces"}), nlohmann::json::array({"app"}));
  EXPECT_EQ(CtlJson({"ListCells"}), nlohmann::json::array({"zone1", "zone2"}));
  EXPECT_EQ(CtlJson({"ListShards", "app"}), nlohmann::json::array({"-80", "80-"}));
  nlohmann::json ks = CtlJson({"GetKeyspace", "app"});
  EXPECT_EQ(ks["sharding_column_name"], "id");
  EXPECT_EQ(ks["durability_policy"], "SEMI_SYNC");

  nlohmann::json rebuilt = CtlJson({"RebuildKeyspaceGraph", "app"});
  EXPECT_TRUE(rebuilt.contains("zone1") && rebuilt.contains("zone2")) << rebuilt.dump();

  for (const char* cell : {"zone1", "zone2"}) {
    nlohmann::json srv = CtlJson({"GetSrvKeyspace", cell, "app"});
    ASSERT_EQ(srv["partitions"].size(), 3u) << srv.dump();
    EXPECT_EQ(srv["partitions"][0]["served_type"], "PRIMARY");
    EXPECT_EQ(srv["partitions"][0]["shard_references"][0]["name"], "-80");
    EXPECT_EQ(srv["partitions"][0]["shard_references"][1]["name"], "80-");
    EXPECT_EQ(srv["sharding_column_name"], "id");
  }

  CliResult table = Ctl({"--format", "table", "ListShards", "app"});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_EQ(table.out, "-80\n80-\n");

  nlohmann::json ls = CtlJson({"TopoLs", "/global/keyspaces/app/shards"});
  ASSERT_EQ(ls.size(), 2u);
  EXPECT_EQ(ls[0]["name"], "-80");
  nlohmann::json cat = CtlJson({"TopoCat", "/zone2/keyspaces/app/SrvKeyspace"});
  EXPECT_EQ(cat["value"]["partitions"].size(), 3u);
  EXPECT_EQ(CtlJson({"GetRoutingPolicy"})["never_above_lag_seconds"], "7200");
}

TEST_F(CtlCliTest, DeleteKeyspaceNeedsRecursiveWhileShardsRemain) {
  BuildCluster();
  CtlJson({"RebuildKeyspaceGraph", "app"});
  CliResult r = Ctl({"DeleteKeyspace", "app"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--recursive"));
  EXPECT_EQ(Ctl({"DeleteKeyspace", "app", "--recursive"}).exit_code, 0);
  EXPECT_EQ(CtlJson({"ListKeyspaces"}), nlohmann::json::array());
  EXPECT_NE(Ctl({"GetSrvKeyspace", "zone1", "app"}).exit_code, 0);
}

TEST_F(CtlCliTest, BadInputFailsWithOneLineAndChangesNothing) {
  BuildCluster();
  CtlJson({"RebuildKeyspaceGraph", "app"});
  const auto before = Snapshot();
  ASSERT_FALSE(before.empty());

  struct Case {
    std::vector<std::string> args;
    const char* expect;  // a fragment of the one stderr line
  } cases[] = {
      {{"GetKeyspace", "nope"}, "keyspace nope not found"},
      {{"CreateShard", "nope/-80"}, "keyspace nope not found"},
      {{"CreateShard", "app/8x-"}, "invalid shard name"},
      {{"CreateShard", "app/40-c0"}, "overlap"},
      {{"CreateShard", "app-80"}, "expected KEYSPACE/SHARD"},
      {{"CreateKeyspace", "app"}, "already exists"},
      {{"CreateKeyspace", "bad-name"}, "invalid keyspace name"},
      {{"CreateKeyspace", "x", "--durability", "eventual"}, "unknown durability policy"},
      {{"GetSrvKeyspace", "zone9", "app"}, "cell zone9 not found"},
      {{"GetTablet", "zone1"}, "invalid tablet alias"},
      {{"GetTablet", "zone1-7"}, "tablet zone1-7 not found"},
      {{"ListTablets", "--type", "leader"}, "unknown tablet type"},
      {{"RebuildKeyspaceGraph", "app", "--cells", "zone9"}, "cell zone9 not found"},
      {{"SetRoutingPolicy", "{\"rules\": []}"}, "at least one rule"},
      {{"SetRoutingPolicy", "{oops"}, "invalid RoutingPolicy JSON"},
      {{"TopoCat", "/global/nothing"}, "does not exist"},
      {{"TopoCat", "relative/path"}, "must start with /"},
      {{"NoSuchCommand"}, "NoSuchCommand"},
      {{"GetKeyspace"}, "KEYSPACE"},
      {{"GetKeyspace", "app", "--bogus-flag"}, "--bogus-flag"},
  };
  for (const Case& c : cases) {
    CliResult r = Ctl(c.args);
    std::string what = absl::StrJoin(c.args, " ");
    EXPECT_NE(r.exit_code, 0) << what;
    EXPECT_EQ(r.out, "") << what;
    EXPECT_THAT(r.err, StartsWith("error: ")) << what;
    EXPECT_THAT(r.err, HasSubstr(c.expect)) << what;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << ": " << r.err;
  }
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(CtlCliTest, GapRefusedUnlessAllowPartial) {
  CtlJson({"AddCellInfo", "zone1"});
  CtlJson({"CreateKeyspace", "app", "--sharding-column", "id"});
  CtlJson({"CreateShard", "app/-40"});
  CtlJson({"CreateShard", "app/80-"});
  CliResult r = Ctl({"RebuildKeyspaceGraph", "app"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("gap between 40 and 80"));
  EXPECT_NE(Ctl({"GetSrvKeyspace", "zone1", "app"}).exit_code, 0);
  EXPECT_EQ(Ctl({"RebuildKeyspaceGraph", "app", "--allow-partial"}).exit_code, 0);
  EXPECT_EQ(CtlJson({"GetSrvKeyspace", "zone1", "app"})["partitions"][0]["shard_references"].size(),
            2u);
}

TEST_F(CtlCliTest, MissingOrUnreachableTopology) {
  auto run = [](std::vector<std::string> args) {
    args.insert(args.begin(), "ctl");
    absl::StatusOr<CliResult> r = RunShale(args);
    EXPECT_TRUE(r.ok());
    return *r;
  };
  std::string missing = absl::StrCat("sqlite:", dir_.path(), "/absent.db");
  CliResult r = run({"--topo", missing, "ListKeyspaces"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("does not exist"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/absent.db"));

  r = run({"--topo", absl::StrCat("sqlite:", dir_.path(), "/no/such/dir/topo.db"), "CreateKeyspace",
           "app"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("error: "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  r = run({"--topo", "foo:bar", "ListKeyspaces"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown topology address"));
}

TEST_F(CtlCliTest, HelpListsCommands) {
  absl::StatusOr<CliResult> r = RunShale({"--help"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_THAT(r->out, HasSubstr("ctl"));
  r = RunShale({"ctl", "--help"});
  ASSERT_TRUE(r.ok());
  for (const char* cmd : {"CreateKeyspace", "CreateShard", "RebuildKeyspaceGraph", "TopoCat",
                          "SetRoutingPolicy", "ListTablets"}) {
    EXPECT_THAT(r->out, HasSubstr(cmd));
  }
}

}  // namespace
}  // namespace shale::e2e
