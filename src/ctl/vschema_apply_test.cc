#include "ctl/vschema_apply.h"

#include "ctl/record_json.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "topo/memory/memory_server.h"

namespace shale::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

topodata::VSchema Parse(const std::string& json) {
  topodata::VSchema v;
  absl::Status s = JsonToRecord(json, &v);
  EXPECT_TRUE(s.ok()) << s << " in " << json;
  return v;
}

bool Same(const topodata::VSchema& a, const topodata::VSchema& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// Stored: users has id 5, legacy has none (0).
const char kStored[] = R"({"tables": {"users": {"table_id": 5}, "legacy": {}}})";

TEST(CarryTableIdsTest, KeepsStoredIdsAndListsNewTables) {
  struct Case {
    const char* applied;
    std::vector<std::string> unallocated;
    int64_t users_id;  // users' id afterwards (-1: users not in the file)
  } cases[] = {
      {R"({"tables": {"users": {}}})", {}, 5},                  // 0 keeps the stored id
      {R"({"tables": {"users": {"table_id": 5}}})", {}, 5},     // the same id is fine
      {R"({"tables": {"users": {}, "b": {}, "a": {}}})", {"a", "b"}, 5},  // sorted
      {R"({"tables": {"legacy": {}}})", {"legacy"}, -1},        // stored without an id
      {R"({})", {}, -1},                                        // everything removed
  };
  for (const Case& c : cases) {
    topodata::VSchema applied = Parse(c.applied);
    absl::StatusOr<std::vector<std::string>> r = CarryTableIds(Parse(kStored), &applied);
    ASSERT_TRUE(r.ok()) << c.applied << ": " << r.status();
    EXPECT_EQ(*r, c.unallocated) << c.applied;
    if (c.users_id >= 0) {
      EXPECT_EQ(applied.tables().at("users").table_id(), c.users_id);
    }
  }
}

TEST(CarryTableIdsTest, RefusesIdsTheAllocatorDidNotGive) {
  struct Case {
    const char* applied;
    const char* expect;
  } cases[] = {
      {R"({"tables": {"users": {"table_id": 6}}})",
       R"(table "users" has table_id 5; the file gives 6)"},
      {R"({"tables": {"orders": {"table_id": 9}}})",
       R"(table "orders" is new but the file gives it table_id 9: table ids come from ctld's allocator)"},
      {R"({"tables": {"orders": {"table_id": 5}}})",  // another table's id
       R"(table "orders" is new but the file gives it table_id 5)"},
      {R"({"tables": {"legacy": {"table_id": 3}}})",
       R"(table "legacy" is new but the file gives it table_id 3)"},
  };
  for (const Case& c : cases) {
    topodata::VSchema applied = Parse(c.applied);
    absl::Status s = CarryTableIds(Parse(kStored), &applied).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.applied;
    EXPECT_THAT(s.message(), HasSubstr(c.expect)) << c.applied;
  }
}

TEST(DiffVSchemaTest, OneLinePerChange) {
  topodata::VSchema before = Parse(R"({"vindexes": {"h": {"type": "hash"}, "old": {"type": "hash"}},
      "tables": {"users": {"table_id": 1, "column_vindexes": [{"column": "id", "name": "h"}]},
                 "gone": {"table_id": 2, "type": "REFERENCE"},
                 "same": {"table_id": 3, "type": "REFERENCE"}}})");
  topodata::VSchema after = Parse(R"({"sharded": true, "vindexes": {"h": {"type": "hash"}},
      "tables": {"users": {"table_id": 1, "column_vindexes": [{"column": "uid", "name": "h"}]},
                 "new": {"column_vindexes": [{"column": "id", "name": "h"}]},
                 "same": {"table_id": 3, "type": "REFERENCE"}}})");
  EXPECT_THAT(DiffVSchema(before, after),
              ElementsAre("sharded: false -> true", "removed vindex old",
                          "removed table gone (table_id 2)",
                          "added table new (SHARDED, table_id to be allocated, column_vindexes "
                          "id:h)",
                          "changed table users: column_vindexes id:h -> uid:h"));
  EXPECT_THAT(DiffVSchema(after, after), IsEmpty());
}

class ApplyVSchemaTest : public ::testing::Test {
 protected:
  ApplyVSchemaTest() : ts_(topo::MemoryServer::NewStandaloneConn({})) {}

