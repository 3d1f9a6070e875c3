#include "topo/sqlite/sqlite_conn.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "topo/sqlite/sqlite_lock.h"

namespace shale::topo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/sqlite_conn_test.XXXXXX");
    char* made = mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

 private:
  std::string path_;
};

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Collects watch events; tests wait on it with a deadline.
class EventLog {
 public:
  WatchCallback Callback() {
    return [this](const WatchEvent& e) {
      absl::MutexLock l(&mu_);
      events_.push_back(e);
    };
  }
  // True once at least n events arrived (false after 10 s).
  bool WaitForCount(size_t n) {
    absl::MutexLock l(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return events_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
  }
  // True once an event matching pred arrived (false after 10 s).
  template <typename Pred>
  bool WaitFor(Pred pred) {
    absl::MutexLock l(&mu_);
    auto found = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const auto& e : events_) {
        if (pred(e)) return true;
      }
      return false;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&found), absl::Seconds(10));
  }
  std::vector<WatchEvent> Events() {
    absl::MutexLock l(&mu_);
    return events_;
  }

 private:
  absl::Mutex mu_;
  std::vector<WatchEvent> events_ ABSL_GUARDED_BY(mu_);
};

std::unique_ptr<SqliteConn> MustOpen(const std::string& path, ConnOptions options = {},
                                     SqliteTuning tuning = {}) {
  auto conn = SqliteConn::Open(path, options, tuning);
  EXPECT_TRUE(conn.ok()) << conn.status();
  return conn.ok() ? std::move(*conn) : nullptr;
}

TEST(SqliteConnOpenTest, CreatesMissingFile) {
  TempDir dir;
  auto conn = MustOpen(dir.File("topo.db"));
  ASSERT_NE(conn, nullptr);
  EXPECT_TRUE(std::filesystem::exists(dir.File("topo.db")));
  ASSERT_TRUE(conn->Create("/a", "1").ok());
  EXPECT_EQ(conn->Get("/a")->value, "1");
}

TEST(SqliteConnOpenTest, MissingFileWithoutCreateIsNotFound) {
  TempDir dir;
  ConnOptions options;
  options.create_if_missing = false;
  auto conn = SqliteConn::Open(dir.File("topo.db"), options);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(conn.status().message(),
              HasSubstr(absl::StrCat("topology file ", dir.File("topo.db"), " does not exist")));
  EXPECT_FALSE(std::filesystem::exists(dir.File("topo.db")));
}

TEST(SqliteConnOpenTest, MissingDirectoryIsUnavailable) {
  TempDir dir;
  std::string path = dir.File("no/such/dir/topo.db");
  auto conn = SqliteConn::Open(path, {});
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(conn.status().message(), HasSubstr(path));
  EXPECT_EQ(conn.status().message().find('\n'), absl::string_view::npos);
}

TEST(SqliteConnOpenTest, GarbageFileIsRefusedUntouched) {
  TempDir dir;
  std::string path = dir.File("garbage.db");
  std::string garbage(8192, 'x');
  std::ofstream(path, std::ios::binary) << garbage;
  auto conn = SqliteConn::Open(path, {});
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(conn.status().message(), HasSubstr("not a Shale topology file"));
  EXPECT_EQ(ReadBytes(path), garbage);
}

TEST(SqliteConnOpenTest, ForeignSqliteDatabaseIsRefusedUntouched) {
  TempDir dir;
  std::string path = dir.File("other.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1);", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  std::string before = ReadBytes(path);
  auto conn = SqliteConn::Open(path, {});
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(conn.status().message(), HasSubstr("not a Shale topology file"));
  EXPECT_EQ(ReadBytes(path), before);
}

TEST(SqliteConnOpenTest, EmptyFileIsInitialised) {
  TempDir dir;
  std::string path = dir.File("empty.db");
  std::ofstream(path).close();
  ConnOptions options;
  options.create_if_missing = false;
  auto conn = MustOpen(path, options);
  ASSERT_NE(conn, nullptr);
  EXPECT_TRUE(conn->Create("/a", "1").ok());
}

TEST(SqliteConnOpenTest, ConcurrentFirstOpensAllSucceed) {
  TempDir dir;
  const std::string path = dir.File("raced.db");
  constexpr int kOpeners = 6;
  std::vector<absl::StatusOr<std::unique_ptr<SqliteConn>>> conns(kOpeners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      conns[i] = SqliteConn::Open(path, {});
      if (conns[i].ok()) (*conns[i])->Update(absl::StrCat("/n", i), "v", std::nullopt).IgnoreError();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kOpeners; ++i) ASSERT_TRUE(conns[i].ok()) << conns[i].status();
  auto entries = (*conns[0])->ListDir("/");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), static_cast<size_t>(kOpeners));
}

