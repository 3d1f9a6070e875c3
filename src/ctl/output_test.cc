#include "ctl/output.h"

#include "gtest/gtest.h"

namespace shale::ctl {
namespace {

TEST(OutputTest, JsonIsPretty) {
  nlohmann::json v = {{"a", 1}};
  EXPECT_EQ(FormatOutput(v, OutputFormat::kJson), "{\n  \"a\": 1\n}\n");
}

TEST(OutputTest, TableOfObjectsAlignsColumns) {
  nlohmann::json v = nlohmann::json::array({{{"name", "-80"}, {"primary", "zone1-1"}},
                                            {{"name", "80-"}, {"primary", nullptr}}});
  EXPECT_EQ(FormatOutput(v, OutputFormat::kTable),
            "name  primary\n"
            "-80   zone1-1\n"
            "80-   \n");
}

TEST(OutputTest, TableOfScalarsAndObject) {
  EXPECT_EQ(FormatOutput(nlohmann::json::array({"app", "logs"}), OutputFormat::kTable),
            "app\nlogs\n");
  nlohmann::json obj = {{"sharding_column_name", "id"}, {"served_froms", nlohmann::json::array()}};
  EXPECT_EQ(FormatOutput(obj, OutputFormat::kTable),
            "field                 value\n"
            "served_froms          []\n"
            "sharding_column_name  id\n");
}

TEST(OutputTest, ParseFormat) {
  EXPECT_TRUE(ParseOutputFormat("json").ok());
  EXPECT_TRUE(ParseOutputFormat("table").ok());
  EXPECT_EQ(ParseOutputFormat("xml").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shale::ctl
