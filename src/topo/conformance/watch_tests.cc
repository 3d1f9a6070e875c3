// Conformance: Watch and WatchDir.

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "topo/conformance/conformance_suite.h"

namespace shale::topo::conformance {
namespace {

using Kind = WatchEvent::Kind;

bool HasEventFor(const std::vector<WatchEvent>& events, const std::string& path) {
  for (const WatchEvent& e : events) {
    if (e.path == path) return true;
  }
  return false;
}

TEST_P(TopoConformanceTest, WatchStartsWithTheCurrentValue) {
  ASSERT_OK_AND_ASSIGN(Version version, conn_->Create("/w", "now"));
  EventRecorder recorder;
  ASSERT_OK_AND_ASSIGN(WatchStart start, conn_->Watch("/w", recorder.Callback()));
  EXPECT_EQ(start.current.value, "now");
  EXPECT_EQ(start.current.version, version);
  ASSERT_NE(start.handle, nullptr);
  EXPECT_CODE(conn_->Watch("/missing", recorder.Callback()), kNotFound);
}

// Write N values quickly from another Conn: the watcher sees all of them, in
// order, with the versions that Update returned.
TEST_P(TopoConformanceTest, WatchSeesEveryChangeInOrder) {
  constexpr int kWrites = 100;
  std::unique_ptr<Conn> writer = NewConn();
  ASSERT_NE(writer, nullptr);
  ASSERT_OK_AND_ASSIGN(Version version, writer->Create("/counter", "0"));
  EventRecorder recorder;
  ASSERT_OK_AND_ASSIGN(WatchStart start, conn_->Watch("/counter", recorder.Callback()));
  EXPECT_EQ(start.current.version, version);

  std::vector<Version> written;
  for (int i = 1; i <= kWrites; ++i) {
    ASSERT_OK_AND_ASSIGN(version, writer->Update("/counter", absl::StrCat(i), version));
    written.push_back(version);
  }
  if (backend().Supports(Feature::kWatchCoalescesWrites)) {
    // An in-order subsequence of the writes, with their versions, ending with the last one.
    std::vector<WatchEvent> events = recorder.WaitUntil([](const std::vector<WatchEvent>& seen) {
      return !seen.empty() && seen.back().value == absl::StrCat(kWrites);
    });
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().value, absl::StrCat(kWrites)) << DescribeEvents(events);
    int last = 0;
    for (const WatchEvent& e : events) {
      ASSERT_EQ(e.kind, Kind::kChanged) << DescribeEvents(events);
      int n = 0;
      ASSERT_TRUE(absl::SimpleAtoi(e.value, &n) && n > last && n <= kWrites)
          << "out of order: " << DescribeEvents(events);
      EXPECT_EQ(e.version, written[n - 1]) << DescribeEvent(e);
      last = n;
    }
    return;
  }
  std::vector<WatchEvent> events = recorder.WaitForCount(kWrites);
  ASSERT_EQ(events.size(), static_cast<size_t>(kWrites)) << DescribeEvents(events);
  Version previous = start.current.version;
  for (int i = 0; i < kWrites; ++i) {
    const WatchEvent& e = events[i];
    ASSERT_EQ(e.kind, Kind::kChanged) << "event " << i << ": " << DescribeEvent(e);
    EXPECT_EQ(e.path, "/counter");
    EXPECT_EQ(e.value, absl::StrCat(i + 1)) << "event " << i;
    EXPECT_EQ(e.version, written[i]) << "event " << i;
    EXPECT_GT(e.version, previous) << "versions must increase with each write";
    previous = e.version;
  }
}

TEST_P(TopoConformanceTest, WatchReportsDeletionAndRecreation) {
  ASSERT_OK(conn_->Create("/node", "first"));
  EventRecorder recorder;
  ASSERT_OK_AND_ASSIGN(WatchStart start, conn_->Watch("/node", recorder.Callback()));
  std::unique_ptr<Conn> writer = NewConn();
  ASSERT_NE(writer, nullptr);
  ASSERT_OK(writer->Delete("/node", std::nullopt));
  std::vector<WatchEvent> events = recorder.WaitForCount(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kDeleted) << DescribeEvent(events[0]);
  EXPECT_EQ(events[0].path, "/node");

  // The watch stays armed: a re-creation is reported as kChanged.
  ASSERT_OK_AND_ASSIGN(Version version, writer->Create("/node", "second"));
  events = recorder.WaitForCount(2);
  ASSERT_EQ(events.size(), 2u) << DescribeEvents(events);
  EXPECT_EQ(events[1].kind, Kind::kChanged);
  EXPECT_EQ(events[1].value, "second");
  EXPECT_EQ(events[1].version, version);
}

TEST_P(TopoConformanceTest, WatchIgnoresOtherPaths) {
  ASSERT_OK(conn_->Create("/a", "a"));
  EventRecorder recorder;
  ASSERT_OK_AND_ASSIGN(WatchStart start, conn_->Watch("/a", recorder.Callback()));
  ASSERT_OK(conn_->Create("/a/child", "c"));
  ASSERT_OK(conn_->Create("/ab", "ab"));
  ASSERT_OK(conn_->Update("/a", "last", std::nullopt));  // the sentinel
  std::vector<WatchEvent> events = recorder.WaitForCount(1);
  ASSERT_EQ(events.size(), 1u) << DescribeEvents(events);
  EXPECT_EQ(events[0].value, "last") << DescribeEvents(events);
}

TEST_P(TopoConformanceTest, WatchDirSeesChangesBelowTheDirOnly) {
  ASSERT_OK(conn_->Create("/d/b", "b"));
  ASSERT_OK(conn_->Create("/d/sub/x", "x"));
  ASSERT_OK(conn_->Create("/d/a", "a"));
  ASSERT_OK(conn_->Create("/d", "the dir's own value"));
  ASSERT_OK(conn_->Create("/dx/y", "outside"));
  ASSERT_OK(conn_->Create("/other", "outside"));

  EventRecorder recorder;
  ASSERT_OK_AND_ASSIGN(DirWatchStart start, conn_->WatchDir("/d", recorder.Callback()));
  ASSERT_EQ(start.current.size(), 3u);
  EXPECT_EQ(start.current[0].path, "/d/a");
  EXPECT_EQ(start.current[0].value, "a");
  EXPECT_EQ(start.current[1].path, "/d/b");
  EXPECT_EQ(start.current[2].path, "/d/sub/x");
  ASSERT_OK_AND_ASSIGN(Versioned x, conn_->Get("/d/sub/x"));
  EXPECT_EQ(start.current[2].version, x.version);

  std::unique_ptr<Conn> writer = NewConn();
  ASSERT_NE(writer, nullptr);
  ASSERT_OK_AND_ASSIGN(Version c_version, writer->Create("/d/c", "c"));
  ASSERT_OK(writer->Update("/dx/y", "outside 2", std::nullopt));
  ASSERT_OK_AND_ASSIGN(Version a_version, writer->Update("/d/a", "a2", std::nullopt));
  ASSERT_OK(writer->Update("/other", "outside 2", std::nullopt));
  ASSERT_OK(writer->Delete("/d/sub/x", std::nullopt));
  ASSERT_OK(writer->Create("/d/sub/deeper/z", "z"));
  ASSERT_OK(writer->Create("/d/zz", "sentinel"));

  std::vector<WatchEvent> events = recorder.WaitUntil(
      [](const std::vector<WatchEvent>& seen) { return HasEventFor(seen, "/d/zz"); });
  ASSERT_EQ(events.size(), 5u) << DescribeEvents(events);
  EXPECT_EQ(events[0].kind, Kind::kChanged);
  EXPECT_EQ(events[0].path, "/d/c");
  EXPECT_EQ(events[0].version, c_version);
  EXPECT_EQ(events[1].kind, Kind::kChanged);
  EXPECT_EQ(events[1].path, "/d/a");
  EXPECT_EQ(events[1].value, "a2");
  EXPECT_EQ(events[1].version, a_version);
  EXPECT_EQ(events[2].kind, Kind::kDeleted);
  EXPECT_EQ(events[2].path, "/d/sub/x");
  EXPECT_EQ(events[3].kind, Kind::kChanged);
  EXPECT_EQ(events[3].path, "/d/sub/deeper/z");
  EXPECT_EQ(events[4].path, "/d/zz");
}

TEST_P(TopoConformanceTest, WatchDirOfEmptyDirThenCreate) {
  EventRecorder recorder;
  ASSERT_OK_AND_ASSIGN(DirWatchStart start, conn_->WatchDir("/cells", recorder.Callback()));
  EXPECT_TRUE(start.current.empty());
  ASSERT_OK(conn_->Create("/cells/zone1/CellInfo", "zone1"));
  std::vector<WatchEvent> events = recorder.WaitForCount(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kChanged);
  EXPECT_EQ(events[0].path, "/cells/zone1/CellInfo");
  EXPECT_EQ(events[0].value, "zone1");
}

TEST_P(TopoConformanceTest, WatchDirOfRootSeesEverything) {
  ASSERT_OK(conn_->Create("/x", "x"));
  EventRecorder recorder;
  ASSERT_OK_AND_ASSIGN(DirWatchStart start, conn_->WatchDir("/", recorder.Callback()));
  ASSERT_EQ(start.current.size(), 1u);
  EXPECT_EQ(start.current[0].path, "/x");
  ASSERT_OK(conn_->Create("/y/z", "z"));
  std::vector<WatchEvent> events = recorder.WaitForCount(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].path, "/y/z");
}

