#include "changes/subscription.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "changes/fake_changes_tablet.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "topo/memory/memory_server.h"

namespace shale::changes {
namespace {

using ::testing::HasSubstr;

class SubscriptionTest : public ::testing::Test {
 protected:
  SubscriptionTest() : ts_(topo::MemoryServer::NewStandaloneConn({})) {}
  void SetUp() override {
    ASSERT_TRUE(ts_.AddCellInfo("zone1", {}).ok());
    ASSERT_TRUE(ts_.CreateKeyspace("app", {}).ok());
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(ts_.CreateShard("app", kShards[i]).ok());
      tablets_.push_back(std::make_unique<FakeChangesTablet>(
          &logs_[i], topo::TabletAlias{"zone1", static_cast<uint32_t>(100 * (i + 1))}));
      tablets_.back()->Register(ts_, "app", kShards[i], topodata::PRIMARY);
    }
  }
  SubscriptionOptions Options(const std::string& from = "now") {
    SubscriptionOptions o;
    o.keyspace = "app";
    o.from = from;
    o.heartbeat_ms = 100;
    o.start_timeout = absl::Seconds(5);
    return o;
  }
  // Row events (no heartbeats) until n arrived or an error.
  absl::StatusOr<std::vector<MergedEvent>> Rows(Subscription& s, size_t n) {
    std::vector<MergedEvent> out;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (out.size() < n && absl::Now() < deadline) {
      auto got = s.Next(100, absl::Milliseconds(100));
      if (!got.ok()) return got.status();
      for (auto& e : *got) {
        if (e.event.op() != tablet::HEARTBEAT_EVENT) out.push_back(std::move(e));
      }
    }
    return out;
  }

  static constexpr const char* kShards[] = {"-80", "80-"};
  topo::Server ts_;
  FakeShardLog logs_[2];
  std::vector<std::unique_ptr<FakeChangesTablet>> tablets_;
};

TEST_F(SubscriptionTest, FromNowMergesEveryShardWithResumablePositions) {
  logs_[0].AppendInserts("t", 1, 1);  // before the subscription: not delivered
  auto sub = Subscription::Start(&ts_, Options());
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ((*sub)->start_position(), "-80:1.1.0,80-:0.1.0");
  logs_[0].AppendInserts("t", 10, 2);
  logs_[1].AppendInserts("t", 20, 1);
  auto rows = Rows(**sub, 3);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  std::map<std::string, std::string> last;
  for (const MergedEvent& e : *rows) last[e.shard] = e.position;
  EXPECT_EQ(last["-80"].substr(0, 9), "-80:2.1.0");
  EXPECT_EQ(rows->back().position, "-80:2.1.0,80-:1.1.0");

  // Resuming from the first event's position gives exactly what followed it.
  const std::string resume = (*rows)[0].position;
  std::set<int64_t> expected;
  for (size_t i = 1; i < rows->size(); ++i) expected.insert((*rows)[i].event.pk(0).value().int64());
  (*sub)->Stop();
  auto again = Subscription::Start(&ts_, Options(resume));
  ASSERT_TRUE(again.ok()) << again.status();
  auto rest = Rows(**again, 2);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 2u);
  std::set<int64_t> ids;
  for (const MergedEvent& e : *rest) ids.insert(e.event.pk(0).value().int64());
  EXPECT_EQ(ids, expected);
}

TEST_F(SubscriptionTest, ABadFromIsInvalidArgument) {
  for (const char* from : {"-80:1.1.0", "-80:1.1.0,80-:1.1.0,c0-:1.1.0", "garbage"}) {
    auto sub = Subscription::Start(&ts_, Options(from));
    ASSERT_FALSE(sub.ok()) << from;
    EXPECT_EQ(sub.status().code(), absl::StatusCode::kInvalidArgument) << sub.status();
  }
  SubscriptionOptions o = Options();
  o.keyspace = "nope";
  EXPECT_EQ(Subscription::Start(&ts_, o).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SubscriptionTest, ASlowConsumerIsCutOffWithTheResumePosition) {
  SubscriptionOptions o = Options();
  o.queue.max_events = 3;
  o.queue.stall_timeout = absl::Milliseconds(300);
  auto sub = Subscription::Start(&ts_, o);
  ASSERT_TRUE(sub.ok());
  const std::string start = (*sub)->start_position();
  for (int i = 0; i < 10; ++i) logs_[0].AppendInserts("t", 100 + i, 1);
  absl::Status end;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  // Not draining (max 0 takes nothing): the queue is cut off, then Next fails.
  for (;;) {
    auto r = (*sub)->Next(0, absl::Milliseconds(50));
    if (!r.ok()) {
      end = r.status();
      break;
    }
    ASSERT_LT(absl::Now(), deadline);
  }
  EXPECT_EQ(end.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(end.message(), HasSubstr("subscriber too slow"));
  EXPECT_THAT(end.message(), HasSubstr(absl::StrCat("resume with --from ", start)));
}

}  // namespace
}  // namespace shale::changes
