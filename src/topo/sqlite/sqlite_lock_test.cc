// Locks of the sqlite backend: exclusion, waiting, lease renewal and expiry,
// including a holder killed with SIGKILL.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "topo/sqlite/sqlite_conn.h"
#include "topo/sqlite/sqlite_lock.h"

namespace shale::topo {
namespace {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/sqlite_lock_test.XXXXXX");
    EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

 private:
  std::string path_;
};

std::unique_ptr<SqliteConn> MustOpen(const std::string& path, absl::Duration ttl) {
  ConnOptions options;
  options.lock_ttl = ttl;
  auto conn = SqliteConn::Open(path, options);
  EXPECT_TRUE(conn.ok()) << conn.status();
  return conn.ok() ? std::move(*conn) : nullptr;
}

TEST(SqliteLockTest, ExcludesAndReleases) {
  TempDir dir;
  auto a = MustOpen(dir.File("topo.db"), absl::Seconds(10));
  auto b = MustOpen(dir.File("topo.db"), absl::Seconds(10));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto held = a->Lock("/ks/app", "reshard", absl::Seconds(1));
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_TRUE((*held)->Check().ok());
  // The lock is an ordinary node for readers.
  EXPECT_EQ(b->Get("/ks/app/locks/lock")->value, "reshard");

  auto other = b->Lock("/ks/app", "other", absl::Milliseconds(50));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kDeadlineExceeded);
  auto same_conn = a->Lock("/ks/app", "other", absl::ZeroDuration());
  EXPECT_EQ(same_conn.status().code(), absl::StatusCode::kDeadlineExceeded);
  // A different directory is a different lock.
  EXPECT_TRUE(b->Lock("/ks/other", "x", absl::ZeroDuration()).ok());

  EXPECT_TRUE((*held)->Unlock().ok());
  EXPECT_EQ((*held)->Check().code(), absl::StatusCode::kAborted);
  EXPECT_EQ((*held)->Unlock().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(b->Get("/ks/app/locks/lock").status().code(), absl::StatusCode::kNotFound);
  auto next = b->Lock("/ks/app", "next", absl::ZeroDuration());
  EXPECT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(a->Lock("bad", "", absl::ZeroDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SqliteLockTest, DestroyingTheHandleReleases) {
  TempDir dir;
  auto a = MustOpen(dir.File("topo.db"), absl::Seconds(10));
  ASSERT_NE(a, nullptr);
  {
    auto held = a->Lock("/d", "x", absl::ZeroDuration());
    ASSERT_TRUE(held.ok());
  }
  EXPECT_TRUE(a->Lock("/d", "y", absl::ZeroDuration()).ok());
}

TEST(SqliteLockTest, WaiterWakesWhenHolderUnlocks) {
  TempDir dir;
  for (bool same_conn : {false, true}) {
    SCOPED_TRACE(same_conn ? "same conn" : "two conns");
    auto a = MustOpen(dir.File("topo.db"), absl::Seconds(10));
    auto b = same_conn ? nullptr : MustOpen(dir.File("topo.db"), absl::Seconds(10));
    SqliteConn* waiter_conn = same_conn ? a.get() : b.get();
    auto held = a->Lock("/w", "first", absl::ZeroDuration());
    ASSERT_TRUE(held.ok());
    absl::StatusOr<std::unique_ptr<LockHandle>> waited;
    std::thread waiter([&] { waited = waiter_conn->Lock("/w", "second", absl::Seconds(20)); });
    // Gives the waiter time to start waiting (the lease alone would hold it for 10 s).
    EXPECT_EQ(a->Lock("/w", "third", absl::Milliseconds(50)).status().code(),
              absl::StatusCode::kDeadlineExceeded);
    EXPECT_TRUE((*held)->Unlock().ok());
    waiter.join();
    ASSERT_TRUE(waited.ok()) << waited.status();
    EXPECT_EQ(a->Get("/w/locks/lock")->value, "second");
  }
}

TEST(SqliteLockTest, RenewalKeepsTheLockPastItsTtl) {
  TempDir dir;
  auto a = MustOpen(dir.File("topo.db"), absl::Milliseconds(300));
  auto b = MustOpen(dir.File("topo.db"), absl::Milliseconds(300));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto held = a->Lock("/r", "x", absl::ZeroDuration());
  ASSERT_TRUE(held.ok());
  // Waits more than three ttls without getting the lock.
  EXPECT_EQ(b->Lock("/r", "y", absl::Seconds(1)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE((*held)->Check().ok());
}

TEST(SqliteLockTest, LeaseExpiresWhenHolderStopsRenewing) {
  TempDir dir;
  auto a = MustOpen(dir.File("topo.db"), absl::Milliseconds(300));
  auto b = MustOpen(dir.File("topo.db"), absl::Milliseconds(300));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto held = a->Lock("/e", "hung holder", absl::ZeroDuration());
  ASSERT_TRUE(held.ok());
  auto* sqlite_lock = dynamic_cast<sqlite_internal::SqliteLockHandle*>(held->get());
  ASSERT_NE(sqlite_lock, nullptr);
  sqlite_lock->StopRenewingForTesting();

  auto taken = b->Lock("/e", "new holder", absl::Seconds(20));
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(a->Get("/e/locks/lock")->value, "new holder");
  EXPECT_EQ((*held)->Check().code(), absl::StatusCode::kAborted);
  EXPECT_EQ((*held)->Unlock().code(), absl::StatusCode::kAborted);
  // The old holder's Unlock did not remove the new holder's lock.
  EXPECT_TRUE((*taken)->Check().ok());
  EXPECT_EQ(a->Get("/e/locks/lock")->value, "new holder");
}

TEST(SqliteLockTest, DeletingTheNodeBreaksTheLock) {
  TempDir dir;
  auto a = MustOpen(dir.File("topo.db"), absl::Seconds(10));
  ASSERT_NE(a, nullptr);
  auto held = a->Lock("/b", "x", absl::ZeroDuration());
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(a->Delete("/b/locks/lock", std::nullopt).ok());
  EXPECT_EQ((*held)->Check().code(), absl::StatusCode::kAborted);
}

// A real holder process killed with SIGKILL: the lock frees itself after ttl.
TEST(SqliteLockTest, HolderKilledWithSigkillLosesTheLock) {
  TempDir dir;
  const std::string path = dir.File("topo.db");
  const absl::Duration ttl = absl::Milliseconds(500);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  // Fork before this process starts any thread of its own.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    ConnOptions options;
    options.lock_ttl = ttl;
    auto conn = SqliteConn::Open(path, options);
    if (!conn.ok()) _exit(2);
    auto lock = (*conn)->Lock("/k", "child", absl::Seconds(5));
    if (!lock.ok()) _exit(3);
    char byte = 1;
    if (write(ready[1], &byte, 1) != 1) _exit(4);
    for (;;) pause();
  }
  close(ready[1]);
  char byte = 0;
  ssize_t n = read(ready[0], &byte, 1);
  close(ready[0]);
  ASSERT_EQ(n, 1) << "the child could not take the lock";
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto conn = MustOpen(path, ttl);
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(conn->Get("/k/locks/lock")->value, "child");
  auto taken = conn->Lock("/k", "parent", absl::Seconds(20));
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(conn->Get("/k/locks/lock")->value, "parent");
}

}  // namespace
}  // namespace shale::topo
