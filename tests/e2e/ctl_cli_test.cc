// End-to-end tests of `shale ctl` against a real sqlite topology file: the
// operator's shell session from the foundation issue, and bad input that must
// fail with one clear line on stderr and leave the topology unchanged.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "base/subprocess.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/shale_cli.h"
#include "topo/open/open.h"
#include "topo/path.h"
#include "topo/server.h"

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

  // Writes contents to a file in the test's temp dir and returns its path.
  std::string WriteFile(const std::string& name, const std::string& contents) {
    std::string path = absl::StrCat(dir_.path(), "/", name);
    std::ofstream(path) << contents;
    return path;
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
      {{"CreateShard", "app-80"}, "expected KEYSPACE/SHARD"},
      {{"CreateKeyspace", "app"}, "already exists"},
      {{"CreateKeyspace", "bad-name"}, "invalid keyspace name"},
      {{"CreateKeyspace", "x", "--durability", "eventual"}, "unknown durability policy"},
      {{"GetSrvKeyspace", "zone9", "app"}, "cell zone9 not found"},
      {{"GetTablet", "zone1"}, "invalid tablet alias"},
      {{"GetTablet", "zone1-7"}, "tablet zone1-7 not found"},
      {{"DeleteTablet", "zone1"}, "invalid tablet alias"},
      {{"DeleteTablet", "zone1-7"}, "tablet zone1-7 not found"},
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

// The operator's VSchema session (issue 7): ids come from the allocator, an
// operator cannot change or invent one, and refused input changes nothing.
TEST_F(CtlCliTest, ApplyVSchemaAllocatesIdsAndRefusesOperatorIds) {
  CtlJson({"CreateKeyspace", "app", "--sharding-column", "id"});
  EXPECT_EQ(CtlJson({"GetVSchema", "app"}),
            (nlohmann::json{{"sharded", false}, {"vindexes", nlohmann::json::object()},
                            {"tables", nlohmann::json::object()}}));
  const std::string file = WriteFile("vschema.json", R"({
    "sharded": true,
    "vindexes": {"hash": {"type": "hash"}},
    "tables": {
      "users": {"column_vindexes": [{"column": "id", "name": "hash"}]},
      "countries": {"type": "REFERENCE"}
    }
  })");

  // --dry-run: the changes, and not a single write.
  auto before = Snapshot();
  nlohmann::json dry = CtlJson({"ApplyVSchema", "app", "--file", file, "--dry-run"});
  EXPECT_EQ(dry["dry_run"], true);
  EXPECT_THAT(dry["changes"].dump(),
              HasSubstr("added table users (SHARDED, table_id to be allocated, column_vindexes "
                        "id:hash)"));
  EXPECT_EQ(Snapshot(), before);

  nlohmann::json applied = CtlJson({"ApplyVSchema", "app", "--file", file});
  EXPECT_EQ(applied["dry_run"], false);
  EXPECT_EQ(applied["changes"],
            nlohmann::json::array(
                {"sharded: false -> true", "added vindex hash (type hash)",
                 "added table countries (REFERENCE, table_id 1, column_vindexes none)",
                 "added table users (SHARDED, table_id 2, column_vindexes id:hash)"}));
  nlohmann::json got = CtlJson({"GetVSchema", "app"});
  EXPECT_EQ(got, applied["vschema"]);
  EXPECT_EQ(got["tables"]["countries"]["table_id"], "1");
  EXPECT_EQ(got["tables"]["users"]["table_id"], "2");
  EXPECT_EQ(got["tables"]["users"]["column_vindexes"][0]["column"], "id");

  // GetVSchema's output is valid input (here through stdin): nothing changes.
  const std::string roundtrip = WriteFile("got.json", got.dump(2));
  absl::StatusOr<CliResult> piped = RunProgram(
      {"/bin/sh", "-c", "exec \"$0\" ctl --topo \"$1\" ApplyVSchema app --file - < \"$2\"",
       FindBinary("shale"), topo(), roundtrip});
  ASSERT_TRUE(piped.ok()) << piped.status();
  EXPECT_EQ(piped->exit_code, 0) << piped->err;
  EXPECT_EQ(nlohmann::json::parse(piped->out)["changes"], nlohmann::json::array());

  // Refused: a changed id, an invented id, malformed JSON, an unknown field,
  // a broken rule, an unknown keyspace. Each leaves the topology as it was.
  nlohmann::json changed_id = got;
  changed_id["tables"]["users"]["table_id"] = "7";
  nlohmann::json invented_id = got;
  invented_id["tables"]["orders"] = {{"table_id", "9"}, {"type", "REFERENCE"}};
  before = Snapshot();
  struct Case {
    std::vector<std::string> args;
    const char* expect;
  } cases[] = {
      {{"ApplyVSchema", "app", "--file", WriteFile("changed.json", changed_id.dump(2))},
       "table \"users\" has table_id 2; the file gives 7"},
      {{"ApplyVSchema", "app", "--file", WriteFile("invented.json", invented_id.dump(2))},
       "table \"orders\" is new but the file gives it table_id 9: table ids come from ctld's "
       "allocator"},
      {{"ApplyVSchema", "app", "--file", WriteFile("bad.json", "{\n  \"sharded\": true,\n  oops\n}")},
       "invalid VSchema JSON: parse error at line 3, column 3"},
      {{"ApplyVSchema", "app", "--file",
        WriteFile("typo.json", R"({"tables": {"users": {"tabel_id": "2"}}})")},
       "invalid VSchema JSON: unknown field tables[\"users\"].tabel_id"},
      {{"ApplyVSchema", "app", "--file",
        WriteFile("novindex.json", R"({"sharded": true, "tables": {"users": {}}})")},
       "table \"users\": a SHARDED table of a sharded VSchema needs a column vindex"},
      {{"ApplyVSchema", "app", "--file", dir_.path() + "/absent.json"}, "cannot read"},
      {{"ApplyVSchema", "nope", "--file", file}, "keyspace nope not found"},
      {{"ApplyVSchema", "nope", "--file", file, "--dry-run"}, "keyspace nope not found"},
      {{"GetVSchema", "nope"}, "keyspace nope not found"},
  };
  for (const Case& c : cases) {
    CliResult r = Ctl(c.args);
    std::string what = absl::StrJoin(c.args, " ");
    EXPECT_EQ(r.exit_code, 1) << what;
    EXPECT_EQ(r.out, "") << what;
    EXPECT_THAT(r.err, StartsWith("error: ")) << what;
    EXPECT_THAT(r.err, HasSubstr(c.expect)) << what;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << ": " << r.err;
  }
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(CtlJson({"GetVSchema", "app"}), got);

  // A new table gets the next id; dropping one removes it, its id is never reused.
  nlohmann::json next = got;
  next["tables"].erase("countries");
  next["tables"]["orders"] = {{"column_vindexes", {{{"column", "user_id"}, {"name", "hash"}}}}};
  nlohmann::json third =
      CtlJson({"ApplyVSchema", "app", "--file", WriteFile("next.json", next.dump())});
  EXPECT_EQ(third["changes"],
            nlohmann::json::array(
                {"removed table countries (table_id 1)",
                 "added table orders (SHARDED, table_id 3, column_vindexes user_id:hash)"}));
  EXPECT_EQ(CtlJson({"GetVSchema", "app"})["tables"]["orders"]["table_id"], "3");
}

