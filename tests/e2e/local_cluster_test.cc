// `shale local up|status|down` end to end: a real local cluster in a temp
// dir on a free port range, psql through its gateway, a stop and a restart
// that keeps the data, and no process left behind.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "local/cluster_plan.h"
#include "local/process_control.h"
#include "local/process_state.h"
#include "tests/e2e/shale_cli.h"

namespace shale::e2e {
namespace {

using ::testing::HasSubstr;

// A --base-port whose whole plan is free right now: one of 24 ranges of 500
// ports from 20000, below the kernel's ephemeral range (32768-) so that
// outgoing connections (and the other tests' port-0 servers) do not take it.
int FreeBasePort(const std::string& data_dir) {
  for (int attempt = 0; attempt < 24; ++attempt) {
    local::LocalOptions o;
    o.data_dir = data_dir;
    o.base_port = 20000 + 500 * ((getpid() + attempt) % 24);
    absl::StatusOr<local::ClusterPlan> plan = local::MakePlan(o);
    if (!plan.ok()) continue;
    bool free = true;
    for (const local::PlannedProcess& p : plan->processes) {
      for (const auto& [name, port] : p.ports) free = free && local::CheckPortFree(port).ok();
    }
    if (free) return o.base_port;
  }
  return 0;
}

class LocalClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_port_ = FreeBasePort(dir());
    ASSERT_GT(base_port_, 0) << "no free port range";
  }
  // Stops whatever the test started, even after a failure.
  void TearDown() override {
    for (const std::string& sub : started_) {
      sub_dir_ = sub;
      CliResult r = Local({"down"});
      EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
      EXPECT_EQ(AliveProcesses(), 0);
    }
  }

  std::string dir() const { return data_.path() + "/" + sub_dir_; }
  int pg_port() const { return base_port_ + local::kPgPortOffset; }

  CliResult Local(std::vector<std::string> args) {
    args.insert(args.begin(), "local");
    args.insert(args.begin() + 2, {"--data-dir", dir()});
    absl::StatusOr<CliResult> r = RunShale(args);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : CliResult{};
  }

  CliResult Up(std::vector<std::string> extra = {}) {
    started_.insert(sub_dir_);
    std::vector<std::string> args = {"up", "--base-port", absl::StrCat(base_port_)};
    args.insert(args.end(), extra.begin(), extra.end());
    return Local(args);
  }

  // Recorded processes still running.
  int AliveProcesses() {
    absl::StatusOr<local::LocalState> state = local::ReadState(dir());
    if (!state.ok()) return 0;
    int n = 0;
    for (const local::ProcessRecord& p : state->processes) {
      if (local::IsAlive(p.pid, p.argv)) ++n;
    }
    return n;
  }