// A callback may call back into the Conn (backends must not hold their own
// locks while running callbacks).
TEST_P(TopoConformanceTest, CallbackMayUseTheConn) {
  ASSERT_OK(conn_->Create("/re", "1"));
  Conn* conn = conn_.get();
  absl::Mutex mu;
  std::vector<std::string> reads;
  auto cb = [conn, &mu, &reads](const WatchEvent& event) {
    auto got = conn->Get(event.path);
    absl::MutexLock l(&mu);
    reads.push_back(got.ok() ? got->value : got.status().ToString());
  };
  ASSERT_OK_AND_ASSIGN(WatchStart start, conn_->Watch("/re", cb));
  ASSERT_OK(conn_->Update("/re", "2", std::nullopt));
  {
    absl::MutexLock l(&mu);
    auto one = [&reads]() { return !reads.empty(); };
    mu.AwaitWithTimeout(absl::Condition(&one), absl::Seconds(20));
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0], "2");
  }
  start.handle.reset();  // before `reads` goes away
}

TEST_P(TopoConformanceTest, DestroyedWatchGetsNoMoreCallbacks) {
  ASSERT_OK(conn_->Create("/dw/node", "0"));
  EventRecorder cancelled, cancelled_dir, live;
  ASSERT_OK_AND_ASSIGN(WatchStart watch, conn_->Watch("/dw/node", cancelled.Callback()));
  ASSERT_OK_AND_ASSIGN(DirWatchStart dir_watch, conn_->WatchDir("/dw", cancelled_dir.Callback()));
  ASSERT_OK_AND_ASSIGN(WatchStart live_watch, conn_->Watch("/dw/node", live.Callback()));

  ASSERT_OK(conn_->Update("/dw/node", "1", std::nullopt));
  ASSERT_EQ(cancelled.WaitForCount(1).size(), 1u);
  ASSERT_EQ(cancelled_dir.WaitForCount(1).size(), 1u);
  ASSERT_EQ(live.WaitForCount(1).size(), 1u);

  watch.handle.reset();
  cancelled.MarkCancelled();
  dir_watch.handle.reset();
  cancelled_dir.MarkCancelled();

  for (int i = 2; i <= 10; ++i) {
    ASSERT_OK(conn_->Update("/dw/node", absl::StrCat(i), std::nullopt));
  }
  ASSERT_OK(conn_->Create("/dw/other", "x"));
  ASSERT_OK(conn_->Delete("/dw/node", std::nullopt));
  // The live watch has seen everything, so the cancelled ones had their chance.
  std::vector<WatchEvent> live_events = live.WaitUntil([](const std::vector<WatchEvent>& seen) {
    return !seen.empty() && seen.back().kind == Kind::kDeleted;
  });
  if (!backend().Supports(Feature::kWatchCoalescesWrites)) {
    ASSERT_EQ(live_events.size(), 11u) << DescribeEvents(live_events);
  }
  ASSERT_FALSE(live_events.empty());
  EXPECT_EQ(live_events.back().kind, Kind::kDeleted);

  EXPECT_EQ(cancelled.late_calls(), 0) << DescribeEvents(cancelled.events());
  EXPECT_EQ(cancelled.events().size(), 1u);
  EXPECT_EQ(cancelled_dir.late_calls(), 0) << DescribeEvents(cancelled_dir.events());
  EXPECT_EQ(cancelled_dir.events().size(), 1u);
}

}  // namespace
}  // namespace shale::topo::conformance
