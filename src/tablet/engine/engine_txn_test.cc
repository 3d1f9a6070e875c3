// Engine: interactive transactions, concurrency with readers, writer waits
// and the idle reaper.

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/engine/engine.h"
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

class EngineTxnTest : public ::testing::Test {
 protected:
  void Open(EngineOptions options = {}) {
    engine_ = OpenEngine(dir_, std::move(options));
    ASSERT_NE(engine_, nullptr);
    ASSERT_OK(
        engine_->Execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)").status());
  }

  int64_t Count() {
    Value v = Scalar(engine_->Execute("SELECT count(*) FROM t"));
    return v.type() == Value::Type::kInt64 ? v.int64() : -1;
  }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTxnTest, CommitPublishesAndRollbackDiscards) {
  Open();
  ASSERT_OK_AND_ASSIGN(TxnId txn, engine_->Begin());
  ASSERT_OK(engine_->Execute(txn, "INSERT INTO t VALUES (1, 'a')").status());
  EXPECT_EQ(Scalar(engine_->Execute(txn, "SELECT count(*) FROM t")), Value(1));
  EXPECT_EQ(Count(), 0);  // readers see committed data only
  ASSERT_OK(engine_->Commit(txn));
  EXPECT_EQ(Count(), 1);

  ASSERT_OK_AND_ASSIGN(TxnId second, engine_->Begin());
  EXPECT_GT(second.value(), txn.value());
  ASSERT_OK(engine_->Execute(second, "DELETE FROM t").status());
  ASSERT_OK(engine_->Rollback(second));
  EXPECT_EQ(Count(), 1);
  EXPECT_EQ(engine_->Stats().open_transactions, 0);
  EXPECT_EQ(engine_->Stats().transactions_begun, 2);
}

TEST_F(EngineTxnTest, UnknownAndEndedTransactionsAreNotFound) {
  Open();
  EXPECT_THAT(engine_->Execute(TxnId(12345), "SELECT 1"),
              IsSqlError(StatusCode::kNotFound, "25P01"));
  EXPECT_THAT(engine_->Commit(TxnId(12345)), IsSqlError(StatusCode::kNotFound, "25P01"));
  ASSERT_OK_AND_ASSIGN(TxnId txn, engine_->Begin());
  ASSERT_OK(engine_->Commit(txn));
  EXPECT_THAT(engine_->Execute(txn, "SELECT 1"), IsSqlError(StatusCode::kNotFound, "25P01"));
  EXPECT_THAT(engine_->Rollback(txn), IsSqlError(StatusCode::kNotFound, "25P01"));
}

TEST_F(EngineTxnTest, FailedStatementKeepsTransactionOpen) {
  Open();
  ASSERT_OK_AND_ASSIGN(TxnId txn, engine_->Begin());
  ASSERT_OK(engine_->Execute(txn, "INSERT INTO t VALUES (1, 'a')").status());
  EXPECT_THAT(engine_->Execute(txn, "INSERT INTO t VALUES (1, 'dup')"),
              IsSqlError(StatusCode::kAlreadyExists, "23505"));
  EXPECT_THAT(engine_->Execute(txn, "SELEC"), IsSqlError(StatusCode::kInvalidArgument, "42601"));
  ASSERT_OK(engine_->Execute(txn, "INSERT INTO t VALUES (2, 'b')").status());
  ASSERT_OK(engine_->Commit(txn));
  EXPECT_EQ(Count(), 2);
}

