#include "base/backoff.h"

#include "gtest/gtest.h"

namespace shale {
namespace {

TEST(BackoffTest, GrowsToMaxWithJitter) {
  Backoff b(absl::Milliseconds(10), absl::Milliseconds(100));
  absl::Duration first = b.Next();
  EXPECT_GE(first, absl::Milliseconds(8));
  EXPECT_LE(first, absl::Milliseconds(12));
  for (int i = 0; i < 10; ++i) b.Next();
  absl::Duration capped = b.Next();
  EXPECT_GE(capped, absl::Milliseconds(80));
  EXPECT_LE(capped, absl::Milliseconds(120));
  b.Reset();
  EXPECT_LE(b.Next(), absl::Milliseconds(12));
}

}  // namespace
}  // namespace shale
