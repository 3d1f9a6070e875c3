// LeaderElection against the memory and the sqlite topology backends: of two
// elections one leads and publishes the leader record; stopping the leader
// hands over to the other with the next term; a lost lock calls the lost
// hook at once and the election stands by (and here, wins again).

#include "ctld/leader_election.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/metrics/registry.h"
#include "base/wait_for.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "topo/memory/memory_server.h"
#include "topo/open/open.h"
#include "topo/paths.h"
#include "topo/server.h"

namespace shale::ctld {
namespace {

using ::testing::HasSubstr;

// One store shared by the elections of a test: memory, or a sqlite file in
// a temp dir (removed by the destructor) with a short lock lease.
class Store {
 public:
  virtual ~Store() = default;
  virtual std::unique_ptr<topo::Server> NewServer() = 0;
};

class MemoryStore : public Store {
 public:
  std::unique_ptr<topo::Server> NewServer() override {
    return std::make_unique<topo::Server>(server_.NewConn());
  }

 private:
  topo::MemoryServer server_;
};

class SqliteStore : public Store {
 public:
  SqliteStore() {
    dir_ = absl::StrCat(::testing::TempDir(), "/leader_election_", getpid(), "_", ++count_);
    std::filesystem::create_directories(dir_);
  }
  ~SqliteStore() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<topo::Server> NewServer() override {
    topo::ConnOptions o;
    o.lock_ttl = absl::Seconds(1);
    auto conn = topo::OpenConn(absl::StrCat("sqlite:", dir_, "/topo.db"), o);
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? std::make_unique<topo::Server>(*std::move(conn), nullptr, o.lock_ttl)
                     : nullptr;
  }

 private:
  static inline int count_ = 0;
  std::string dir_;
};

// What the hooks of one election saw, in order: "gained 1", "lost ...".
class Hooks {
 public:
  void Add(std::string event) {
    absl::MutexLock l(&mu_);
    events_.push_back(std::move(event));
  }
  std::vector<std::string> events() const {
    absl::MutexLock l(&mu_);
    return events_;
  }
  LeaderElection* election = nullptr;  // set before it starts

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

class LeaderElectionTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "memory") {
      store_ = std::make_unique<MemoryStore>();
    } else {
      store_ = std::make_unique<SqliteStore>();
    }
  }

  // An election named holder on a topology server of its own. Its hooks
  // record what happened and whether IsLeader() already said so.
  std::unique_ptr<LeaderElection> Election(const std::string& holder, Hooks* hooks,
                                           metrics::MetricsRegistry* metrics = nullptr) {
    servers_.push_back(store_->NewServer());
    LeaderElectionOptions o;
    o.holder = holder;
    o.grpc_address = holder + "-grpc:1";
    o.http_address = holder + "-http:2";
    o.lock_attempt = absl::Milliseconds(200);
    o.check_interval = absl::Milliseconds(50);
    o.retry_pause = absl::Milliseconds(50);
    o.metrics = metrics;
    o.on_gained = [hooks, holder](const LeaderInfo& info) {
      hooks->Add(absl::StrCat("gained ", info.term, info.holder == holder ? "" : " WRONG HOLDER",
                              hooks->election->IsLeader() ? "" : " NOT LEADER"));
    };
    o.on_lost = [hooks](const absl::Status& why) {
      hooks->Add(absl::StrCat("lost ", hooks->election->IsLeader() ? "STILL LEADER " : "",
                              why.ToString()));
    };
    auto e = std::make_unique<LeaderElection>(servers_.back().get(), o);
    hooks->election = e.get();
    EXPECT_TRUE(e->Start().ok());
    return e;
  }

  topo::Server& ts() {
    if (reader_ == nullptr) reader_ = store_->NewServer();
    return *reader_;
  }

  std::unique_ptr<Store> store_;
  std::vector<std::unique_ptr<topo::Server>> servers_;
  std::unique_ptr<topo::Server> reader_;
};

