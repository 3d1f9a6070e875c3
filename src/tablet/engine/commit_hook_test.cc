// CommitHook: every write transaction, autocommit, interactive or internal,
// calls the hook through WriteTxn; what BeforeCommit writes commits with the
// data, and a BeforeCommit error rolls both back.

#include "tablet/engine/commit_hook.h"

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/engine/engine.h"
#include "tablet/engine/engine_test_util.h"

namespace shale::tablet::engine {
namespace {

using absl::StatusCode;
using ::testing::ElementsAre;
using testing::IsSqlError;
using testing::OpenEngine;
using ::testing::Pair;
using testing::Scalar;
using testing::TempDir;

// Writes one row per committed transaction into _shale_hooklog, in the
// transaction itself: a stand-in for the replication log.
class LoggingHook : public CommitHook {
 public:
  absl::Status AfterBegin(sqlite3* db) override {
    absl::MutexLock lock(&mu_);
    ++begins_;
    writes_.clear();
    if (fail_begin_) return absl::UnavailableError("hook cannot begin");
    return absl::OkStatus();
  }

  void OnWrite(sqlite3* db, absl::string_view sql, bool is_ddl) override {
    absl::MutexLock lock(&mu_);
    writes_.emplace_back(std::string(sql), is_ddl);
    all_writes_.emplace_back(std::string(sql), is_ddl);
  }

  absl::Status BeforeCommit(sqlite3* db) override {
    absl::MutexLock lock(&mu_);
    ++before_commits_;
    std::string sql = absl::StrCat(
        "CREATE TABLE IF NOT EXISTS _shale_hooklog(seq INTEGER PRIMARY KEY, writes INTEGER);"
        "INSERT INTO _shale_hooklog(writes) VALUES (",
        writes_.size(), ")");
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      return SqliteError(sqlite3_errcode(db), db);
    }
    if (fail_commit_) {
      return SqlError(StatusCode::kUnavailable, "40001", "log append refused by test hook");
    }
    return absl::OkStatus();
  }

  void AfterCommit(sqlite3* db) override {
    absl::MutexLock lock(&mu_);
    ++commits_;
  }

  void AfterRollback(sqlite3* db) override {
    absl::MutexLock lock(&mu_);
    ++rollbacks_;
  }

  void set_fail_commit(bool fail) {
    absl::MutexLock lock(&mu_);
    fail_commit_ = fail;
  }
  void set_fail_begin(bool fail) {
    absl::MutexLock lock(&mu_);
    fail_begin_ = fail;
  }
  int begins() const {
    absl::MutexLock lock(&mu_);
    return begins_;
  }
  int before_commits() const {
    absl::MutexLock lock(&mu_);
    return before_commits_;
  }
  int commits() const {
    absl::MutexLock lock(&mu_);
    return commits_;
  }
  int rollbacks() const {
    absl::MutexLock lock(&mu_);
    return rollbacks_;
  }
  std::vector<std::pair<std::string, bool>> all_writes() const {
    absl::MutexLock lock(&mu_);
    return all_writes_;
  }

 private:
  mutable absl::Mutex mu_;
  bool fail_commit_ ABSL_GUARDED_BY(mu_) = false;
  bool fail_begin_ ABSL_GUARDED_BY(mu_) = false;
  int begins_ ABSL_GUARDED_BY(mu_) = 0;
  int before_commits_ ABSL_GUARDED_BY(mu_) = 0;
  int commits_ ABSL_GUARDED_BY(mu_) = 0;
  int rollbacks_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::pair<std::string, bool>> writes_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, bool>> all_writes_ ABSL_GUARDED_BY(mu_);
};

class CommitHookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.commit_hook = &hook_;
    engine_ = OpenEngine(dir_, options);
    ASSERT_NE(engine_, nullptr);
    ASSERT_OK(engine_->Execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)").status());
  }

  // The hook log as rows of `writes`.
  std::vector<Value> HookLog() {
    auto rs = engine_->Execute("SELECT writes FROM _shale_hooklog ORDER BY seq");
    EXPECT_TRUE(rs.ok()) << rs.status();
    std::vector<Value> out;
    if (rs.ok()) {
      for (const Row& row : rs->rows) out.push_back(row[0]);
    }
    return out;
  }

  int64_t Count() {
    Value v = Scalar(engine_->Execute("SELECT count(*) FROM t"));
    return v.type() == Value::Type::kInt64 ? v.int64() : -1;
  }

  LoggingHook hook_;  // outlives engine_
  TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(CommitHookTest, AutocommitWriteLogsInTheSameTransaction) {
  ASSERT_OK(engine_->Execute("INSERT INTO t VALUES (1, 'a')").status());
  // CREATE TABLE (setup) and the INSERT: one log row each, one write each.
  EXPECT_THAT(HookLog(), ElementsAre(Value(1), Value(1)));
  EXPECT_EQ(hook_.commits(), 2);
  EXPECT_THAT(hook_.all_writes(),
              ElementsAre(Pair("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)", true),
                          Pair("INSERT INTO t VALUES (1, 'a')", false)));
  // Reads never open a write transaction.
  ASSERT_OK(engine_->Execute("SELECT * FROM t").status());
  EXPECT_EQ(hook_.begins(), 2);
}

