#pragma once

// Test-only: an in-memory SQLite database whose query results come back as
// tablet::QueryResult, for the merger's differential tests. Owned by one
// test; one thread.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tablet_data.pb.h"

struct sqlite3;

namespace shale::gate::merge {

class TestDb {
 public:
  TestDb();  // opens ":memory:"; aborts the test binary if SQLite cannot
  ~TestDb();
  TestDb(const TestDb&) = delete;
  TestDb& operator=(const TestDb&) = delete;

  // Runs sql with binds ?1, ?2, ...; every row it returns, with each value
  // read by its storage class (sqlite3_column_type). UNKNOWN with SQLite's
  // message when SQLite fails.
  absl::StatusOr<tablet::QueryResult> Query(const std::string& sql,
                                            const std::vector<tablet::Value>& binds = {});

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace shale::gate::merge
