#include "tablet/replication/primary_fence.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/sqlstate.h"
#include "base/wait_for.h"
#include "gtest/gtest.h"

namespace shale::tablet::replication {
namespace {

// A fence on a clock that runs like the steady clock plus an offset the test
// moves forward to stand for a pause of the whole process; the topology's
// answer is whatever the test sets.
class PrimaryFenceTest : public ::testing::Test {
 protected:
  PrimaryFenceTest() {
    FenceOptions options;
    options.stall_limit = absl::Milliseconds(300);
    options.tick = absl::Milliseconds(10);
    options.clock = [this] {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
                 .count() +
             offset_ns_.load();
    };
    fence_ = std::make_unique<PrimaryFence>(
        [this](std::string* detail) -> absl::StatusOr<FenceAnswer> {
          asked_.fetch_add(1);
          absl::MutexLock lock(&mu_);
          *detail = "the Shard record names zone1-102 at term 3";
          return answer_;
        },
        options);
  }

  void Pause(absl::Duration d) { offset_ns_.fetch_add(absl::ToInt64Nanoseconds(d)); }
  void Answer(absl::StatusOr<FenceAnswer> a) {
    absl::MutexLock lock(&mu_);
    answer_ = std::move(a);
  }

  std::atomic<int64_t> offset_ns_{0};
  std::atomic<int> asked_{0};
  absl::Mutex mu_;
  absl::StatusOr<FenceAnswer> answer_ ABSL_GUARDED_BY(mu_) = FenceAnswer::kStillPrimary;
  std::unique_ptr<PrimaryFence> fence_;
};

TEST_F(PrimaryFenceTest, OpenPrimaryCommitsWithoutAskingTheTopology) {
  fence_->Arm();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(fence_->Check(absl::ZeroDuration()).ok());
  EXPECT_FALSE(fence_->Holding());
  EXPECT_EQ(asked_.load(), 0);
  EXPECT_EQ(fence_->pauses(), 0);
}

TEST_F(PrimaryFenceTest, DisarmedFenceRefusesEveryCommit) {
  // Not the primary (never armed, or demoted): a write that slipped past the
  // engine's read-only check must not commit a log entry.
  absl::Status s = fence_->Check(absl::ZeroDuration());
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "not the primary")) << s;
  EXPECT_FALSE(fence_->Holding());  // GetState reports the engine's mode
  fence_->Arm();
  EXPECT_TRUE(fence_->Check(absl::ZeroDuration()).ok());
  fence_->Disarm();
  EXPECT_TRUE(absl::IsFailedPrecondition(fence_->Check(absl::ZeroDuration())));
  EXPECT_EQ(asked_.load(), 0);
}

TEST_F(PrimaryFenceTest, PausedAndDeposedRefusesWrites) {
  fence_->Arm();
  Answer(FenceAnswer::kDeposed);
  Pause(absl::Seconds(4));
  EXPECT_TRUE(fence_->Holding());  // before anyone asked
  absl::Status s = fence_->Check(absl::Seconds(10));
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_EQ(SqlState(s), sqlstate::kReadOnlyTransaction);
  EXPECT_TRUE(absl::StrContains(s.message(), "no longer the primary")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "zone1-102 at term 3")) << s;
  EXPECT_TRUE(fence_->Holding());
  EXPECT_EQ(fence_->pauses(), 1);
  EXPECT_EQ(asked_.load(), 1);
  // It stays refused (no second question) until the role changes.
  EXPECT_TRUE(absl::IsFailedPrecondition(fence_->Check(absl::ZeroDuration())));
  fence_->Disarm();
  EXPECT_FALSE(fence_->Holding());
  fence_->Arm();
  EXPECT_TRUE(fence_->Check(absl::ZeroDuration()).ok());
}

TEST_F(PrimaryFenceTest, PausedButStillPrimaryGoesOn) {
  fence_->Arm();
  Pause(absl::Seconds(2));
  absl::Status s = fence_->Check(absl::Seconds(10));
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(asked_.load(), 1);
  EXPECT_FALSE(fence_->Holding());
  EXPECT_TRUE(fence_->Check(absl::ZeroDuration()).ok());
}

TEST_F(PrimaryFenceTest, TheTickerNoticesAPauseWithoutAnyWrite) {
  fence_->Arm();
  Answer(FenceAnswer::kDeposed);
  Pause(absl::Seconds(3));
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return asked_.load() == 1; }));
  EXPECT_TRUE(fence_->Holding());
  EXPECT_TRUE(absl::IsFailedPrecondition(fence_->Check(absl::ZeroDuration())));
}

TEST_F(PrimaryFenceTest, UnreachableTopologyHoldsWritesUntilItAnswers) {
  fence_->Arm();
  Answer(absl::UnavailableError("etcd is down"));
  Pause(absl::Seconds(3));
  absl::Status s = fence_->Check(absl::Milliseconds(200));
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "cannot yet confirm")) << s;
  EXPECT_TRUE(fence_->Holding());
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return asked_.load() >= 2; }));  // asks again
  Answer(FenceAnswer::kStillPrimary);
  s = fence_->Check(absl::Seconds(10));
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_FALSE(fence_->Holding());
}

TEST_F(PrimaryFenceTest, DemotionWakesACommitThatWaits) {
  fence_->Arm();
  Answer(absl::UnavailableError("etcd is down"));
  Pause(absl::Seconds(3));
  absl::Status s;
  std::thread waiter([&] { s = fence_->Check(absl::Seconds(30)); });
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return asked_.load() >= 1; }));
  fence_->Disarm();
  waiter.join();
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "not the primary")) << s;
}

}  // namespace
}  // namespace shale::tablet::replication
