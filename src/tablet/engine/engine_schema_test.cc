// Engine: statements after a schema change. Every reader connection keeps
// its own copy of the schema; one that has not seen an ALTER TABLE yet must
// neither refuse a statement that is valid under the new schema (autocommit
// statements are compiled on a reader first) nor return rows shaped by the
// old one.

#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/engine/engine.h"
#include "tablet/engine/engine_test_util.h"

namespace shale::tablet::engine {
namespace {

using absl::StatusCode;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::IsSqlError;
using testing::OpenEngine;
using testing::Scalar;
using testing::TempDir;

constexpr int kReaders = 4;

struct StreamResult {
  absl::StatusOr<ResultSet> result;
  std::vector<Row> rows;
};

// Runs sql (a read that returns at least one row) on kReaders concurrent
// streams. Each stream keeps its reader connection until every stream has a
// row in hand, so each of the kReaders readers runs sql exactly once.
std::vector<StreamResult> OnEveryReader(Engine& engine, const char* sql) {
  absl::Mutex mu;
  int holding = 0;
  std::vector<StreamResult> out(kReaders);
  std::vector<std::thread> threads;
  for (int i = 0; i < kReaders; ++i) {
    threads.emplace_back([&, i] {
      bool first = true;
      out[i].result = engine.ExecuteStream(
          sql, {}, [&](absl::Span<const Column>, absl::Span<const Value> row) -> absl::Status {
            out[i].rows.emplace_back(row.begin(), row.end());
            if (!first) return absl::OkStatus();
            first = false;
            absl::MutexLock lock(&mu);
            ++holding;
            auto all = [&holding]() { return holding == kReaders; };
            if (!mu.AwaitWithTimeout(absl::Condition(&all), absl::Seconds(30))) {
              return absl::DeadlineExceededError("the streams never held every reader at once");
            }
            return absl::OkStatus();
          });
    });
  }
  for (auto& t : threads) t.join();
  return out;
}

std::vector<std::string> Names(const ResultSet& rs) {
  std::vector<std::string> names;
  for (const Column& c : rs.columns) names.push_back(c.name);
  return names;
}

// An engine with kReaders readers and table t(id, v) holding first_row.
std::unique_ptr<Engine> OpenWithTable(TempDir& dir, const char* first_row) {
  EngineOptions options;
  options.reader_connections = kReaders;
  auto engine = OpenEngine(dir, options);
  if (engine == nullptr) return nullptr;
  EXPECT_OK(engine->Execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)").status());
  EXPECT_OK(engine->Execute(absl::StrCat("INSERT INTO t VALUES ", first_row)).status());
  return engine;
}

TEST(EngineSchemaTest, StaleReadersAcceptStatementsForTheNewSchema) {
  TempDir dir;
  auto engine = OpenWithTable(dir, "(1, 'one')");
  ASSERT_NE(engine, nullptr);

  // Every reader loads the two-column schema and keeps SELECT * compiled.
  for (const StreamResult& r : OnEveryReader(*engine, "SELECT * FROM t")) {
    ASSERT_TRUE(r.result.ok()) << r.result.status();
    EXPECT_THAT(Names(*r.result), ElementsAre("id", "v"));
  }

  // Each statement below is compiled first on a reader that has not seen
  // the ALTER before it: SQLite does not re-check its schema by itself for a
  // wrong value count.
  ASSERT_OK(engine->Execute("ALTER TABLE t ADD COLUMN w INTEGER DEFAULT 7").status());
  ASSERT_OK(engine->Execute("INSERT INTO t VALUES (2, 'two', 22)").status());
  ASSERT_OK(engine->Execute("ALTER TABLE t ADD COLUMN x TEXT").status());
  ASSERT_OK(engine->Execute("INSERT INTO t(id, x) VALUES (3, 'x')").status());
  ASSERT_OK(engine->Execute("ALTER TABLE t DROP COLUMN x").status());
  ASSERT_OK(engine->Execute("INSERT INTO t VALUES (?, ?, ?)", {4, "four", 44}).status());
  ASSERT_OK(engine->Execute("ALTER TABLE t ADD COLUMN y").status());
  ASSERT_OK(engine->Execute("ALTER TABLE t DROP COLUMN y").status());
  ASSERT_OK(engine->Execute("INSERT INTO t SELECT 5, 'five', 55").status());

  // A wrong value count is still refused, with SQLite's message for the
  // current schema.
  auto too_many = engine->Execute("INSERT INTO t VALUES (6, 'six', 66, 666)");
  EXPECT_THAT(too_many, IsSqlError(StatusCode::kInvalidArgument, "42000"));
  EXPECT_THAT(too_many.status().message(), HasSubstr("3 columns but 4 values"));
  EXPECT_EQ(Scalar(engine->Execute("SELECT count(*) FROM t")), Value(5));

  // Every reader, with SELECT * still cached from before, returns the new
  // shape and every row.
  for (const StreamResult& r : OnEveryReader(*engine, "SELECT * FROM t ORDER BY id")) {
    ASSERT_TRUE(r.result.ok()) << r.result.status();
    EXPECT_THAT(Names(*r.result), ElementsAre("id", "v", "w"));
    ASSERT_EQ(r.rows.size(), 5u);
    EXPECT_EQ(r.rows[0], (Row{1, "one", 7}));
    EXPECT_EQ(r.rows[1], (Row{2, "two", 22}));
    EXPECT_EQ(r.rows[2], (Row{3, Value(), 7}));
    EXPECT_EQ(r.rows[3], (Row{4, "four", 44}));
    EXPECT_EQ(r.rows[4], (Row{5, "five", 55}));
  }
}

TEST(EngineSchemaTest, ConcurrentInsertsAfterAlterTableSucceed) {
  TempDir dir;
  auto engine = OpenWithTable(dir, "(0, 'zero')");
  ASSERT_NE(engine, nullptr);
  for (const StreamResult& r : OnEveryReader(*engine, "SELECT * FROM t")) {
    ASSERT_TRUE(r.result.ok()) << r.result.status();
  }
  ASSERT_OK(engine->Execute("ALTER TABLE t ADD COLUMN w INTEGER").status());

  // Concurrent inserts, compiled on whichever readers the pool hands out,
  // stale or not: every one is accepted.
  constexpr int kPerThread = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kReaders; ++t) {
    threads.emplace_back([&engine, t] {
      for (int i = 1; i <= kPerThread; ++i) {
        const int id = t * 1000 + i;
        auto rs = engine->Execute("INSERT INTO t VALUES (?, 'x', ?)", {id, id});
        EXPECT_TRUE(rs.ok()) << rs.status();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(Scalar(engine->Execute("SELECT count(*) FROM t WHERE w = id")),
            Value(kReaders * kPerThread));
}

}  // namespace
}  // namespace shale::tablet::engine
