#include "gate/merge/merge_case.h"

#include "base/sqlstate.h"
#include "gate/merge/merge.h"
#include "gtest/gtest.h"

namespace shale::gate::merge {

void CheckMergeCase(const MergeCase& c) {
  SCOPED_TRACE(c.name);
  absl::StatusOr<tablet::QueryResult> merged = Merge(c.shards, c.spec);
  if (c.want_code != absl::StatusCode::kOk) {
    ASSERT_FALSE(merged.ok()) << "rows: " << testing::PrintToString(RowStrings(*merged));
    EXPECT_EQ(merged.status().code(), c.want_code) << merged.status();
    EXPECT_EQ(SqlState(merged.status()), c.want_sqlstate) << merged.status();
    return;
  }
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(RowStrings(*merged), RowStrings(c.want));
}

}  // namespace shale::gate::merge