TEST_P(LeaderElectionTest, OneOfTwoLeadsAndPublishesItself) {
  Hooks ha, hb;
  metrics::MetricsRegistry ra, rb;
  auto a = Election("a", &ha, &ra);
  auto b = Election("b", &hb, &rb);
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return a->IsLeader() || b->IsLeader(); }));
  LeaderElection* leader = a->IsLeader() ? a.get() : b.get();
  LeaderElection* standby = a->IsLeader() ? b.get() : a.get();
  // The standby keeps trying and keeps failing while the leader leads.
  const int64_t attempts = standby->StatusJson()["attempts"].get<int64_t>();
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] {
    return standby->StatusJson()["attempts"].get<int64_t>() >= attempts + 3;
  }));
  EXPECT_TRUE(leader->IsLeader());
  EXPECT_FALSE(standby->IsLeader());
  EXPECT_EQ(leader->term(), 1);
  EXPECT_EQ(standby->term(), 0);

  // Both read the same record: the leader's addresses and term 1.
  for (LeaderElection* e : {a.get(), b.get()}) {
    absl::StatusOr<LeaderInfo> info = e->CurrentLeader();
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->holder, leader->holder());
    EXPECT_EQ(info->grpc_address, leader->holder() + "-grpc:1");
    EXPECT_EQ(info->http_address, leader->holder() + "-http:2");
    EXPECT_EQ(info->term, 1);
    EXPECT_LE(absl::Now() - info->elected_at, absl::Seconds(30));
  }
  auto record = ts().GetCtldLeader();
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->record.holder(), leader->holder());
  metrics::MetricsRegistry& leader_metrics = leader == a.get() ? ra : rb;
  metrics::MetricsRegistry& standby_metrics = leader == a.get() ? rb : ra;
  EXPECT_THAT(leader_metrics.RenderPrometheus(), HasSubstr("shale_ctld_is_leader 1"));
  EXPECT_THAT(leader_metrics.RenderPrometheus(),
              HasSubstr("shale_ctld_leadership_changes_total{change=\"gained\"} 1"));
  EXPECT_THAT(standby_metrics.RenderPrometheus(), HasSubstr("shale_ctld_is_leader 0"));
  EXPECT_THAT(leader->StatusHtml(), HasSubstr("the leader, term 1"));
  EXPECT_THAT(standby->StatusHtml(), HasSubstr("standing by"));
}

TEST_P(LeaderElectionTest, StoppingTheLeaderHandsOverWithTheNextTerm) {
  Hooks ha, hb;
  auto a = Election("a", &ha);
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return a->IsLeader(); }));
  auto b = Election("b", &hb);
  const absl::Time stopped = absl::Now();
  a->Stop();
  EXPECT_FALSE(a->IsLeader());
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return b->IsLeader(); }));
  EXPECT_LT(absl::Now() - stopped, absl::Seconds(5));
  EXPECT_EQ(b->term(), 2);
  EXPECT_THAT(ha.events(), ::testing::ElementsAre("gained 1", HasSubstr("lost CANCELLED")));
  EXPECT_THAT(hb.events(), ::testing::ElementsAre("gained 2"));
  absl::StatusOr<LeaderInfo> info = b->CurrentLeader();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->holder, "b");
  EXPECT_EQ(info->term, 2);

  // The last leader steps down: nobody leads, and the record says so.
  b->Stop();
  info = b->CurrentLeader();
  EXPECT_TRUE(absl::IsNotFound(info.status())) << info.status();
  EXPECT_THAT(std::string(info.status().message()), HasSubstr("b (term 2), stepped down"));
}

TEST_P(LeaderElectionTest, ALostLockCallsTheLostHookAndTheElectionGoesOn) {
  Hooks ha;
  auto a = Election("a", &ha);
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return a->IsLeader(); }));
  // The lock node disappears (as when its lease ran out and another took and
  // released it): Check() fails, the leader stops at once.
  auto locks = ts().global().ListDir(topo::paths::CtldDir() + "/locks");
  ASSERT_TRUE(locks.ok()) << locks.status();
  for (const topo::DirEntry& e : *locks) {
    if (!e.has_value) continue;
    ASSERT_TRUE(ts().global().Delete(topo::paths::CtldDir() + "/locks/" + e.name, std::nullopt).ok());
  }
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return ha.events().size() >= 2; }));
  EXPECT_THAT(ha.events()[1], HasSubstr("lost ABORTED"));
  // It stood by, took the free lock again, and leads in a new term.
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return ha.events().size() >= 3; }));
  EXPECT_EQ(ha.events()[2], "gained 2");
  EXPECT_TRUE(a->IsLeader());
  EXPECT_EQ(a->changes(), 3);
  EXPECT_THAT(a->StatusJson()["last_loss"].get<std::string>(), HasSubstr("ABORTED"));
}

INSTANTIATE_TEST_SUITE_P(Backends, LeaderElectionTest, ::testing::Values("memory", "sqlite"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace shale::ctld