  // psql -c sql against the cluster's gateway; output without the trailing newline.
  std::string Psql(const std::string& sql) {
    absl::StatusOr<CliResult> r =
        RunProgram({"psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                    "-p", absl::StrCat(pg_port()), "-U", "shale", "-d", "app", "-c", sql});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    EXPECT_EQ(r->exit_code, 0) << sql << ": " << r->err;
    return std::string(absl::StripSuffix(r->out, "\n"));
  }

  TempDir data_;
  std::string sub_dir_ = "cluster";  // the cluster's --data-dir under data_
  int base_port_ = 0;
  std::set<std::string> started_;  // the sub dirs `up` ran in
};

TEST_F(LocalClusterTest, UpStatusDownUpKeepsData) {
  CliResult up = Up();
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  EXPECT_THAT(up.out,
              HasSubstr(absl::StrCat("psql -h 127.0.0.1 -p ", pg_port(), " -U shale -d app")));
  EXPECT_THAT(up.out, HasSubstr(absl::StrCat("shale ctl --topo sqlite:", dir(), "/topo.db")));
  EXPECT_THAT(up.out, HasSubstr(absl::StrCat("http://127.0.0.1:", base_port_, "/")));
  EXPECT_EQ(AliveProcesses(), 8);  // ctld, 6 tablets, gate

  Psql("CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)");
  Psql("INSERT INTO kv (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (40, 'd'), (500, 'e')");
  EXPECT_EQ(Psql("SELECT count(*) FROM kv"), "5");
  EXPECT_EQ(Psql("SELECT v FROM kv WHERE id = 40"), "d");

  CliResult status = Local({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_THAT(status.out, HasSubstr("PRIMARY serving"));
  EXPECT_THAT(status.out, HasSubstr("leader"));
  EXPECT_THAT(status.out, HasSubstr("serves 6 of 6 tablets"));

  CliResult again = Up();
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("already running"));

  CliResult down = Local({"down"});
  ASSERT_EQ(down.exit_code, 0) << down.out << down.err;
  EXPECT_THAT(down.out, HasSubstr("stopped gate"));
  EXPECT_EQ(AliveProcesses(), 0);
  CliResult stopped = Local({"status"});
  EXPECT_EQ(stopped.exit_code, 1) << stopped.out;
  CliResult down_again = Local({"down"});
  EXPECT_EQ(down_again.exit_code, 0) << down_again.err;
  EXPECT_THAT(down_again.out, HasSubstr("not running"));

  CliResult restart = Up();
  ASSERT_EQ(restart.exit_code, 0) << restart.out << restart.err;
  EXPECT_THAT(restart.out, ::testing::Not(HasSubstr("created keyspace")));
  EXPECT_EQ(Psql("SELECT count(*) FROM kv"), "5");
  Psql("INSERT INTO kv (id, v) VALUES (6, 'f')");
  EXPECT_EQ(Psql("SELECT count(*) FROM kv"), "6");
  EXPECT_EQ(Local({"status"}).exit_code, 0);
}

// With --topo etcd or zk, up starts the server itself (its data under DIR)
// and down stops it last.
TEST_F(LocalClusterTest, StartsAndStopsItsOwnEtcdAndZooKeeper) {
  for (const char* topo : {"etcd", "zk"}) {
    SCOPED_TRACE(topo);
    sub_dir_ = topo;
    CliResult up = Up({"--topo", topo, "--shards", "1", "--replicas", "1"});
    ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
    EXPECT_THAT(up.out, HasSubstr(absl::StrCat(topo, "://127.0.0.1:", base_port_ + 2, "/shale")));
    EXPECT_EQ(AliveProcesses(), 5);  // the server, ctld, 2 tablets, gate
    Psql("CREATE TABLE t (id INTEGER PRIMARY KEY)");
    Psql("INSERT INTO t (id) VALUES (1), (2)");
    EXPECT_EQ(Psql("SELECT count(*) FROM t"), "2");
    CliResult status = Local({"status"});
    EXPECT_EQ(status.exit_code, 0) << status.out;
    EXPECT_THAT(status.out, HasSubstr(topo == std::string("etcd") ? "etcd " : "zookeeper "));
    CliResult down = Local({"down"});
    EXPECT_EQ(down.exit_code, 0) << down.out << down.err;
    EXPECT_EQ(AliveProcesses(), 0);
  }
}

TEST_F(LocalClusterTest, RefusesBadFlagsAndBusyPorts) {
  absl::StatusOr<CliResult> bad = RunShale({"local", "up", "--data-dir", dir(), "--shards", "0"});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->exit_code, 2);
  EXPECT_THAT(bad->err, HasSubstr("--shards"));
  absl::StatusOr<CliResult> missing = RunShale({"local", "status"});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->exit_code, 2);
  EXPECT_THAT(missing->err, HasSubstr("--data-dir"));
  CliResult none = Local({"status"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_THAT(none.err, HasSubstr("no cluster in"));

  // Something else listens on the gateway's port: nothing starts.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(pg_port()));
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  CliResult busy = Up();
  close(fd);
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_THAT(busy.err, HasSubstr(absl::StrCat("port ", pg_port(), " (gate pg) is in use")));
  EXPECT_THAT(busy.err, HasSubstr("--base-port"));
  EXPECT_EQ(AliveProcesses(), 0);
}

}  // namespace
}  // namespace shale::e2e
