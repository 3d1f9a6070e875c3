#pragma once

// Internal to topo/sqlite: the watches of one SqliteConn.
//
// SqliteWatcher keeps the registered watches and one poller thread with its
// own read-only connection. The poller checks PRAGMA data_version every
// tuning.poll_interval; when another connection (any process, or this
// process's main connection) committed, it reads the `changes` rows after the
// last seq each watch has seen and pushes the matching ones, in seq order,
// into each watch's WatchQueue. A watch that fell behind the trimmed change
// log, or that saw an error, is sent the current values instead.
//
// Lifecycle: created by SqliteConn; the poller starts with the first watch;
// Stop() (from ~SqliteConn) joins it. Each watch handle holds a shared_ptr to
// the watcher, so handles may outlive the Conn (they then get no events).
// Thread-safe: mu_ guards the watches and the poller's connection; user
// callbacks run on WatchQueue threads, never under mu_.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "topo/conn.h"
#include "topo/sqlite/sqlite_db.h"
#include "topo/sqlite/sqlite_nodes.h"
#include "topo/sqlite/sqlite_store.h"
#include "topo/watch_queue.h"

namespace shale::topo::sqlite_internal {

class SqliteWatcher : public std::enable_shared_from_this<SqliteWatcher> {
 public:
  explicit SqliteWatcher(std::shared_ptr<SqliteStore> store) : store_(std::move(store)) {}
  ~SqliteWatcher();
  SqliteWatcher(const SqliteWatcher&) = delete;
  SqliteWatcher& operator=(const SqliteWatcher&) = delete;

  // Conn::Watch / Conn::WatchDir on validated paths. NotFound (WatchNode on a
  // missing node); Unavailable if the file cannot be read or the poller's
  // connection cannot be opened.
  absl::StatusOr<WatchStart> WatchNode(const std::string& path, WatchCallback cb);
  absl::StatusOr<DirWatchStart> WatchDir(const std::string& dir, WatchCallback cb);

  // Stops and joins the poller; later events are not delivered.
  void Stop();
  // While paused the poller reads nothing (tests use it to fall behind the log).
  void SetPausedForTesting(bool paused);

 private:
  // One watch. Fields after `queue` are guarded by the watcher's mu_.
  struct Entry {
    Entry(std::string p, bool d, WatchCallback cb);
    const std::string path;    // the node, or the directory
    const bool dir;
    const std::string prefix;  // dir watches: DirPrefix(path)
    WatchQueue queue;
    int64_t seen = 0;                        // every change <= seen was handled
    Version version = 0;                     // node watches: last reported, 0 = absent
    std::map<std::string, Version, std::less<>> known;   // dir watches: paths that hold a value
    bool errored = false;                    // kError was reported
  };
  class Handle;

  absl::Status StartLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Add(Entry* entry);
  void Remove(Entry* entry);
  void Run();
  absl::Status PollLocked(int64_t& last_data_version) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ScanLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RunCachedLocked(absl::string_view sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ResyncLocked(Entry& e, int64_t head) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DeliverLocked(Entry& e, const Change& change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReportErrorLocked(const absl::Status& error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<SqliteStore> store_;

  absl::Mutex mu_;  // protects the following
  std::unique_ptr<SqliteDb> db_ ABSL_GUARDED_BY(mu_);  // the poller's connection
  std::set<Entry*> watches_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool rescan_ ABSL_GUARDED_BY(mu_) = false;  // a watch joined: scan even if nothing changed
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::topo::sqlite_internal