  void SetUp() override { ASSERT_TRUE(ts_.CreateKeyspace("app", {}).ok()); }

  absl::StatusOr<ApplyVSchemaResult> Apply(const std::string& json, bool dry_run = false) {
    ApplyVSchemaOptions o;
    o.dry_run = dry_run;
    o.lock_timeout = absl::Milliseconds(200);
    return ApplyVSchema(ts_, "app", Parse(json), o);
  }

  topodata::VSchema Stored() {
    absl::StatusOr<topodata::VSchema> v = ts_.GetVSchema("app");
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : topodata::VSchema();
  }

  topo::Server ts_;
};

constexpr char kTwoTables[] = R"({"sharded": true, "vindexes": {"h": {"type": "hash"}},
    "tables": {"users": {"column_vindexes": [{"column": "id", "name": "h"}]},
               "countries": {"type": "REFERENCE"}}})";

TEST_F(ApplyVSchemaTest, AllocatesIdsForNewTablesAndKeepsThemAfterwards) {
  absl::StatusOr<ApplyVSchemaResult> r = Apply(kTwoTables);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->dry_run);
  // New tables get ids in name order: countries 1, users 2.
  EXPECT_THAT(r->changes,
              ElementsAre("sharded: false -> true", "added vindex h (type hash)",
                          "added table countries (REFERENCE, table_id 1, column_vindexes none)",
                          "added table users (SHARDED, table_id 2, column_vindexes id:h)"));
  EXPECT_TRUE(Same(Stored(), r->vschema));
  EXPECT_EQ(r->ToJson()["vschema"]["tables"]["users"]["table_id"], "2");

  // Re-applying the same file (ids 0) changes nothing and allocates nothing.
  r = Apply(kTwoTables);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->changes, IsEmpty());
  EXPECT_EQ(Stored().tables().at("users").table_id(), 2);

  // GetVSchema's JSON is valid input: applying it is a no-op too.
  r = Apply(RecordToJson(Stored()).dump());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->changes, IsEmpty());
  EXPECT_EQ(*ts_.AllocateTableId(), 3);  // nothing was wasted
}

TEST_F(ApplyVSchemaTest, RefusedRecordsLeaveTheStoredOneAndTheAllocatorAlone) {
  ASSERT_TRUE(Apply(kTwoTables).ok());
  const topodata::VSchema before = Stored();
  const char* refused[] = {
      R"({"tables": {"users": {"table_id": 7}}})",        // changes an id
      R"({"tables": {"orders": {"table_id": 9}}})",       // invents an id
      R"({"sharded": true, "tables": {"orders": {}}})",   // no column vindex
  };
  for (const char* json : refused) {
    EXPECT_EQ(Apply(json).status().code(), absl::StatusCode::kInvalidArgument) << json;
  }
  EXPECT_TRUE(Same(Stored(), before));
  EXPECT_EQ(*ts_.AllocateTableId(), 3);
}

TEST_F(ApplyVSchemaTest, DryRunSavesAndAllocatesNothing) {
  absl::StatusOr<ApplyVSchemaResult> r = Apply(kTwoTables, /*dry_run=*/true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->dry_run);
  EXPECT_THAT(r->changes, testing::Contains(HasSubstr("table_id to be allocated")));
  EXPECT_EQ(r->vschema.tables().at("users").table_id(), 0);
  EXPECT_TRUE(Same(Stored(), topodata::VSchema()));
  EXPECT_EQ(*ts_.AllocateTableId(), 1);
}

TEST_F(ApplyVSchemaTest, UnknownKeyspaceAndHeldLock) {
  ApplyVSchemaOptions o;
  o.lock_timeout = absl::Milliseconds(100);
  for (bool dry_run : {false, true}) {
    o.dry_run = dry_run;
    absl::Status s = ApplyVSchema(ts_, "nope", Parse(kTwoTables), o).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << dry_run;
    EXPECT_THAT(s.message(), HasSubstr("nope"));
  }
  auto held = ts_.LockKeyspace("app", "someone else", absl::Seconds(1));
  ASSERT_TRUE(held.ok()) << held.status();
  o.dry_run = false;
  EXPECT_EQ(ApplyVSchema(ts_, "app", Parse(kTwoTables), o).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(Same(Stored(), topodata::VSchema()));
}

}  // namespace
}  // namespace shale::ctl
