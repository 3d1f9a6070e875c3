#include "tablet/engine/sqlite_errors.h"

#include <sqlite3.h>

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/engine/engine_test_util.h"

namespace shale::tablet::engine {
namespace {

using absl::StatusCode;
using ::testing::HasSubstr;
using testing::IsSqlError;
using testing::OpenEngine;
using testing::TempDir;

TEST(SqlStateTest, PayloadHelper) {
  EXPECT_EQ(SqlState(absl::OkStatus()), "00000");
  EXPECT_EQ(SqlState(absl::InternalError("no payload")), "XX000");
  EXPECT_EQ(SqlState(SqlError(StatusCode::kAborted, "40001", "retry")), "40001");
  absl::Status s = WithSqlState(absl::NotFoundError("x"), "42P01");
  EXPECT_EQ(s.GetPayload(kSqlStateTypeUrl).value(), "42P01");
  EXPECT_EQ(SqlState(WithSqlState(s, "XX001")), "XX001");
  EXPECT_TRUE(WithSqlState(absl::OkStatus(), "42P01").ok());
}

// The pure mapping, for codes that a statement cannot provoke on demand.
TEST(SqliteCodeToStatusTest, Table) {
  struct Case {
    int rc;
    const char* message;
    StatusCode code;
    const char* sqlstate;
  };
  const std::vector<Case> cases = {
      {SQLITE_CONSTRAINT_PRIMARYKEY, "UNIQUE constraint failed: t.id", StatusCode::kAlreadyExists,
       "23505"},
      {SQLITE_CONSTRAINT_UNIQUE, "UNIQUE constraint failed: t.v", StatusCode::kAlreadyExists,
       "23505"},
      {SQLITE_CONSTRAINT_ROWID, "", StatusCode::kAlreadyExists, "23505"},
      {SQLITE_CONSTRAINT_NOTNULL, "", StatusCode::kInvalidArgument, "23502"},
      {SQLITE_CONSTRAINT_CHECK, "", StatusCode::kInvalidArgument, "23514"},
      {SQLITE_CONSTRAINT_FOREIGNKEY, "", StatusCode::kInvalidArgument, "23503"},
      {SQLITE_CONSTRAINT_TRIGGER, "custom", StatusCode::kInvalidArgument, "23000"},
      // Only the primary code: the message decides.
      {SQLITE_CONSTRAINT, "NOT NULL constraint failed: t.v", StatusCode::kInvalidArgument, "23502"},
      {SQLITE_CONSTRAINT, "UNIQUE constraint failed: t.v", StatusCode::kAlreadyExists, "23505"},
      {SQLITE_ERROR, "near \"SELEC\": syntax error", StatusCode::kInvalidArgument, "42601"},
      {SQLITE_ERROR, "no such table: t", StatusCode::kNotFound, "42P01"},
      {SQLITE_ERROR, "no such column: c", StatusCode::kInvalidArgument, "42703"},
      {SQLITE_ERROR, "table t already exists", StatusCode::kAlreadyExists, "42P07"},
      {SQLITE_ERROR, "misuse of aggregate: max()", StatusCode::kInvalidArgument, "42000"},
      {SQLITE_BUSY, "database is locked", StatusCode::kAborted, "40001"},
      {SQLITE_BUSY_SNAPSHOT, "", StatusCode::kAborted, "40001"},
      {SQLITE_LOCKED, "database table is locked", StatusCode::kAborted, "40001"},
      {SQLITE_LOCKED_SHAREDCACHE, "", StatusCode::kAborted, "40001"},
      {SQLITE_SCHEMA, "database schema has changed", StatusCode::kAborted, "40001"},
      {SQLITE_READONLY, "attempt to write a readonly database", StatusCode::kFailedPrecondition,
       "25006"},
      {SQLITE_READONLY_DBMOVED, "", StatusCode::kFailedPrecondition, "25006"},
      {SQLITE_FULL, "database or disk is full", StatusCode::kResourceExhausted, "53100"},
      {SQLITE_NOMEM, "out of memory", StatusCode::kResourceExhausted, "53200"},
      {SQLITE_CORRUPT, "database disk image is malformed", StatusCode::kDataLoss, "XX001"},
      {SQLITE_CORRUPT_INDEX, "", StatusCode::kDataLoss, "XX001"},
      {SQLITE_NOTADB, "file is not a database", StatusCode::kDataLoss, "XX001"},
      {SQLITE_AUTH, "not authorized", StatusCode::kPermissionDenied, "42501"},
      {SQLITE_INTERRUPT, "interrupted", StatusCode::kCancelled, "57014"},
      {SQLITE_TOOBIG, "string or blob too big", StatusCode::kInvalidArgument, "54000"},
      {SQLITE_IOERR_FSYNC, "disk I/O error", StatusCode::kInternal, "58030"},
      {SQLITE_CANTOPEN, "unable to open database file", StatusCode::kInternal, "58030"},
      {SQLITE_INTERNAL, "internal logic error", StatusCode::kInternal, "XX000"},
      {SQLITE_MISUSE, "bad parameter or other API misuse", StatusCode::kInternal, "XX000"},
      {SQLITE_PROTOCOL, "locking protocol", StatusCode::kInternal, "XX000"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("rc=", c.rc, " message=", c.message));
    absl::Status s = SqliteCodeToStatus(c.rc, c.message);
    EXPECT_THAT(s, IsSqlError(c.code, c.sqlstate));
    EXPECT_EQ(s.message(), c.message);
  }
}

TEST(SqliteCodeToStatusTest, MessageFoldedOntoOneLine) {
  absl::Status s = SqliteCodeToStatus(SQLITE_ERROR, "first\nsecond\r\nthird");
  EXPECT_EQ(s.message(), "first second third");
}

// Each SQLSTATE provoked by a real statement through the engine.
TEST(SqliteErrorsThroughEngineTest, Statements) {
  TempDir dir;
  auto engine = OpenEngine(dir);
  ASSERT_NE(engine, nullptr);
  for (const char* sql : {
           "CREATE TABLE parent(id INTEGER PRIMARY KEY)",
           "CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), "
           "qty INTEGER NOT NULL CHECK (qty > 0), code TEXT UNIQUE)",
           "CREATE TABLE strict_t(id INTEGER PRIMARY KEY, n INTEGER) STRICT",
           "INSERT INTO parent VALUES (1)",
           "INSERT INTO child VALUES (1, 1, 5, 'a')",
       }) {
    ASSERT_OK(engine->Execute(sql).status());
  }
  struct Case {
    const char* sql;
    StatusCode code;
    const char* sqlstate;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"INSERT INTO child VALUES (1, 1, 1, 'b')", StatusCode::kAlreadyExists, "23505",
       "UNIQUE constraint failed: child.id"},
      {"INSERT INTO child VALUES (2, 1, 1, 'a')", StatusCode::kAlreadyExists, "23505",
       "UNIQUE constraint failed: child.code"},
      {"INSERT INTO child VALUES (2, 1, NULL, 'b')", StatusCode::kInvalidArgument, "23502",
       "NOT NULL constraint failed: child.qty"},
      {"INSERT INTO child VALUES (2, 1, 0, 'b')", StatusCode::kInvalidArgument, "23514",
       "CHECK constraint failed"},
      {"INSERT INTO child VALUES (2, 99, 1, 'b')", StatusCode::kInvalidArgument, "23503",
       "FOREIGN KEY constraint failed"},
      {"INSERT INTO strict_t VALUES (1, 'abc')", StatusCode::kInvalidArgument, "42804",
       "cannot store TEXT value in INTEGER column"},
      {"SELEC 1", StatusCode::kInvalidArgument, "42601", "syntax error"},
      {"SELECT (1", StatusCode::kInvalidArgument, "42601", "incomplete input"},
      {"SELECT * FROM missing", StatusCode::kNotFound, "42P01", "no such table: missing"},
      {"DELETE FROM missing", StatusCode::kNotFound, "42P01", "no such table: missing"},
      {"SELECT nope FROM child", StatusCode::kInvalidArgument, "42703", "no such column: nope"},
      {"SELECT no_such_function(1)", StatusCode::kInvalidArgument, "42883",
       "no such function: no_such_function"},
      {"CREATE TABLE parent(id INTEGER PRIMARY KEY)", StatusCode::kAlreadyExists, "42P07",
       "table parent already exists"},
      {"SELECT 1; SELECT 2", StatusCode::kInvalidArgument, "42601", "only one statement"},
      {"SELECT ?1, ?2", StatusCode::kInvalidArgument, "08P01",
       "statement has 2 parameter(s) but 0 value(s) were bound"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sql);
    auto rs = engine->Execute(c.sql);
    EXPECT_THAT(rs, IsSqlError(c.code, c.sqlstate));
    EXPECT_THAT(std::string(rs.status().message()), HasSubstr(c.message));
  }
  // Nothing of the failed statements stuck.
  auto count = engine->Execute("SELECT count(*) FROM child");
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(count->rows[0][0], Value(1));
}

// Another process holding SQLite's write lock: the engine's BEGIN IMMEDIATE
// gives up after busy_timeout with a retryable serialization failure.
TEST(SqliteErrorsThroughEngineTest, BusyIsSerializationFailure) {
  TempDir dir;
  EngineOptions options;
  options.busy_timeout = absl::Milliseconds(50);
  auto engine = OpenEngine(dir, options);
  ASSERT_NE(engine, nullptr);
  ASSERT_OK(engine->Execute("CREATE TABLE t(id INTEGER PRIMARY KEY)").status());

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(dir.File("db.sqlite").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto rs = engine->Execute("INSERT INTO t VALUES (1)");
  EXPECT_THAT(rs, IsSqlError(StatusCode::kAborted, "40001"));
  EXPECT_THAT(std::string(rs.status().message()), HasSubstr("database is locked"));
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  // The writer was given back: the retry succeeds.
  EXPECT_OK(engine->Execute("INSERT INTO t VALUES (1)").status());
}

TEST(SqliteErrorsThroughEngineTest, ReadOnlyDatabaseWrite) {
  TempDir dir;
  auto engine = OpenEngine(dir);
  ASSERT_NE(engine, nullptr);
  ASSERT_OK(engine->Execute("CREATE TABLE t(id INTEGER PRIMARY KEY)").status());
  absl::Status insert_status;
  absl::Status s = engine->RunInternalWrite([&](WriteTxn& txn) {
    RETURN_IF_ERROR(txn.Execute("PRAGMA query_only = ON", {}, Access::kInternal).status());
    insert_status = txn.Execute("INSERT INTO t VALUES (1)", {}, Access::kInternal).status();
    RETURN_IF_ERROR(txn.Execute("PRAGMA query_only = OFF", {}, Access::kInternal).status());
    return insert_status;
  });
  EXPECT_THAT(s, IsSqlError(StatusCode::kFailedPrecondition, "25006"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("readonly database"));
  EXPECT_OK(engine->Execute("INSERT INTO t VALUES (1)").status());
}

TEST(SqliteErrorsThroughEngineTest, DiskFullAndRecovery) {
  TempDir dir;
  auto engine = OpenEngine(dir);
  ASSERT_NE(engine, nullptr);
  ASSERT_OK(engine->Execute("CREATE TABLE t(id INTEGER PRIMARY KEY, data BLOB)").status());
  // Cap the file a few pages above its size: a big row no longer fits.
  ASSERT_OK(engine->RunInternalWrite([](WriteTxn& txn) {
    return txn.Execute("PRAGMA max_page_count = 8", {}, Access::kInternal).status();
  }));
  auto rs = engine->Execute("INSERT INTO t VALUES (1, zeroblob(1000000))");
  EXPECT_THAT(rs, IsSqlError(StatusCode::kResourceExhausted, "53100"));
  EXPECT_THAT(std::string(rs.status().message()), HasSubstr("full"));
  ASSERT_OK(engine->RunInternalWrite([](WriteTxn& txn) {
    return txn.Execute("PRAGMA max_page_count = 1000000", {}, Access::kInternal).status();
  }));
  EXPECT_OK(engine->Execute("INSERT INTO t VALUES (1, zeroblob(1000000))").status());
}

TEST(SqliteErrorsThroughEngineTest, NotADatabaseIsDataLoss) {
  TempDir dir;
  {
    std::ofstream garbage(dir.File("db.sqlite"), std::ios::binary);
    garbage << std::string(8192, 'g');
  }
  auto engine = Engine::Open(dir.File("db.sqlite"));
  EXPECT_THAT(engine, IsSqlError(StatusCode::kDataLoss, "XX001"));
  EXPECT_THAT(std::string(engine.status().message()), HasSubstr("not a database"));
}

TEST(SqliteErrorsThroughEngineTest, UnopenablePath) {
  TempDir dir;
  auto engine = Engine::Open(dir.File("no/such/dir/db.sqlite"));
  EXPECT_THAT(engine, IsSqlError(StatusCode::kInternal, "58030"));
  EXPECT_THAT(std::string(engine.status().message()), HasSubstr("unable to open"));
}

}  // namespace
}  // namespace shale::tablet::engine
