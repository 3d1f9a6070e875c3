#include "changes/shard_stream.h"

#include <thread>

#include "base/wait_for.h"
#include "changes/fake_changes_tablet.h"
#include "changes/keyspace_position.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "topo/memory/memory_server.h"

namespace shale::changes {
namespace {

using ::testing::HasSubstr;

// A ShardStream of app/0 on its own thread, collecting what it delivers.
class Collector {
 public:
  Collector(topo::Server* ts, tablet::ChangePosition from, ShardStreamOptions o = {}) {
    o.keyspace = "app";
    o.shard = "0";
    o.heartbeat_ms = 100;
    o.backoff_initial = absl::Milliseconds(5);
    o.backoff_max = absl::Milliseconds(50);
    stream_ = std::make_unique<ShardStream>(ts, o, from, [this](auto events) {
      absl::MutexLock lock(&mu_);
      for (auto& e : events) events_.push_back(std::move(e));
      return true;
    });
    thread_ = std::thread([this] {
      absl::Status s = stream_->Run();
      absl::MutexLock lock(&mu_);
      result_ = s;
      done_ = true;
    });
  }
  ~Collector() {
    stream_->Cancel();
    thread_.join();
  }
  // The row events (no heartbeats) received so far.
  std::vector<tablet::ChangeEvent> Rows() {
    absl::MutexLock lock(&mu_);
    std::vector<tablet::ChangeEvent> out;
    for (const auto& e : events_) {
      if (e.op() != tablet::HEARTBEAT_EVENT) out.push_back(e);
    }
    return out;
  }
  bool WaitRows(size_t n) {
    return WaitFor(absl::Seconds(10), [&] { return Rows().size() >= n; });
  }
  std::optional<absl::Status> Result() {
    absl::MutexLock lock(&mu_);
    if (!done_) return std::nullopt;
    return result_;
  }
  ShardStream& stream() { return *stream_; }

 private:
  std::unique_ptr<ShardStream> stream_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<tablet::ChangeEvent> events_ ABSL_GUARDED_BY(mu_);
  absl::Status result_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

// Each id once, in increasing order.
void ExpectIds(const std::vector<tablet::ChangeEvent>& rows, int64_t first, int64_t last) {
  ASSERT_EQ(rows.size(), static_cast<size_t>(last - first + 1));
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].pk(0).value().int64(), first + static_cast<int64_t>(i));
  }
}

class ShardStreamTest : public ::testing::Test {
 protected:
  ShardStreamTest() : ts_(topo::MemoryServer::NewStandaloneConn({})) {}
  void SetUp() override {
    ASSERT_TRUE(ts_.AddCellInfo("zone1", {}).ok());
    ASSERT_TRUE(ts_.CreateKeyspace("app", {}).ok());
    ASSERT_TRUE(ts_.CreateShard("app", "0").ok());
  }
  topo::Server ts_;
  FakeShardLog log_;
};

TEST_F(ShardStreamTest, ReconnectsAfterAnEndAndNeverDeliversTwice) {
  FakeChangesTablet a(&log_, {"zone1", 100});
  a.Register(ts_, "app", "0", topodata::PRIMARY);
  log_.AppendInserts("t", 1, 3);
  Collector c(&ts_, tablet::ChangePosition());
  ASSERT_TRUE(c.WaitRows(3));
  a.ResendEverything(true);  // the next stream starts at the log's beginning
  a.EndStreams();
  log_.AppendInserts("t", 4, 2);
  ASSERT_TRUE(c.WaitRows(5));
  ASSERT_TRUE(WaitFor(absl::Seconds(5), [&] { return a.subscribes() >= 2; }));
  log_.AppendInserts("t", 6, 1);
  ASSERT_TRUE(c.WaitRows(6));
  ExpectIds(c.Rows(), 1, 6);
  EXPECT_GE(c.stream().connects(), 2);
  EXPECT_EQ(FormatChangePosition(c.stream().position()).substr(0, 2), "3.");
}

