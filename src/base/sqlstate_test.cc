#include "base/sqlstate.h"

#include "gtest/gtest.h"

namespace shale {
namespace {

TEST(SqlStateTest, PayloadWinsOverTheStatusCode) {
  absl::Status s = SqlError(absl::StatusCode::kAlreadyExists, sqlstate::kUniqueViolation, "dup");
  EXPECT_EQ(SqlState(s), "23505");
  EXPECT_EQ(SqlStateOrDefault(WithSqlState(absl::UnavailableError("x"), "40003")), "40003");
}

TEST(SqlStateTest, CodesWithoutPayloadMapByTheDesignTable) {
  struct Case {
    absl::Status status;
    const char* want;
  };
  const Case cases[] = {
      {absl::OkStatus(), "00000"},
      {absl::AbortedError("x"), "40001"},
      {absl::UnavailableError("x"), "08006"},
      {absl::DeadlineExceededError("x"), "57014"},
      {absl::FailedPreconditionError("x"), "55000"},
      {absl::InvalidArgumentError("x"), "22023"},
      {absl::UnimplementedError("x"), "0A000"},
      {absl::InternalError("x"), "XX000"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(SqlStateOrDefault(c.status), c.want) << c.status;
  }
  EXPECT_EQ(SqlState(absl::AbortedError("x")), "XX000");
}

TEST(SqlStateTest, ErrorPositionRoundTrips) {
  absl::Status s = WithErrorPosition(SqlError(absl::StatusCode::kInvalidArgument,
                                              sqlstate::kSyntaxError, "syntax error"),
                                     8);
  EXPECT_EQ(ErrorPosition(s), 8);
  EXPECT_EQ(SqlState(s), "42601");
  EXPECT_EQ(ErrorPosition(absl::InvalidArgumentError("x")), 0);
  EXPECT_TRUE(WithErrorPosition(absl::OkStatus(), 3).ok());
}

}  // namespace
}  // namespace shale
