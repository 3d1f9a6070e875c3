// ctl::RunVDiff against real in-process tablets running real streams (a
// merge of -40 and 40-80 into -80, tablet/vdiff_tablets_test.h): the report
// of a clean copy, of injected differences, and the refusals.

#include "ctl/vdiff.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/vdiff_tablets_test.h"

namespace shale::ctl {
namespace {

using ::testing::HasSubstr;

class CtlVDiffTest : public tablet::VDiffTablets {};

TEST_F(CtlVDiffTest, ReportsMatchThenDifferences) {
  VDiffOptions o;
  auto clean = RunVDiff(topo_.ts, "app", o);
  ASSERT_TRUE(clean.ok()) << clean.status();
  EXPECT_TRUE(clean->match());
  ASSERT_EQ(clean->shards.size(), 1u);
  EXPECT_EQ(clean->shards[0].shard, "-80");
  EXPECT_EQ(clean->shards[0].primary.ToString(), "zone1-301");
  const std::string text = clean->ToText();
  EXPECT_THAT(text, HasSubstr("shard app/-80 (primary zone1-301)"));
  EXPECT_THAT(text, HasSubstr("stream 1 from app/-40 compared at "));
  EXPECT_THAT(text, HasSubstr("stream 2 from app/40-80 compared at "));
  EXPECT_THAT(text, HasSubstr("  items              200          200  match\n"));
  EXPECT_THAT(text, HasSubstr("VDiff app: match (3 table comparisons in 1 shard)"));
  std::cout << text;

  int64_t id = 1;
  while (!(InTarget(id) && &SourceOf(id) == high_.get())) ++id;
  ASSERT_TRUE(
      target_->engine().ExecuteInternal(absl::StrCat("DELETE FROM items WHERE id = ", id)).ok());
  o.tables = {"items", "countries"};
  auto diff = RunVDiff(topo_.ts, "app", o);
  ASSERT_TRUE(diff.ok()) << diff.status();
  EXPECT_FALSE(diff->match());
  EXPECT_EQ(diff->differing_tables(), 1);
  const std::string report = diff->ToText();
  std::cout << report;
  EXPECT_THAT(report, HasSubstr("1 missing, 0 extra, 0 different"));
  EXPECT_THAT(report, HasSubstr(absl::StrCat("      missing pk=(", id, ")\n")));
  EXPECT_THAT(report, HasSubstr("VDiff app: DIFFERENCES in 1 of 2 table comparisons"));
  EXPECT_THAT(report, ::testing::Not(HasSubstr("orders")));
  const nlohmann::json j = diff->ToJson();
  EXPECT_EQ(j["keyspace"], "app");
  EXPECT_EQ(j["match"], false);
  EXPECT_EQ(j["shards"][0]["tables"][0]["table"], "items");
  EXPECT_EQ(j["shards"][0]["tables"][0]["missing_on_target"], 1);
  EXPECT_EQ(j["shards"][0]["tables"][0]["examples"][0], absl::StrCat("missing pk=(", id, ")"));
  EXPECT_EQ(j["shards"][0]["streams"].size(), 2u);
}

TEST_F(CtlVDiffTest, Refusals) {
  auto none = RunVDiff(topo_.ts, "nope", {});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound) << none.status();
  ASSERT_TRUE(topo_.ts.CreateKeyspace("plain", {}).ok());
  ASSERT_TRUE(topo_.ts.CreateShard("plain", "0").ok());
  auto no_streams = RunVDiff(topo_.ts, "plain", {});
  EXPECT_EQ(no_streams.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(no_streams.status().message(), HasSubstr("keyspace plain has no resharding streams"));
  VDiffOptions o;
  o.tables = {"missing_table"};
  auto bad = RunVDiff(topo_.ts, "app", o);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kNotFound) << bad.status();
  EXPECT_THAT(bad.status().message(), HasSubstr("VDiff of app/-80 on zone1-301: table missing_table"));
}

}  // namespace
}  // namespace shale::ctl