// The record-mismatch remedy tablet startup names: DeleteTablet removes the
// record and the ShardReplication entry, and refuses the shard's primary
// unless --allow-primary.
TEST_F(CtlCliTest, DeleteTabletRefusesThePrimaryUnlessAllowPrimary) {
  BuildCluster();
  {
    // Records as two started tablets leave them (no tablet process is needed here).
    auto conn = topo::OpenConn(topo(), topo::ConnOptions{});
    ASSERT_TRUE(conn.ok()) << conn.status();
    topo::Server ts(*std::move(conn));
    for (uint32_t uid : {100u, 101u}) {
      topodata::Tablet t;
      *t.mutable_alias() = topo::TabletAlias{"zone1", uid}.ToProto();
      t.set_keyspace("app");
      t.set_shard("-80");
      t.set_type(uid == 100 ? topodata::PRIMARY : topodata::REPLICA);
      ASSERT_TRUE(ts.CreateTablet(t).ok());
      ASSERT_TRUE(ts.UpdateShardReplication("zone1", "app", "-80", {"zone1", uid}, false).ok());
    }
    ASSERT_TRUE(ts.UpdateShardFields("app", "-80", [](topodata::Shard& s) {
                    *s.mutable_primary_alias() = topo::TabletAlias{"zone1", 100}.ToProto();
                    s.set_primary_term(1);
                    return absl::OkStatus();
                  }).ok());
  }
  auto listed = [&] {
    std::vector<std::string> out;
    const nlohmann::json repl = CtlJson({"GetShardReplication", "zone1", "app/-80"});
    for (const auto& n : repl.value("nodes", nlohmann::json::array())) {
      out.push_back(absl::StrCat(n["tablet_alias"]["cell"].get<std::string>(), "-",
                                 n["tablet_alias"]["uid"].get<int>()));
    }
    return out;
  };
  ASSERT_EQ(listed(), (std::vector<std::string>{"zone1-100", "zone1-101"}));

  EXPECT_EQ(CtlJson({"DeleteTablet", "zone1-101"}),
            (nlohmann::json{{"deleted", "zone1-101"},
                            {"keyspace", "app"},
                            {"shard", "-80"},
                            {"removed_from_shard_replication", true},
                            {"cleared_shard_primary", false}}));
  EXPECT_THAT(Ctl({"GetTablet", "zone1-101"}).err, HasSubstr("tablet zone1-101 not found"));
  EXPECT_EQ(listed(), std::vector<std::string>{"zone1-100"});

  const auto before = Snapshot();
  CliResult refused = Ctl({"DeleteTablet", "zone1-100"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.out, "");
  EXPECT_EQ(refused.err,
            "error: tablet zone1-100 is the primary of shard app/-80 (term 1); move the primary "
            "first (shale ctl PlannedReparentShard app/-80), or pass --allow-primary to delete it "
            "anyway\n");
  EXPECT_EQ(Snapshot(), before);

  nlohmann::json deleted = CtlJson({"DeleteTablet", "zone1-100", "--allow-primary"});
  EXPECT_EQ(deleted["cleared_shard_primary"], true);
  EXPECT_EQ(deleted["removed_from_shard_replication"], true);
  EXPECT_EQ(CtlJson({"ListTablets"}), nlohmann::json::array());
  EXPECT_EQ(listed(), std::vector<std::string>{});
  nlohmann::json shard = CtlJson({"GetShard", "app/-80"});
  EXPECT_FALSE(shard.contains("primary_alias")) << shard.dump();
  EXPECT_EQ(shard["primary_term"], "1");
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
                          "SetRoutingPolicy", "ListTablets", "DeleteTablet", "GetVSchema",
                          "ApplyVSchema"}) {
    EXPECT_THAT(r->out, HasSubstr(cmd));
  }
  r = RunShale({"ctl", "DeleteTablet", "--help"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  for (const char* text : {"CELL-UID", "--allow-primary", "Stop the tablet process first"}) {
    EXPECT_THAT(r->out, HasSubstr(text));
  }
  r = RunShale({"ctl", "ApplyVSchema", "--help"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  for (const char* text : {"--dry-run", "--file", "Table ids are allocated by ctld"}) {
    EXPECT_THAT(r->out, HasSubstr(text));
  }
}

}  // namespace
}  // namespace shale::e2e
