#include "ctl/vschema_check.h"

#include "ctl/record_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::ctl {
namespace {

using ::testing::HasSubstr;

topodata::VSchema Parse(const char* json) {
  topodata::VSchema v;
  absl::Status s = JsonToRecord(json, &v);
  EXPECT_TRUE(s.ok()) << s << " in " << json;
  return v;
}

TEST(ValidateVSchemaTest, AcceptsGoodRecords) {
  const char* good[] = {
      "{}",
      R"({"sharded": false, "tables": {"t": {}}})",  // unsharded: no vindex needed
      R"({"sharded": true, "vindexes": {"h": {"type": "hash"}},
          "tables": {"users": {"table_id": 1, "column_vindexes": [{"column": "id", "name": "h"}]},
                     "orders": {"table_id": 2, "column_vindexes": [{"column": "user_id", "name": "h"}]},
                     "countries": {"table_id": 3, "type": "REFERENCE"},
                     "pending": {"column_vindexes": [{"column": "id", "name": "h"}]}}})",
  };
  for (const char* json : good) {
    EXPECT_TRUE(ValidateVSchema(Parse(json)).ok()) << json << ": " << ValidateVSchema(Parse(json));
  }
}

TEST(ValidateVSchemaTest, RefusesBrokenRules) {
  struct Case {
    const char* json;
    const char* expect;
  } cases[] = {
      {R"({"sharded": true, "tables": {"t": {"table_id": 1}}})",
       R"(table "t": a SHARDED table of a sharded VSchema needs a column vindex)"},
      {R"({"sharded": true, "tables": {"t": {"column_vindexes": [{"column": "id", "name": "h"}]}}})",
       R"(table "t": column vindex "h" is not one of the VSchema's vindexes)"},
      {R"({"vindexes": {"h": {"type": "hash"}},
          "tables": {"t": {"column_vindexes": [{"name": "h"}]}}})",
       R"(table "t": a column vindex has no column)"},
      {R"({"vindexes": {"l": {"type": "lookup"}}})", R"(vindex "l": unknown type "lookup")"},
      {R"({"vindexes": {"l": {}}})", R"(vindex "l": unknown type "")"},
      {R"({"vindexes": {"": {"type": "hash"}}})", "a vindex has an empty name"},
      {R"({"tables": {"": {"table_id": 1}}})", "a table has an empty name"},
      {R"({"tables": {"t": {"table_id": -4}}})", R"(table "t": negative table_id -4)"},
      {R"({"tables": {"b": {"table_id": 7}, "a": {"table_id": 7}, "c": {"table_id": 8}}})",
       R"(tables "a", "b" share table_id 7)"},
      {R"({"vindexes": {"h": {"type": "hash"}},
          "tables": {"r": {"type": "REFERENCE", "column_vindexes": [{"column": "id", "name": "h"}]}}})",
       R"(table "r": a REFERENCE table is copied to every shard and has no column_vindexes)"},
  };
  for (const Case& c : cases) {
    absl::Status s = ValidateVSchema(Parse(c.json));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.json;
    EXPECT_THAT(s.message(), HasSubstr(c.expect)) << c.json;
  }
}

TEST(ValidateVSchemaTest, ListsEveryProblemInAFixedOrder) {
  absl::Status s = ValidateVSchema(Parse(R"({"sharded": true, "vindexes": {"x": {"type": "y"}},
      "tables": {"b": {"table_id": -1, "column_vindexes": [{"column": "id", "name": "x"}]},
                 "a": {}}})"));
  EXPECT_EQ(s.message(),
            "invalid VSchema: table \"a\": a SHARDED table of a sharded VSchema needs a column "
            "vindex; table \"b\": negative table_id -1; vindex \"x\": unknown type \"y\" (known: "
            "hash)");
}

}  // namespace
}  // namespace shale::ctl
