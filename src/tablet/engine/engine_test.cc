// Engine: opening, autocommit statements, binds, statement rules, read-only
// mode, _shale_ protection, the PRIMARY KEY rule and streaming.

#include "tablet/engine/engine.h"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/engine/engine_test_util.h"

namespace shale::tablet::engine {
namespace {

using absl::StatusCode;
using ::testing::HasSubstr;
using testing::IsOk;
using testing::IsSqlError;
using testing::OpenEngine;
using testing::Scalar;
using testing::TempDir;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = OpenEngine(dir_);
    ASSERT_NE(engine_, nullptr);
    ASSERT_OK(engine_->Execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)").status());
  }

  int64_t Count(absl::string_view table) {
    Value v = Scalar(engine_->Execute(absl::StrCat("SELECT count(*) FROM ", table)));
    return v.type() == Value::Type::kInt64 ? v.int64() : -1;
  }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

TEST(EngineOpenTest, WalModeAndSynchronous) {
  TempDir dir;
  auto engine = OpenEngine(dir);
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(Scalar(engine->Execute("PRAGMA journal_mode")), Value("wal"));
  EXPECT_EQ(Scalar(engine->Execute("PRAGMA synchronous")), Value(2));  // FULL
  EXPECT_EQ(Scalar(engine->Execute("PRAGMA foreign_keys")), Value(1));
  EXPECT_EQ(engine->path(), dir.File("db.sqlite"));
  engine.reset();

  // Reopening finds the data; synchronous is configurable.
  EngineOptions options;
  options.synchronous = Synchronous::kNormal;
  auto again = OpenEngine(dir, options);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(Scalar(again->Execute("PRAGMA synchronous")), Value(1));  // NORMAL
}

TEST(EngineOpenTest, RejectsBadArguments) {
  TempDir dir;
  EXPECT_EQ(Engine::Open("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Engine::Open(":memory:").status().code(), StatusCode::kInvalidArgument);
  EngineOptions no_readers;
  no_readers.reader_connections = 0;
  EXPECT_EQ(Engine::Open(dir.File("db"), no_readers).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, OneStatementPerCall) {
  struct Case {
    const char* sql;
    bool ok;
  };
  const std::vector<Case> cases = {
      {"SELECT 1", true},
      {"SELECT 1;", true},
      {"SELECT 1 ;  -- trailing comment", true},
      {"SELECT 1; /* block */ ;\n", true},
      {"SELECT 1; SELECT 2", false},
      {"INSERT INTO t VALUES (1, 'a'); DROP TABLE t", false},
      {"SELECT 1; -- ok\n DELETE FROM t", false},
      {"", false},
      {"  ; -- nothing", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sql);
    auto rs = engine_->Execute(c.sql);
    if (c.ok) {
      EXPECT_THAT(rs, IsOk());
    } else {
      EXPECT_THAT(rs, IsSqlError(StatusCode::kInvalidArgument, "42601"));
    }
  }
  // The rejected INSERT never ran.
  EXPECT_EQ(Count("t"), 0);
}

TEST_F(EngineTest, PositionalBinds) {
  ASSERT_OK(engine_->Execute("INSERT INTO t VALUES (?, ?)", {1, "one"}).status());
  ASSERT_OK(engine_->Execute("INSERT INTO t VALUES (?2, ?1)", {"two", 2}).status());
  auto rs = engine_->Execute("SELECT ?1 + id, v FROM t WHERE id = ?1", {2});
  ASSERT_TRUE(rs.ok()) << rs.status();
  ASSERT_EQ(rs->rows.size(), 1u);
  EXPECT_EQ(rs->rows[0][0], Value(4));
  EXPECT_EQ(rs->rows[0][1], Value("two"));
  EXPECT_THAT(engine_->Execute("SELECT ?", {1, 2}),
              IsSqlError(StatusCode::kInvalidArgument, "08P01"));
  EXPECT_THAT(engine_->Execute("SELECT ?1, ?2", {1}),
              IsSqlError(StatusCode::kInvalidArgument, "08P01"));
}

TEST_F(EngineTest, CachedStatementsFollowDataSchemaAndAccess) {
  // The same SELECT text again and again comes from the connection's cache;
  // it must still see new rows, a changed table and who is asking.
  const char* by_id = "SELECT * FROM t WHERE id = ?";
  ASSERT_OK(engine_->Execute("INSERT INTO t VALUES (1, 'one')").status());
  for (int round = 0; round < 3; ++round) {
    auto rs = engine_->Execute(by_id, {1});
    ASSERT_TRUE(rs.ok()) << rs.status();
    ASSERT_EQ(rs->rows.size(), 1u);
    EXPECT_EQ(rs->rows[0][1], Value("one"));
  }
  EXPECT_EQ(Count("t"), 1);
  ASSERT_OK(engine_->Execute("INSERT INTO t VALUES (2, 'two')").status());
  EXPECT_EQ(Count("t"), 2);
  ASSERT_OK(engine_->Execute("ALTER TABLE t ADD COLUMN w INTEGER DEFAULT 7").status());
  auto wider = engine_->Execute(by_id, {2});
  ASSERT_TRUE(wider.ok()) << wider.status();
  ASSERT_EQ(wider->columns.size(), 3u);
  EXPECT_EQ(wider->rows[0][2], Value(7));
  ASSERT_OK(engine_->Execute("DROP TABLE t").status());
  EXPECT_FALSE(engine_->Execute(by_id, {1}).ok());  // no such table now
  ASSERT_OK(engine_->Execute("CREATE TABLE t(id INTEGER PRIMARY KEY)").status());
  auto narrow = engine_->Execute(by_id, {1});
  ASSERT_TRUE(narrow.ok()) << narrow.status();
  EXPECT_EQ(narrow->columns.size(), 1u);
  EXPECT_TRUE(narrow->rows.empty());
  // A statement the engine compiled for itself is not handed to a client.
  const char* pragma = "PRAGMA cache_size";
  ASSERT_OK(engine_->ExecuteInternal(pragma).status());
  EXPECT_FALSE(engine_->Execute(pragma).ok());
}

TEST_F(EngineTest, ReadOnlyMode) {
  ASSERT_OK(engine_->Execute("INSERT INTO t VALUES (1, 'a')").status());
  engine_->SetReadOnly(true);
  EXPECT_TRUE(engine_->IsReadOnly());
  for (const char* sql :
       {"INSERT INTO t VALUES (2, 'b')", "UPDATE t SET v = 'x'", "DELETE FROM t",
        "CREATE TABLE u(id INTEGER PRIMARY KEY)", "DROP TABLE t", "CREATE INDEX t_v ON t(v)"}) {
    SCOPED_TRACE(sql);
    auto rs = engine_->Execute(sql);
    EXPECT_THAT(rs, IsSqlError(StatusCode::kFailedPrecondition, "25006"));
    EXPECT_EQ(rs.status().message(), "tablet is read-only (not the primary)");
  }
  EXPECT_THAT(engine_->Begin(), IsSqlError(StatusCode::kFailedPrecondition, "25006"));
  // Reads, read-only transactions and the engine's own writes go on.
  EXPECT_EQ(Count("t"), 1);
  auto reader = engine_->Begin(TxnMode::kReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_OK(engine_->Rollback(*reader));
  EXPECT_OK(engine_->ExecuteInternal("INSERT INTO t VALUES (3, 'internal')").status());

  engine_->SetReadOnly(false);
  EXPECT_OK(engine_->Execute("INSERT INTO t VALUES (2, 'b')").status());
  EXPECT_EQ(Count("t"), 3);
}

TEST_F(EngineTest, ReservedTablesAreProtected) {
  ASSERT_OK(engine_->ExecuteInternal("CREATE TABLE _shale_meta(k TEXT PRIMARY KEY, v)").status());
  ASSERT_OK(engine_->ExecuteInternal("INSERT INTO _shale_meta VALUES ('a', 1)").status());
  const std::vector<const char*> denied = {
      "CREATE TABLE _shale_x(id INTEGER PRIMARY KEY)",
      "CREATE TABLE IF NOT EXISTS _SHALE_Meta(id INTEGER PRIMARY KEY)",
      "DROP TABLE _shale_meta",
      "INSERT INTO _shale_meta VALUES ('b', 2)",
      "INSERT INTO _Shale_Meta VALUES ('b', 2)",
      "UPDATE _shale_meta SET v = 5",
      "DELETE FROM _shale_meta",
      "CREATE INDEX meta_v ON _shale_meta(v)",
      "CREATE INDEX _shale_t_v ON t(v)",
      "CREATE TRIGGER meta_tr AFTER INSERT ON _shale_meta BEGIN SELECT 1; END",
      "ALTER TABLE _shale_meta ADD COLUMN extra",
      "ALTER TABLE t RENAME TO _shale_t",
      "CREATE VIEW _shale_view AS SELECT 1",
      "REPLACE INTO _shale_meta VALUES ('a', 9)",
      "WITH x AS (SELECT 1) INSERT INTO _shale_meta SELECT 'c', 3 FROM x",
  };
  for (const char* sql : denied) {
    SCOPED_TRACE(sql);
    auto rs = engine_->Execute(sql);
    EXPECT_THAT(rs, IsSqlError(StatusCode::kPermissionDenied, "42501"));
    EXPECT_THAT(std::string(rs.status().message()), HasSubstr("_shale_"));
  }
  // A user trigger cannot write there either.
  ASSERT_OK(engine_
                ->Execute("CREATE TRIGGER sneaky AFTER INSERT ON t BEGIN "
                          "INSERT INTO _shale_meta VALUES ('t', 0); END")
                .status());
  EXPECT_THAT(engine_->Execute("INSERT INTO t VALUES (1, 'a')"),
              IsSqlError(StatusCode::kPermissionDenied, "42501"));
  ASSERT_OK(engine_->Execute("DROP TRIGGER sneaky").status());
  // Reading is fine, and nothing above changed the table.
  auto rs = engine_->Execute("SELECT k, v FROM _shale_meta");
  ASSERT_TRUE(rs.ok()) << rs.status();
  ASSERT_EQ(rs->rows.size(), 1u);
  EXPECT_EQ(rs->rows[0][0], Value("a"));
  EXPECT_EQ(rs->rows[0][1], Value(1));
  EXPECT_EQ(Count("t"), 0);  // t was not renamed away
  // The same rules inside an interactive transaction.
  auto txn = engine_->Begin();
  ASSERT_TRUE(txn.ok()) << txn.status();
  EXPECT_THAT(engine_->Execute(*txn, "DELETE FROM _shale_meta"),
              IsSqlError(StatusCode::kPermissionDenied, "42501"));
  EXPECT_OK(engine_->Commit(*txn));
}

TEST_F(EngineTest, ConnectionStateIsNotForClients) {
  struct Case {
    const char* sql;
    StatusCode code;
    const char* sqlstate;
  };
  const std::vector<Case> cases = {
      {"BEGIN", StatusCode::kInvalidArgument, "0A000"},
      {"COMMIT", StatusCode::kInvalidArgument, "0A000"},
      {"ROLLBACK", StatusCode::kInvalidArgument, "0A000"},
      {"SAVEPOINT s", StatusCode::kInvalidArgument, "0A000"},
      {"CREATE TEMP TABLE tmp(id INTEGER PRIMARY KEY)", StatusCode::kInvalidArgument, "0A000"},
      {"CREATE TEMP VIEW tv AS SELECT 1", StatusCode::kInvalidArgument, "0A000"},
      {"ATTACH DATABASE 'other.db' AS other", StatusCode::kPermissionDenied, "42501"},
      {"PRAGMA journal_mode = DELETE", StatusCode::kPermissionDenied, "42501"},
      {"PRAGMA synchronous = OFF", StatusCode::kPermissionDenied, "42501"},
      {"PRAGMA foreign_keys = OFF", StatusCode::kPermissionDenied, "42501"},
      {"PRAGMA user_version = 7", StatusCode::kPermissionDenied, "42501"},
      {"PRAGMA writable_schema = ON", StatusCode::kPermissionDenied, "42501"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sql);
    EXPECT_THAT(engine_->Execute(c.sql), IsSqlError(c.code, c.sqlstate));
  }
  for (const char* sql : {"PRAGMA table_info(t)", "PRAGMA user_version", "PRAGMA index_list(t)",
                          "PRAGMA integrity_check", "SELECT * FROM pragma_table_info('t')"}) {
    SCOPED_TRACE(sql);
    EXPECT_THAT(engine_->Execute(sql), IsOk());
  }
}

TEST_F(EngineTest, TablesNeedAPrimaryKey) {
  struct Case {
    const char* sql;
    const char* table;
    bool ok;
  };
  const std::vector<Case> cases = {
      {"CREATE TABLE a(id INTEGER PRIMARY KEY, v)", "a", true},
      {"CREATE TABLE b(k TEXT PRIMARY KEY, v) WITHOUT ROWID", "b", true},
      {"CREATE TABLE c(x, y, v, PRIMARY KEY (x, y))", "c", true},
      {"CREATE TABLE d(id INT PRIMARY KEY)", "d", true},
      {"CREATE TABLE IF NOT EXISTS a(id INTEGER PRIMARY KEY)", "a", true},
      {"CREATE TABLE e(x, y)", "e", false},
      {"CREATE TABLE f(x UNIQUE NOT NULL)", "f", false},
      {"CREATE TABLE g AS SELECT 1 AS x", "g", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sql);
    auto rs = engine_->Execute(c.sql);
    if (c.ok) {
      EXPECT_THAT(rs, IsOk());
      EXPECT_EQ(Count(c.table), 0);
    } else {
      EXPECT_THAT(rs, IsSqlError(StatusCode::kInvalidArgument, "42P16"));
      EXPECT_EQ(rs.status().message(),
                absl::StrCat("table ", c.table,
                             " has no PRIMARY KEY; Shale replicates rows by primary key"));
      EXPECT_THAT(engine_->Execute(absl::StrCat("SELECT * FROM ", c.table)),
                  IsSqlError(StatusCode::kNotFound, "42P01"));
    }
  }
  // The engine's own tables are exempt.
  EXPECT_OK(engine_->ExecuteInternal("CREATE TABLE _shale_scratch(x)").status());
}

TEST_F(EngineTest, PrimaryKeyRuleUndoesOnlyTheStatementInATransaction) {
  auto txn = engine_->Begin();
  ASSERT_TRUE(txn.ok()) << txn.status();
  ASSERT_OK(engine_->Execute(*txn, "INSERT INTO t VALUES (1, 'kept')").status());
  EXPECT_THAT(engine_->Execute(*txn, "CREATE TABLE nopk(x)"),
              IsSqlError(StatusCode::kInvalidArgument, "42P16"));
  ASSERT_OK(engine_->Execute(*txn, "CREATE TABLE withpk(id INTEGER PRIMARY KEY)").status());
  ASSERT_OK(engine_->Commit(*txn));
  EXPECT_EQ(Count("t"), 1);
  EXPECT_EQ(Count("withpk"), 0);
  EXPECT_THAT(engine_->Execute("SELECT * FROM nopk"), IsSqlError(StatusCode::kNotFound, "42P01"));
}

TEST_F(EngineTest, StreamsLargeResultRowByRow) {
  constexpr int64_t kRows = 100000;
  ASSERT_OK(engine_
                ->Execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                          "WHERE i < ?1) INSERT INTO t SELECT i, 'row ' || i FROM n",
                          {kRows})
                .status());
  int64_t rows = 0;
  int64_t sum = 0;
  auto rs =
      engine_->ExecuteStream("SELECT id, v FROM t ORDER BY id", {},
                             [&](absl::Span<const Column> columns, absl::Span<const Value> row) {
                               EXPECT_EQ(columns.size(), 2u);
                               ++rows;
                               sum += row[0].int64();
                               return absl::OkStatus();
                             });
  ASSERT_TRUE(rs.ok()) << rs.status();
  EXPECT_EQ(rows, kRows);
  EXPECT_EQ(sum, kRows * (kRows + 1) / 2);
  EXPECT_TRUE(rs->rows.empty());  // nothing was kept
  ASSERT_EQ(rs->columns.size(), 2u);
  EXPECT_EQ(rs->columns[0].name, "id");
}

TEST_F(EngineTest, StreamCallbackErrorStopsTheStatement) {
  ASSERT_OK(engine_->Execute("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')").status());
  int seen = 0;
  auto stop_after_one = [&](absl::Span<const Column>, absl::Span<const Value>) {
    return ++seen == 1 ? absl::OkStatus() : absl::CancelledError("client went away");
  };
  EXPECT_EQ(engine_->ExecuteStream("SELECT * FROM t", {}, stop_after_one).status().code(),
            StatusCode::kCancelled);
  EXPECT_EQ(seen, 2);
  // A write whose rows are refused is rolled back.
  seen = 0;
  EXPECT_EQ(
      engine_->ExecuteStream("DELETE FROM t RETURNING id", {}, stop_after_one).status().code(),
      StatusCode::kCancelled);
  EXPECT_EQ(Count("t"), 3);
}

// synchronous=FULL: every commit is synced before it returns, and concurrent
// commits share syncs (group commit), so there are fewer syncs than commits.
TEST_F(EngineTest, ConcurrentCommitsShareWalSyncs) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_TRUE(engine_->Execute("INSERT INTO t VALUES (?1, 'x')", {Value(t * 1000 + i)}).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(Count("t"), kThreads * kPerThread);
  const int64_t syncs = engine_->Stats().wal_syncs;
  EXPECT_GT(syncs, 0);
  EXPECT_LT(syncs, kThreads * kPerThread);  // 321 commits with the CREATE TABLE
  // One writer alone syncs once per commit.
  const int64_t before = engine_->Stats().wal_syncs;
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(engine_->Execute("INSERT INTO t VALUES (?1, 'y')", {Value(100000 + i)}).status());
  }
  EXPECT_EQ(engine_->Stats().wal_syncs - before, 5);
}

// EngineOptions::check_user_statement sees the tables a user statement reads
// or writes (StatementInfo::tables, cache hits included) and refuses for it;
// DBA and internal statements and a read-only engine are not checked.
TEST(EngineCheckTest, CheckUserStatementSeesTheTablesAndRefuses) {
  TempDir dir;
  absl::Mutex mu;
  std::vector<std::vector<std::string>> seen;  // guarded by mu
  std::string denied = "u";                    // guarded by mu
  EngineOptions options;
  options.check_user_statement = [&](const StatementInfo& info) -> absl::Status {
    absl::MutexLock lock(&mu);
    seen.push_back(info.tables);
    for (const std::string& t : info.tables) {
      if (absl::EqualsIgnoreCase(t, denied)) return absl::FailedPreconditionError("denied " + t);
    }
    return absl::OkStatus();
  };
  std::unique_ptr<Engine> engine = OpenEngine(dir, options);
  ASSERT_NE(engine, nullptr);
  ASSERT_OK(engine->Execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)").status());
  ASSERT_OK(engine->Execute("CREATE TABLE u(id INTEGER PRIMARY KEY, v TEXT)").status());
  ASSERT_OK(engine->Execute("CREATE TABLE w(id INTEGER PRIMARY KEY)").status());
  ASSERT_OK(engine->Execute("CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN "
                            "INSERT INTO w VALUES (new.id); END")
                .status());
  auto last = [&] {
    absl::MutexLock lock(&mu);
    std::vector<std::string> out = seen.empty() ? std::vector<std::string>() : seen.back();
    std::sort(out.begin(), out.end());
    return out;
  };
  using V = std::vector<std::string>;
  // Writes (a trigger's table included), reads, count(*), joins; no sqlite_.
  ASSERT_OK(engine->Execute("INSERT INTO t VALUES (1, 'a')").status());
  EXPECT_EQ(last(), (V{"t", "w"}));
  for (int i = 0; i < 2; ++i) {  // the second time from the statement cache
    ASSERT_OK(engine->Execute("SELECT v FROM t WHERE id = ?", {1}).status());
    EXPECT_EQ(last(), (V{"t"}));
  }
  ASSERT_OK(engine->Execute("SELECT count(*) FROM T").status());
  EXPECT_EQ(last(), (V{"T"}));
  ASSERT_OK(engine->Execute("SELECT name FROM sqlite_schema").status());
  EXPECT_EQ(last(), (V{}));
  ASSERT_OK(engine->Execute("UPDATE t SET v = (SELECT count(*) FROM w) WHERE id = 1").status());
  EXPECT_EQ(last(), (V{"t", "w"}));

  // A denied table: autocommit reads and writes, statements in
  // transactions (read-write and read-only) are refused; nothing runs.
  auto refused = engine->Execute("SELECT * FROM u");
  EXPECT_EQ(refused.status(), absl::FailedPreconditionError("denied u"));
  EXPECT_FALSE(engine->Execute("INSERT INTO u VALUES (1, 'x')").ok());
  EXPECT_FALSE(engine->Execute("SELECT * FROM t JOIN u USING (id)").ok());
  ASSERT_OK_AND_ASSIGN(TxnId txn, engine->Begin());
  EXPECT_FALSE(engine->Execute(txn, "UPDATE u SET v = 'y'").ok());
  EXPECT_OK(engine->Execute(txn, "INSERT INTO t VALUES (2, 'b')").status());
  EXPECT_OK(engine->Commit(txn));
  ASSERT_OK_AND_ASSIGN(TxnId ro, engine->Begin(TxnMode::kReadOnly));
  EXPECT_FALSE(engine->Execute(ro, "SELECT * FROM u").ok());
  EXPECT_OK(engine->Execute(ro, "SELECT * FROM t").status());
  EXPECT_OK(engine->Rollback(ro));

  // Not checked: ExecuteAsDba (still under the user rules), internal
  // statements, and any statement while the engine is read-only.
  const size_t before = [&] {
    absl::MutexLock lock(&mu);
    return seen.size();
  }();
  EXPECT_OK(engine->ExecuteAsDba("INSERT INTO u VALUES (1, 'dba')").status());
  EXPECT_OK(engine->ExecuteAsDba("SELECT * FROM u").status());
  EXPECT_THAT(engine->ExecuteAsDba("CREATE TABLE _shale_x(id INTEGER PRIMARY KEY)"),
              testing::IsSqlError(StatusCode::kPermissionDenied, "42501"));
  EXPECT_THAT(engine->ExecuteAsDba("CREATE TABLE nopk(v TEXT)"),
              testing::IsSqlError(StatusCode::kInvalidArgument, "42P16"));
  EXPECT_OK(engine->ExecuteInternal("INSERT INTO u VALUES (2, 'internal')").status());
  engine->SetReadOnly(true);
  EXPECT_OK(engine->Execute("SELECT * FROM u").status());
  engine->SetReadOnly(false);
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(seen.size(), before);
    denied = "";
  }
  auto rows = engine->Execute("SELECT v FROM u ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->rows[0][0], Value("dba"));
}

}  // namespace
}  // namespace shale::tablet::engine