TEST_F(CommitHookTest, InteractiveTransactionCommitsOnce) {
  ASSERT_OK_AND_ASSIGN(TxnId txn, engine_->Begin());
  ASSERT_OK(engine_->Execute(txn, "INSERT INTO t VALUES (1, 'a')").status());
  ASSERT_OK(engine_->Execute(txn, "SELECT * FROM t").status());
  ASSERT_OK(engine_->Execute(txn, "INSERT INTO t VALUES (2, 'b')").status());
  ASSERT_OK(engine_->Commit(txn));
  EXPECT_THAT(HookLog(), ElementsAre(Value(1), Value(2)));
  EXPECT_EQ(Count(), 2);
}

TEST_F(CommitHookTest, RollbackSkipsBeforeCommit) {
  int before = hook_.before_commits();
  ASSERT_OK_AND_ASSIGN(TxnId txn, engine_->Begin());
  ASSERT_OK(engine_->Execute(txn, "INSERT INTO t VALUES (1, 'a')").status());
  ASSERT_OK(engine_->Rollback(txn));
  EXPECT_EQ(hook_.before_commits(), before);
  EXPECT_EQ(hook_.rollbacks(), 1);
  EXPECT_THAT(HookLog(), ElementsAre(Value(1)));
}

TEST_F(CommitHookTest, FailingHookRollsBackAutocommitWrite) {
  hook_.set_fail_commit(true);
  auto rs = engine_->Execute("INSERT INTO t VALUES (1, 'a')");
  EXPECT_THAT(rs, IsSqlError(StatusCode::kUnavailable, "40001"));
  EXPECT_EQ(rs.status().message(), "log append refused by test hook");
  EXPECT_EQ(hook_.rollbacks(), 1);
  hook_.set_fail_commit(false);
  EXPECT_EQ(Count(), 0);                          // the data was rolled back...
  EXPECT_THAT(HookLog(), ElementsAre(Value(1)));  // ...and so was the hook's row
}

TEST_F(CommitHookTest, FailingHookRollsBackInteractiveCommit) {
  ASSERT_OK_AND_ASSIGN(TxnId txn, engine_->Begin());
  ASSERT_OK(engine_->Execute(txn, "INSERT INTO t VALUES (1, 'a')").status());
  hook_.set_fail_commit(true);
  EXPECT_THAT(engine_->Commit(txn), IsSqlError(StatusCode::kUnavailable, "40001"));
  hook_.set_fail_commit(false);
  EXPECT_THAT(engine_->Execute(txn, "SELECT 1"), IsSqlError(StatusCode::kNotFound, "25P01"));
  EXPECT_EQ(Count(), 0);
  EXPECT_THAT(HookLog(), ElementsAre(Value(1)));
  EXPECT_OK(engine_->Execute("INSERT INTO t VALUES (1, 'a')").status());  // writer is free
}

TEST_F(CommitHookTest, FailingAfterBeginFailsBegin) {
  hook_.set_fail_begin(true);
  EXPECT_EQ(engine_->Begin().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(engine_->Execute("INSERT INTO t VALUES (1, 'a')").status().code(),
            StatusCode::kUnavailable);
  hook_.set_fail_begin(false);
  EXPECT_OK(engine_->Execute("INSERT INTO t VALUES (1, 'a')").status());
  EXPECT_EQ(Count(), 1);
}

TEST_F(CommitHookTest, InternalWritesUseTheSamePath) {
  int before = hook_.commits();
  ASSERT_OK(engine_->ExecuteInternal("CREATE TABLE _shale_state(k TEXT PRIMARY KEY, v)").status());
  ASSERT_OK(engine_->RunInternalWrite([](WriteTxn& txn) {
    RETURN_IF_ERROR(
        txn.Execute("INSERT INTO _shale_state VALUES ('a', 1)", {}, Access::kInternal).status());
    return txn.Execute("INSERT INTO t VALUES (1, 'x')", {}, Access::kInternal).status();
  }));
  EXPECT_EQ(hook_.commits(), before + 2);
  EXPECT_THAT(HookLog(), ElementsAre(Value(1), Value(1), Value(2)));
  // An internal transaction whose body fails is rolled back whole.
  absl::Status s = engine_->RunInternalWrite([](WriteTxn& txn) {
    RETURN_IF_ERROR(
        txn.Execute("INSERT INTO _shale_state VALUES ('b', 2)", {}, Access::kInternal).status());
    return absl::AbortedError("changed my mind");
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(Scalar(engine_->Execute("SELECT count(*) FROM _shale_state")), Value(1));
}

}  // namespace
}  // namespace shale::tablet::engine