// While a write transaction holds the writer, reads on the reader pool go on
// at once (4 of them at the same time) and see only committed rows.
TEST_F(EngineTxnTest, ReadsRunConcurrentlyWithOpenWriteTransaction) {
  EngineOptions options;
  options.reader_connections = 4;
  options.writer_wait = absl::Milliseconds(20);  // a read that needed the writer would fail
  Open(options);
  ASSERT_OK(engine_->Execute("INSERT INTO t VALUES (1, 'committed')").status());
  ASSERT_OK_AND_ASSIGN(TxnId writer, engine_->Begin());
  ASSERT_OK(engine_->Execute(writer, "INSERT INTO t VALUES (2, 'pending')").status());
  ASSERT_OK(engine_->Execute(writer, "UPDATE t SET v = 'changed' WHERE id = 1").status());

  // Four read transactions open at once: one per reader connection.
  std::vector<TxnId> readers;
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK_AND_ASSIGN(TxnId r, engine_->Begin(TxnMode::kReadOnly));
    readers.push_back(r);
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (TxnId r : readers) {
    threads.emplace_back([&, r] {
      for (int i = 0; i < 50; ++i) {
        auto rs = engine_->Execute(r, "SELECT group_concat(v) FROM t");
        if (!rs.ok() || rs->rows[0][0] != Value("committed")) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (TxnId r : readers) ASSERT_OK(engine_->Commit(r));

  // Autocommit reads from several threads at once, too.
  threads.clear();
  for (int n = 0; n < 4; ++n) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto rs = engine_->Execute("SELECT count(*), max(v) FROM t");
        if (!rs.ok() || rs->rows[0][0] != Value(1) || rs->rows[0][1] != Value("committed")) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);

  ASSERT_OK(engine_->Commit(writer));
  EXPECT_EQ(Count(), 2);
}

TEST_F(EngineTxnTest, ReadOnlyTransactionKeepsItsSnapshot) {
  Open();
  ASSERT_OK(engine_->Execute("INSERT INTO t VALUES (1, 'a')").status());
  ASSERT_OK_AND_ASSIGN(TxnId reader, engine_->Begin(TxnMode::kReadOnly));
  ASSERT_OK(engine_->Execute("INSERT INTO t VALUES (2, 'b')").status());
  EXPECT_EQ(Scalar(engine_->Execute(reader, "SELECT count(*) FROM t")), Value(1));
  auto write = engine_->Execute(reader, "DELETE FROM t");
  EXPECT_THAT(write, IsSqlError(StatusCode::kFailedPrecondition, "25006"));
  EXPECT_THAT(std::string(write.status().message()), HasSubstr("is read-only"));
  ASSERT_OK(engine_->Commit(reader));
  EXPECT_EQ(Count(), 2);
}

TEST_F(EngineTxnTest, OtherWritersWaitBoundedForTheWriter) {
  EngineOptions options;
  options.writer_wait = absl::Milliseconds(50);
  Open(options);
  ASSERT_OK_AND_ASSIGN(TxnId txn, engine_->Begin());
  auto blocked = engine_->Execute("INSERT INTO t VALUES (1, 'a')");
  EXPECT_THAT(blocked, IsSqlError(StatusCode::kDeadlineExceeded, "55P03"));
  EXPECT_THAT(std::string(blocked.status().message()), HasSubstr("writer connection"));
  EXPECT_THAT(engine_->Begin(), IsSqlError(StatusCode::kDeadlineExceeded, "55P03"));
  ASSERT_OK(engine_->Rollback(txn));
  EXPECT_OK(engine_->Execute("INSERT INTO t VALUES (1, 'a')").status());
}

TEST_F(EngineTxnTest, WaitingWriterProceedsAfterCommit) {
  EngineOptions options;
  options.writer_wait = absl::Seconds(30);
  Open(options);
  ASSERT_OK_AND_ASSIGN(TxnId txn, engine_->Begin());
  ASSERT_OK(engine_->Execute(txn, "INSERT INTO t VALUES (1, 'first')").status());
  absl::Status waiter_status;
  std::thread waiter(
      [&] { waiter_status = engine_->Execute("UPDATE t SET v = 'second' WHERE id = 1").status(); });
  ASSERT_OK(engine_->Commit(txn));
  waiter.join();
  EXPECT_OK(waiter_status);
  // The UPDATE waited for the writer, so it ran after the commit and saw the row.
  EXPECT_EQ(Scalar(engine_->Execute("SELECT v FROM t WHERE id = 1")), Value("second"));
}

TEST_F(EngineTxnTest, IdleTransactionIsRolledBackByTheReaper) {
  absl::Notification reaped;
  EngineOptions options;
  options.idle_timeout = absl::Milliseconds(100);
  options.on_txn_reaped = [&](TxnId) { reaped.Notify(); };
  Open(options);
  ASSERT_OK_AND_ASSIGN(TxnId txn, engine_->Begin());
  ASSERT_OK(engine_->Execute(txn, "INSERT INTO t VALUES (1, 'never committed')").status());
  ASSERT_TRUE(reaped.WaitForNotificationWithTimeout(absl::Seconds(10)));

  const std::string want =
      absl::StrCat("transaction ", txn.value(), " was rolled back after 100ms idle");
  auto late = engine_->Execute(txn, "SELECT 1");
  EXPECT_THAT(late, IsSqlError(StatusCode::kAborted, "25P03"));
  EXPECT_EQ(late.status().message(), want);
  EXPECT_THAT(engine_->Commit(txn), IsSqlError(StatusCode::kAborted, "25P03"));
  EXPECT_EQ(Count(), 0);
  EXPECT_EQ(engine_->Stats().transactions_reaped, 1);
  EXPECT_EQ(engine_->Stats().open_transactions, 0);
  // The writer was given back.
  EXPECT_OK(engine_->Execute("INSERT INTO t VALUES (1, 'a')").status());
}

// A transaction in the middle of a call is never reaped, however long the
// call takes: here a read transaction streams while another one is reaped.
TEST_F(EngineTxnTest, BusyTransactionIsNotReaped) {
  absl::Notification reaped;
  std::atomic<int64_t> reaped_id{0};
  EngineOptions options;
  options.idle_timeout = absl::Milliseconds(200);
  options.on_txn_reaped = [&](TxnId id) {
    reaped_id = id.value();
    reaped.Notify();
  };
  Open(options);
  ASSERT_OK(engine_->Execute("INSERT INTO t VALUES (1, 'a')").status());
  ASSERT_OK_AND_ASSIGN(TxnId busy, engine_->Begin(TxnMode::kReadOnly));
  ASSERT_OK_AND_ASSIGN(TxnId idle, engine_->Begin());
  bool saw_reap = false;
  auto rs = engine_->ExecuteStream(
      busy, "SELECT id FROM t", {}, [&](absl::Span<const Column>, absl::Span<const Value>) {
        saw_reap = reaped.WaitForNotificationWithTimeout(absl::Seconds(10));
        return absl::OkStatus();
      });
  ASSERT_TRUE(rs.ok()) << rs.status();
  EXPECT_TRUE(saw_reap);
  EXPECT_EQ(reaped_id.load(), idle.value());
  EXPECT_OK(engine_->Commit(busy));
  EXPECT_THAT(engine_->Rollback(idle), IsSqlError(StatusCode::kAborted, "25P03"));
}

TEST_F(EngineTxnTest, BecomingReadOnlyRefusesFurtherWritesAndTheCommit) {
  Open();
  ASSERT_OK_AND_ASSIGN(TxnId txn, engine_->Begin());
  ASSERT_OK(engine_->Execute(txn, "INSERT INTO t VALUES (1, 'a')").status());
  engine_->SetReadOnly(true);
  EXPECT_THAT(engine_->Execute(txn, "INSERT INTO t VALUES (2, 'b')"),
              IsSqlError(StatusCode::kFailedPrecondition, "25006"));
  EXPECT_THAT(engine_->Execute(txn, "SELECT count(*) FROM t"), IsOk());
  auto commit = engine_->Commit(txn);
  EXPECT_THAT(commit, IsSqlError(StatusCode::kFailedPrecondition, "25006"));
  EXPECT_THAT(std::string(commit.message()), HasSubstr("was rolled back"));
  engine_->SetReadOnly(false);
  EXPECT_EQ(Count(), 0);
  EXPECT_OK(engine_->Execute("INSERT INTO t VALUES (1, 'a')").status());  // writer is free
}

TEST_F(EngineTxnTest, ClosingTheEngineRollsBackOpenTransactions) {
  Open();
  ASSERT_OK_AND_ASSIGN(TxnId txn, engine_->Begin());
  ASSERT_OK(engine_->Execute(txn, "INSERT INTO t VALUES (1, 'a')").status());
  ASSERT_OK_AND_ASSIGN(TxnId reader, engine_->Begin(TxnMode::kReadOnly));
  (void)reader;
  engine_.reset();
  Open();
  EXPECT_EQ(Count(), 0);
}

}  // namespace
}  // namespace shale::tablet::engine
