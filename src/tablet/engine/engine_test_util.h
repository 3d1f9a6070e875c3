#pragma once

// Test helpers for tablet/engine tests only: a temp dir that removes itself,
// an engine in it, and status matchers.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/engine/engine.h"
#include "tablet/engine/sqlite_errors.h"

#ifndef ASSERT_OK_AND_ASSIGN
#define ENGINE_TEST_CONCAT_INNER_(a, b) a##b
#define ENGINE_TEST_CONCAT_(a, b) ENGINE_TEST_CONCAT_INNER_(a, b)
#define ENGINE_TEST_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  ASSERT_TRUE(tmp.ok()) << tmp.status();         \
  lhs = std::move(tmp).value()
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ENGINE_TEST_ASSIGN_IMPL_(ENGINE_TEST_CONCAT_(engine_test_or_, __LINE__), lhs, expr)
#endif

#define ASSERT_OK(expr)                       \
  do {                                        \
    const ::absl::Status engine_s_ = (expr);  \
    ASSERT_TRUE(engine_s_.ok()) << engine_s_; \
  } while (0)
#define EXPECT_OK(expr)                       \
  do {                                        \
    const ::absl::Status engine_s_ = (expr);  \
    EXPECT_TRUE(engine_s_.ok()) << engine_s_; \
  } while (0)

namespace shale::tablet::engine::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/tablet_engine_test.XXXXXX");
    char* made = mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

 private:
  std::string path_;
};

// The status of a Status or StatusOr.
inline absl::Status StatusOf(const absl::Status& s) { return s; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

// Matches a Status/StatusOr with the given code and SQLSTATE payload.
MATCHER_P2(IsSqlError, code, sqlstate,
           absl::StrCat("is ", absl::StatusCodeToString(code), " with SQLSTATE ", sqlstate)) {
  absl::Status s = StatusOf(arg);
  *result_listener << "status is " << s << " with SQLSTATE " << SqlState(s);
  return s.code() == code && SqlState(s) == sqlstate;
}

MATCHER(IsOk, "is OK") {
  absl::Status s = StatusOf(arg);
  *result_listener << "status is " << s;
  return s.ok();
}

// Opens an engine on <dir>/db.sqlite, failing the test if it cannot.
inline std::unique_ptr<Engine> OpenEngine(const TempDir& dir, EngineOptions options = {}) {
  auto engine = Engine::Open(dir.File("db.sqlite"), std::move(options));
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? std::move(engine).value() : nullptr;
}

// The single value of a one-row, one-column result.
inline Value Scalar(const absl::StatusOr<ResultSet>& rs) {
  EXPECT_TRUE(rs.ok()) << rs.status();
  if (!rs.ok() || rs->rows.size() != 1 || rs->rows[0].size() != 1) {
    ADD_FAILURE() << "not a single value";
    return Value();
  }
  return rs->rows[0][0];
}

}  // namespace shale::tablet::engine::testing
