#include "changes/keyspace_position.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::changes {
namespace {

using ::testing::HasSubstr;

tablet::ChangePosition Pos(int64_t seq, int64_t term, int32_t row) {
  tablet::ChangePosition p;
  p.set_seq(seq);
  p.set_term(term);
  p.set_row(row);
  return p;
}

TEST(KeyspacePositionTest, RoundTrips) {
  for (const char* text :
       {"-80:123.2.0,80-:456.3.0", "0:1.1.0", "-:0.0.0", "-40:9.1.7,40-80:10.2.0,80-:0.0.0"}) {
    absl::StatusOr<KeyspacePosition> p = KeyspacePosition::Parse(text);
    ASSERT_TRUE(p.ok()) << text << ": " << p.status();
    EXPECT_EQ(p->ToString(), text);
  }
  absl::StatusOr<KeyspacePosition> p = KeyspacePosition::Parse("80-:456.3.0,-80:123.2.5");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->ToString(), "-80:123.2.5,80-:456.3.0");  // shards in name order
  EXPECT_EQ(p->Get("-80")->row(), 5);
  EXPECT_EQ(p->Get("80-")->term(), 3);
  EXPECT_FALSE(p->Get("0").has_value());
}

TEST(KeyspacePositionTest, ErrorsNameTheWrongPart) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"", "empty position"},
      {"-80", "no ':'"},
      {":1.1.0", "is not a shard name"},
      {"a b:1.1.0", "is not a shard name"},
      {"-80:1.1", "is not SEQ.TERM.ROW"},
      {"-80:1.1.0.0", "is not SEQ.TERM.ROW"},
      {"-80:x.1.0", "SEQ \"x\" is not a non-negative number"},
      {"-80:1.-1.0", "TERM \"-1\" is not a non-negative number"},
      {"-80:1.1.", "ROW \"\" is not a non-negative number"},
      {"-80:1.1.99999999999", "ROW 99999999999 is too large"},
      {"-80:1.1.0,-80:2.1.0", "names shard -80 twice"},
      {"-80:1.1.0,", "no ':'"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<KeyspacePosition> p = KeyspacePosition::Parse(c.text);
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(p.status().message(), HasSubstr(c.error)) << c.text;
  }
}

TEST(KeyspacePositionTest, CheckShardsNamesUnknownAndMissing) {
  auto p = KeyspacePosition::Parse("-80:1.1.0,x:2.1.0");
  ASSERT_TRUE(p.ok());
  absl::Status s = p->CheckShards({"-80", "80-"}, "app");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("unknown shard(s) x"));
  EXPECT_THAT(s.message(), HasSubstr("lacks shard(s) 80-"));
  EXPECT_TRUE(
      KeyspacePosition::Parse("-80:1.1.0,80-:2.1.0")->CheckShards({"-80", "80-"}, "app").ok());
}

TEST(KeyspacePositionTest, PositionOrderPutsRowZeroLast) {
  EXPECT_TRUE(PositionAfter(Pos(2, 1, 1), Pos(1, 1, 0)));
  EXPECT_TRUE(PositionAfter(Pos(2, 1, 2), Pos(2, 1, 1)));
  EXPECT_TRUE(PositionAfter(Pos(2, 1, 0), Pos(2, 1, 9)));  // the entry done
  EXPECT_FALSE(PositionAfter(Pos(2, 1, 3), Pos(2, 1, 0)));
  EXPECT_FALSE(PositionAfter(Pos(2, 1, 0), Pos(2, 1, 0)));
  EXPECT_FALSE(PositionAfter(Pos(1, 5, 0), Pos(2, 1, 1)));
}

}  // namespace
}  // namespace shale::changes