TEST_F(ShardStreamTest, ResumesFromTheLastDeliveredPositionOnANewPrimary) {
  FakeChangesTablet a(&log_, {"zone1", 100});
  FakeChangesTablet b(&log_, {"zone1", 101});
  a.Register(ts_, "app", "0", topodata::PRIMARY);
  b.Register(ts_, "app", "0", topodata::REPLICA);
  log_.AppendInserts("t", 1, 2);
  Collector c(&ts_, tablet::ChangePosition());
  ASSERT_TRUE(c.WaitRows(2));
  // A failover: a is gone (refuses), the Shard record names b.
  a.Refuse(absl::UnavailableError("tablet is shutting down"));
  a.EndStreams();
  log_.AppendInserts("t", 3, 2, /*term=*/2);
  b.Register(ts_, "app", "0", topodata::PRIMARY);
  ASSERT_TRUE(c.WaitRows(4));
  ExpectIds(c.Rows(), 1, 4);
  EXPECT_GE(b.subscribes(), 1);
  EXPECT_EQ(b.last_from().seq(), 1);  // from the last delivered entry, not from now
}

TEST_F(ShardStreamTest, AMovedToNoticeSendsTheNextConnectToTheNamedTablet) {
  FakeChangesTablet a(&log_, {"zone1", 100});
  FakeChangesTablet b(&log_, {"zone1", 101});
  a.Register(ts_, "app", "0", topodata::PRIMARY);
  b.Register(ts_, "app", "0", topodata::REPLICA);  // the Shard record keeps naming a
  log_.AppendInserts("t", 1, 1);
  Collector c(&ts_, tablet::ChangePosition());
  ASSERT_TRUE(c.WaitRows(1));
  a.MoveTo(b.alias());
  log_.AppendInserts("t", 2, 1);  // relayed by a
  ASSERT_TRUE(c.WaitRows(2));
  a.EndStreams();
  ASSERT_TRUE(WaitFor(absl::Seconds(5), [&] { return b.subscribes() >= 1; }));
  log_.AppendInserts("t", 3, 1);
  ASSERT_TRUE(c.WaitRows(3));
  ExpectIds(c.Rows(), 1, 3);
}

TEST_F(ShardStreamTest, APositionRefusedOnEveryAttemptEndsTheStreamNamingIt) {
  FakeChangesTablet a(&log_, {"zone1", 100});
  a.Register(ts_, "app", "0", topodata::PRIMARY);
  a.Refuse(absl::OutOfRangeError("position 5 was purged (oldest 40)"));
  tablet::ChangePosition from;
  from.set_seq(5);
  from.set_term(1);
  Collector c(&ts_, from);
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return c.Result().has_value(); }));
  absl::Status s = *c.Result();
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(s.message(), HasSubstr("position 5.1.0 refused by 3 attempts"));
  EXPECT_THAT(s.message(), HasSubstr("purged"));
}

TEST_F(ShardStreamTest, AnUnreachablePrimaryIsRetriedUntilItAnswers) {
  log_.AppendInserts("t", 1, 1);
  Collector c(&ts_, tablet::ChangePosition());  // no primary yet
  ASSERT_TRUE(WaitFor(absl::Seconds(5), [&] { return !c.Result().has_value(); }));
  FakeChangesTablet a(&log_, {"zone1", 100});
  a.Register(ts_, "app", "0", topodata::PRIMARY);
  ASSERT_TRUE(c.WaitRows(1));
}

TEST_F(ShardStreamTest, AGoneKeyspaceEndsTheStream) {
  ASSERT_TRUE(ts_.DeleteKeyspace("app", true).ok());
  Collector c(&ts_, tablet::ChangePosition());
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return c.Result().has_value(); }));
  EXPECT_EQ(c.Result()->code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(c.Result()->message(), HasSubstr("keyspace app is gone"));
}

}  // namespace
}  // namespace shale::changes