TEST(SqliteConnOpenTest, DataSurvivesReopen) {
  TempDir dir;
  Version v;
  {
    auto conn = MustOpen(dir.File("topo.db"));
    ASSERT_NE(conn, nullptr);
    v = *conn->Create("/keep/me", "value");
    ASSERT_TRUE(conn->Create("/keep/other", "").ok());
  }
  ConnOptions options;
  options.create_if_missing = false;
  auto conn = MustOpen(dir.File("topo.db"), options);
  ASSERT_NE(conn, nullptr);
  auto got = conn->Get("/keep/me");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->value, "value");
  EXPECT_EQ(got->version, v);
  EXPECT_EQ(conn->Get("/keep/other")->value, "");
  // Versions keep growing after a reopen.
  EXPECT_GT(*conn->Update("/keep/me", "2", std::nullopt), v + 1);
}

TEST(SqliteConnTest, CrudAndVersions) {
  TempDir dir;
  auto conn = MustOpen(dir.File("topo.db"));
  ASSERT_NE(conn, nullptr);
  auto v1 = conn->Create("/a/b", "one");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(conn->Create("/a/b", "again").status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(conn->Get("/a/c").status().code(), absl::StatusCode::kNotFound);

  EXPECT_EQ(conn->Update("/a/b", "x", *v1 + 100).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(conn->Update("/a/none", "x", 1).status().code(), absl::StatusCode::kNotFound);
  auto v2 = conn->Update("/a/b", "two", *v1);
  ASSERT_TRUE(v2.ok());
  EXPECT_GT(*v2, *v1);
  auto v3 = conn->Update("/a/new", "made", std::nullopt);
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(conn->Get("/a/new")->value, "made");

  EXPECT_EQ(conn->Delete("/a/b", *v1).code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(conn->Delete("/a/b", *v2).ok());
  EXPECT_EQ(conn->Delete("/a/b", std::nullopt).code(), absl::StatusCode::kNotFound);

  for (const char* bad : {"", "a", "/a/", "//a", "/a/../b"}) {
    EXPECT_EQ(conn->Get(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(conn->Create(bad, "").status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(conn->ListDir("x").status().code(), absl::StatusCode::kInvalidArgument);

  std::string binary("\0\1\2\xff", 4);
  ASSERT_TRUE(conn->Create("/bin", binary).ok());
  EXPECT_EQ(conn->Get("/bin")->value, binary);
}

TEST(SqliteConnTest, ListDir) {
  TempDir dir;
  auto conn = MustOpen(dir.File("topo.db"));
  ASSERT_NE(conn, nullptr);
  for (const char* p : {"/d/a", "/d/a-b", "/d/a/x/y", "/d/c/z", "/dx", "/d0"}) {
    ASSERT_TRUE(conn->Create(p, "v").ok()) << p;
  }
  auto entries = conn->ListDir("/d");
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_THAT(*entries, ElementsAre(DirEntry{"a", true, true}, DirEntry{"a-b", true, false},
                                    DirEntry{"c", false, true}));
  auto root = conn->ListDir("/");
  ASSERT_TRUE(root.ok());
  EXPECT_THAT(*root, ElementsAre(DirEntry{"d", false, true}, DirEntry{"d0", true, false},
                                 DirEntry{"dx", true, false}));
  EXPECT_EQ(conn->ListDir("/nothing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(conn->ListDir("/dx").status().code(), absl::StatusCode::kNotFound);
}

TEST(SqliteConnTest, TwoConnsShareTheFile) {
  TempDir dir;
  auto a = MustOpen(dir.File("topo.db"));
  auto b = MustOpen(dir.File("topo.db"));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto v = a->Create("/shared", "from a");
  ASSERT_TRUE(v.ok());
  auto got = b->Get("/shared");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value, "from a");
  EXPECT_EQ(got->version, *v);
  EXPECT_EQ(b->Update("/shared", "from b", *v).status().code(), absl::StatusCode::kOk);
  EXPECT_EQ(a->Update("/shared", "stale", *v).status().code(), absl::StatusCode::kAborted);

  EventLog log;
  auto watch = b->Watch("/shared", log.Callback());
  ASSERT_TRUE(watch.ok()) << watch.status();
  EXPECT_EQ(watch->current.value, "from b");
  ASSERT_TRUE(a->Update("/shared", "again from a", std::nullopt).ok());
  ASSERT_TRUE(log.WaitForCount(1));
  EXPECT_EQ(log.Events()[0].value, "again from a");
}

TEST(SqliteConnTest, WatchSeesEveryChangeInOrder) {
  TempDir dir;
  auto writer = MustOpen(dir.File("topo.db"));
  auto watcher = MustOpen(dir.File("topo.db"));
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(watcher, nullptr);
  ASSERT_TRUE(writer->Create("/w", "0").ok());
  EventLog log;
  auto watch = watcher->Watch("/w", log.Callback());
  ASSERT_TRUE(watch.ok());
  EXPECT_EQ(watch->current.value, "0");
  EXPECT_EQ(watcher->Watch("/missing", log.Callback()).status().code(),
            absl::StatusCode::kNotFound);

  std::vector<Version> versions;
  for (int i = 1; i <= 100; ++i) {
    versions.push_back(*writer->Update("/w", absl::StrCat(i), std::nullopt));
  }
  ASSERT_TRUE(writer->Delete("/w", std::nullopt).ok());
  versions.push_back(*writer->Create("/w", "back"));
  ASSERT_TRUE(writer->Create("/w2", "not watched").ok());
  ASSERT_TRUE(log.WaitForCount(102));
  std::vector<WatchEvent> events = log.Events();
  ASSERT_EQ(events.size(), 102u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(events[i].kind, WatchEvent::Kind::kChanged);
    EXPECT_EQ(events[i].value, absl::StrCat(i + 1));
    EXPECT_EQ(events[i].version, versions[i]);
  }
  EXPECT_EQ(events[100].kind, WatchEvent::Kind::kDeleted);
  EXPECT_EQ(events[101].kind, WatchEvent::Kind::kChanged);
  EXPECT_EQ(events[101].value, "back");
  EXPECT_EQ(events[101].version, versions[100]);
}

TEST(SqliteConnTest, WatchSeesOwnConnWrites) {
  TempDir dir;
  auto conn = MustOpen(dir.File("topo.db"));
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Create("/self", "0").ok());
  EventLog log;
  auto watch = conn->Watch("/self", log.Callback());
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE(conn->Update("/self", "1", std::nullopt).ok());
  ASSERT_TRUE(log.WaitForCount(1));
  EXPECT_EQ(log.Events()[0].value, "1");
}

TEST(SqliteConnTest, WatchDirReportsChangesBelowOnly) {
  TempDir dir;
  auto a = MustOpen(dir.File("topo.db"));
  auto b = MustOpen(dir.File("topo.db"));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->Create("/cell/tablets/t2/Tablet", "2").ok());
  ASSERT_TRUE(a->Create("/cell/tablets/t1/Tablet", "1").ok());
  EventLog log;
  auto watch = b->WatchDir("/cell/tablets", log.Callback());
  ASSERT_TRUE(watch.ok()) << watch.status();
  ASSERT_EQ(watch->current.size(), 2u);
  EXPECT_EQ(watch->current[0].path, "/cell/tablets/t1/Tablet");
  EXPECT_EQ(watch->current[1].path, "/cell/tablets/t2/Tablet");

  ASSERT_TRUE(a->Create("/cell/tabletsX", "no").ok());
  ASSERT_TRUE(a->Create("/cell/tablets/t3/Tablet", "3").ok());
  ASSERT_TRUE(a->Delete("/cell/tablets/t1/Tablet", std::nullopt).ok());
  ASSERT_TRUE(log.WaitForCount(2));
  std::vector<WatchEvent> events = log.Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, WatchEvent::Kind::kChanged);
  EXPECT_EQ(events[0].path, "/cell/tablets/t3/Tablet");
  EXPECT_EQ(events[1].kind, WatchEvent::Kind::kDeleted);
  EXPECT_EQ(events[1].path, "/cell/tablets/t1/Tablet");

  auto empty = b->WatchDir("/empty", log.Callback());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->current.empty());
}

TEST(SqliteConnTest, WatcherBehindTrimmedLogGetsCurrentValues) {
  TempDir dir;
  SqliteTuning tuning;
  tuning.keep_changes = 4;
  tuning.trim_every = 1;
  auto writer = MustOpen(dir.File("topo.db"), {}, tuning);
  auto watcher = MustOpen(dir.File("topo.db"), {}, tuning);
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(watcher, nullptr);
  ASSERT_TRUE(writer->Create("/n", "0").ok());
  ASSERT_TRUE(writer->Create("/d/gone", "x").ok());
  ASSERT_TRUE(writer->Create("/d/stays", "x").ok());
  EventLog node_log;
  EventLog dir_log;
  auto node_watch = watcher->Watch("/n", node_log.Callback());
  auto dir_watch = watcher->WatchDir("/d", dir_log.Callback());
  ASSERT_TRUE(node_watch.ok());
  ASSERT_TRUE(dir_watch.ok());

  watcher->SetWatchPollerPausedForTesting(true);
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(writer->Update("/n", absl::StrCat(i), std::nullopt).ok());
  ASSERT_TRUE(writer->Delete("/d/gone", std::nullopt).ok());
  ASSERT_TRUE(writer->Create("/d/new", "y").ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(writer->Update("/other", "z", std::nullopt).ok());
  auto final_version = writer->Update("/n", "final", std::nullopt);
  watcher->SetWatchPollerPausedForTesting(false);

  ASSERT_TRUE(node_log.WaitFor([](const WatchEvent& e) { return e.value == "final"; }));
  std::vector<WatchEvent> events = node_log.Events();
  EXPECT_LT(events.size(), 21u);  // the trimmed steps were skipped
  EXPECT_EQ(events.back().version, *final_version);

  ASSERT_TRUE(dir_log.WaitForCount(2));
  std::vector<WatchEvent> dir_events = dir_log.Events();
  ASSERT_EQ(dir_events.size(), 2u);
  EXPECT_EQ(dir_events[0].kind, WatchEvent::Kind::kChanged);
  EXPECT_EQ(dir_events[0].path, "/d/new");
  EXPECT_EQ(dir_events[1].kind, WatchEvent::Kind::kDeleted);
  EXPECT_EQ(dir_events[1].path, "/d/gone");
}

TEST(SqliteConnTest, WatchHandleOutlivesConn) {
  TempDir dir;
  auto conn = MustOpen(dir.File("topo.db"));
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Create("/x", "1").ok());
  EventLog log;
  auto watch = conn->Watch("/x", log.Callback());
  ASSERT_TRUE(watch.ok());
  conn.reset();
  watch->handle.reset();  // must not crash
}

TEST(SqliteConnTest, ConcurrentCompareAndSet) {
  TempDir dir;
  auto a = MustOpen(dir.File("topo.db"));
  auto b = MustOpen(dir.File("topo.db"));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->Create("/counter", "0").ok());
  constexpr int kThreads = 4;
  constexpr int kIncrements = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    Conn* conn = t % 2 == 0 ? static_cast<Conn*>(a.get()) : b.get();
    threads.emplace_back([conn] {
      for (int done = 0; done < kIncrements;) {
        auto cur = conn->Get("/counter");
        ASSERT_TRUE(cur.ok());
        auto next = conn->Update("/counter", absl::StrCat(std::stoi(cur->value) + 1), cur->version);
        if (next.ok()) {
          ++done;
        } else {
          ASSERT_EQ(next.status().code(), absl::StatusCode::kAborted) << next.status();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(a->Get("/counter")->value, absl::StrCat(kThreads * kIncrements));
}

}  // namespace
}  // namespace shale::topo
