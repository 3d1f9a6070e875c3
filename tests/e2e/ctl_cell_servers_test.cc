// Per-cell topology servers: the global records live on etcd, cell zone1 on
// the global server, and cell zone2 on its own ZooKeeper server as its
// CellInfo names it. `shale ctl` must work across both, with real servers.

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/shale_cli.h"
#include "topo/etcd/etcd_test_server.h"
#include "topo/open/open.h"
#include "topo/zk/zk_test_server.h"

namespace shale::e2e {
namespace {

using ::testing::HasSubstr;

class CellServersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto etcd = topo::EtcdTestServer::Start();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = etcd->release();
    auto zk = topo::ZkTestServer::Start();
    ASSERT_TRUE(zk.ok()) << zk.status();
    zk_ = zk->release();
  }
  static void TearDownTestSuite() {
    delete etcd_;
    delete zk_;
  }

  CliResult Ctl(std::vector<std::string> args) {
    return RunCtl(etcd_->Address("/shale"), std::move(args));
  }
  nlohmann::json CtlJson(std::vector<std::string> args) {
    return RunCtlJson(etcd_->Address("/shale"), std::move(args));
  }

  static topo::EtcdTestServer* etcd_;
  static topo::ZkTestServer* zk_;
};

topo::EtcdTestServer* CellServersTest::etcd_ = nullptr;
topo::ZkTestServer* CellServersTest::zk_ = nullptr;

TEST_F(CellServersTest, GlobalOnEtcdAndACellOnZooKeeper) {
  const std::string zk_address = zk_->Address("/cells");
  CtlJson({"AddCellInfo", "zone1", "--region", "us"});
  CtlJson({"AddCellInfo", "zone2", "--server", zk_address, "--root", "/zone2", "--region", "eu"});
  CtlJson({"CreateKeyspace", "app", "--sharding-column", "id"});
  CtlJson({"CreateShard", "app/-80"});
  CtlJson({"CreateShard", "app/80-"});
  nlohmann::json rebuilt = CtlJson({"RebuildKeyspaceGraph", "app"});
  EXPECT_TRUE(rebuilt.contains("zone1") && rebuilt.contains("zone2")) << rebuilt.dump();

  // Each graph sits on its cell's server, and only there.
  auto etcd = topo::OpenConn(etcd_->Address("/shale"));
  auto zk = topo::OpenConn(zk_address);
  ASSERT_TRUE(etcd.ok() && zk.ok());
  EXPECT_TRUE((*etcd)->Get("/global/keyspaces/app/Keyspace").ok());
  EXPECT_TRUE((*etcd)->Get("/zone1/keyspaces/app/SrvKeyspace").ok());
  EXPECT_TRUE(absl::IsNotFound((*etcd)->Get("/zone2/keyspaces/app/SrvKeyspace").status()));
  EXPECT_TRUE((*zk)->Get("/zone2/keyspaces/app/SrvKeyspace").ok());
  EXPECT_TRUE(absl::IsNotFound((*zk)->Get("/global/keyspaces/app/Keyspace").status()));

  nlohmann::json srv = CtlJson({"GetSrvKeyspace", "zone2", "app"});
  ASSERT_EQ(srv["partitions"].size(), 3u);
  EXPECT_EQ(srv["partitions"][0]["shard_references"][1]["name"], "80-");
  nlohmann::json ls = CtlJson({"TopoLs", "--cell", "zone2", "/zone2/keyspaces"});
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0]["name"], "app");

  // Deleting the keyspace reaches into both servers.
  EXPECT_EQ(Ctl({"DeleteKeyspace", "app", "--recursive"}).exit_code, 0);
  EXPECT_TRUE(absl::IsNotFound((*zk)->Get("/zone2/keyspaces/app/SrvKeyspace").status()));
  EXPECT_TRUE(absl::IsNotFound((*etcd)->Get("/zone1/keyspaces/app/SrvKeyspace").status()));
}

TEST_F(CellServersTest, UnreachableCellServerIsAClearErrorAndWritesNothingThere) {
  auto free_port = topo::ZkTestServer::FreePort();
  ASSERT_TRUE(free_port.ok());
  const std::string dead = absl::StrCat("zk://127.0.0.1:", *free_port, "/dead");
  CtlJson({"AddCellInfo", "zone9", "--server", dead});
  CliResult r = Ctl({"GetSrvKeyspace", "zone9", "app"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("cell zone9"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  CtlJson({"DeleteCellInfo", "zone9"});
}

}  // namespace
}  // namespace shale::e2e
