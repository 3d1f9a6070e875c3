#pragma once

// A fixture for end-to-end tests of `shale tablet`: a sqlite topology in a
// temp dir with cell zone1 registered, real tablet processes (Subprocess,
// killed on destruction), `shale ctl` runs, and waits on conditions with
// deadlines. Confined to the test thread.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/subprocess.h"
#include "base/wait_for.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tablet/client/tablet_client.h"
#include "tests/e2e/shale_cli.h"
#include "topo/open/open.h"
#include "topo/server.h"

namespace shale::e2e {

class TabletE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CliResult r = Ctl({"AddCellInfo", "zone1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    topo::ConnOptions options;
    options.create_if_missing = false;
    auto conn = topo::OpenConn(topo(), options);
    ASSERT_TRUE(conn.ok()) << conn.status();
    ts_ = std::make_unique<topo::Server>(*std::move(conn));
  }

  // The topology address every process and `shale ctl` use: a sqlite file in
  // the temp dir (a fixture may use another backend: tests/chaos uses etcd).
  virtual std::string topo() const { return absl::StrCat("sqlite:", dir_.path(), "/topo.db"); }
  // A command prefix for the process `name` (a tablet alias, "gate", "ctld")
  // started by this fixture, e.g. a shell that redirects its stderr; none by
  // default (the process inherits the test's stderr).
  virtual std::vector<std::string> LaunchPrefix(const std::string& name) const {
    (void)name;
    return {};
  }
  std::string data_dir(const std::string& alias) const {
    return absl::StrCat(dir_.path(), "/", alias);
  }

  // The flags of a tablet process (alias, topology, data dir, free port,
  // fast health), plus extra.
  std::vector<std::string> TabletArgs(const std::string& alias,
                                      const std::vector<std::string>& extra) const {
    std::vector<std::string> args = {FindBinary("shale"), "tablet", "--topo", topo(), "--alias",
                                     alias, "--data-dir", data_dir(alias), "--grpc-port", "0",
                                     "--health-interval", "0.2"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  // Starts a tablet and waits until it answers Ping through its record.
  Subprocess* StartTablet(const std::string& alias, const std::vector<std::string>& extra) {
    auto p = std::make_unique<Subprocess>();
    std::vector<std::string> argv = LaunchPrefix(alias);
    for (std::string& arg : TabletArgs(alias, extra)) argv.push_back(std::move(arg));
    absl::Status s = p->Start(argv);
    EXPECT_TRUE(s.ok()) << s;
    Subprocess* raw = p.get();
    tablets_[alias] = std::move(p);
    EXPECT_TRUE(WaitServing(alias)) << "tablet " << alias << " did not come up";
    return raw;
  }

  // Sends SIGTERM and returns the exit code.
  int StopTablet(const std::string& alias) {
    Subprocess& p = *tablets_.at(alias);
    EXPECT_TRUE(p.Kill(SIGTERM).ok());
    absl::StatusOr<int> code = p.WaitFor(absl::Seconds(20));
    EXPECT_TRUE(code.ok()) << code.status();
    return code.ok() ? *code : -1;
  }

  // A client for the tablet, found through its record.
  std::unique_ptr<tablet::TabletClient> Client(const std::string& alias) {
    auto a = topo::TabletAlias::Parse(alias);
    auto c = tablet::TabletClient::ForTablet(*ts_, *a);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  // Waits until the tablet's record leads to a process that answers Ping
  // with this alias.
  bool WaitServing(const std::string& alias, absl::Duration timeout = absl::Seconds(30)) {
    return WaitFor(timeout, [&] {
      auto a = topo::TabletAlias::Parse(alias);
      auto c = tablet::TabletClient::ForTablet(*ts_, *a);
      if (!c.ok()) return false;
      auto r = (*c)->Call((*c)->manager(), &tablet::TabletManager::Stub::Ping,
                          tablet::PingRequest(), absl::Seconds(1));
      return r.ok() && r->alias().uid() == a->uid;
    });
  }

  // Retries cond until it holds or timeout passes (base/wait_for.h).
  template <typename Cond>
  static bool WaitFor(absl::Duration timeout, Cond cond) {
    return shale::WaitFor(timeout, std::move(cond));
  }

  CliResult Ctl(std::vector<std::string> args) { return RunCtl(topo(), std::move(args)); }
  nlohmann::json CtlJson(std::vector<std::string> args) {
    return RunCtlJson(topo(), std::move(args));
  }

  static tablet::Target MakeTarget(const std::string& ks, const std::string& shard,
                                   topodata::TabletType type) {
    tablet::Target t;
    t.set_keyspace(ks);
    t.set_shard(shard);
    t.set_tablet_type(type);
    return t;
  }

  // Declared first so it is destroyed last, after the processes using it.
  TempDir dir_;
  std::unique_ptr<topo::Server> ts_;
  std::map<std::string, std::unique_ptr<Subprocess>> tablets_;
};

}  // namespace shale::e2e
