#include "topo/sqlite/sqlite_watcher.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "topo/path.h"
#include "topo/sqlite/sqlite_schema.h"

namespace shale::topo::sqlite_internal {

// Unregisters its watch, then destroys the queue (which waits for a running
// callback), so no callback runs once the destructor returns.
class SqliteWatcher::Handle : public WatchHandle {
 public:
  Handle(std::shared_ptr<SqliteWatcher> watcher, std::unique_ptr<Entry> entry)
      : watcher_(std::move(watcher)), entry_(std::move(entry)) {}
  ~Handle() override {
    watcher_->Remove(entry_.get());
    entry_.reset();
  }

 private:
  const std::shared_ptr<SqliteWatcher> watcher_;
  std::unique_ptr<Entry> entry_;
};

SqliteWatcher::Entry::Entry(std::string p, bool d, WatchCallback cb)
    : path(std::move(p)), dir(d), prefix(d ? DirPrefix(path) : ""), queue(std::move(cb)) {}

SqliteWatcher::~SqliteWatcher() { Stop(); }

void SqliteWatcher::Stop() {
  std::thread thread;
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

void SqliteWatcher::SetPausedForTesting(bool paused) {
  absl::MutexLock l(&mu_);
  paused_ = paused;
}

absl::Status SqliteWatcher::StartLocked() {
  if (stop_) return absl::FailedPreconditionError("the topology connection is closing");
  if (db_ != nullptr) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<SqliteDb>> db = OpenTopologyDb(
      store_->path(), /*create_if_missing=*/false, DbRole::kPoller, store_->tuning().busy_timeout);
  if (!db.ok()) {
    // NotFound here would read as "no such node": the file was removed or replaced.
    return absl::UnavailableError(
        absl::StrCat("cannot start watching topology file: ", db.status().message()));
  }
  db_ = std::move(*db);
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void SqliteWatcher::Add(Entry* entry) {
  absl::MutexLock l(&mu_);
  watches_.insert(entry);
  rescan_ = true;
}

void SqliteWatcher::Remove(Entry* entry) {
  absl::MutexLock l(&mu_);
  watches_.erase(entry);
}

absl::StatusOr<WatchStart> SqliteWatcher::WatchNode(const std::string& path, WatchCallback cb) {
  {
    absl::MutexLock l(&mu_);
    RETURN_IF_ERROR(StartLocked());
  }
  // Snapshot first: on NotFound no WatchQueue thread is started.
  std::optional<NodeRow> node;
  int64_t head = 0;
  RETURN_IF_ERROR(store_->Read([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(node, ReadNode(db, path));
    ASSIGN_OR_RETURN(head, HeadSeq(db));
    return absl::OkStatus();
  }));
  if (!node.has_value()) {
    return absl::NotFoundError(absl::StrCat("topology node ", path, " does not exist"));
  }
  auto entry = std::make_unique<Entry>(path, /*dir=*/false, std::move(cb));
  entry->seen = head;
  entry->version = node->version;
  Add(entry.get());
  WatchStart start;
  start.current = Versioned{std::move(node->value), node->version};
  start.handle = std::make_unique<Handle>(shared_from_this(), std::move(entry));
  return start;
}

absl::StatusOr<DirWatchStart> SqliteWatcher::WatchDir(const std::string& dir, WatchCallback cb) {
  {
    absl::MutexLock l(&mu_);
    RETURN_IF_ERROR(StartLocked());
  }
  auto entry = std::make_unique<Entry>(dir, /*dir=*/true, std::move(cb));
  DirWatchStart start;
  RETURN_IF_ERROR(store_->Read([&](SqliteDb& db) -> absl::Status {
    RETURN_IF_ERROR(ScanBelow(db, entry->prefix,
                              [&](absl::string_view path, absl::string_view value, Version version) {
                                start.current.push_back(PathValue{std::string(path),
                                                                  std::string(value), version});
                                entry->known.emplace(std::string(path), version);
                              }));
    ASSIGN_OR_RETURN(entry->seen, HeadSeq(db));
    return absl::OkStatus();
  }));
  Add(entry.get());
  start.handle = std::make_unique<Handle>(shared_from_this(), std::move(entry));
  return start;
}

void SqliteWatcher::Run() {
  absl::MutexLock l(&mu_);
  int64_t last_data_version = -1;
  absl::Time failing_since = absl::InfiniteFuture();
  auto active = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_ || (!watches_.empty() && !paused_);
  };
  auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || rescan_; };
  for (;;) {
    mu_.Await(absl::Condition(&active));
    if (stop_) return;
    absl::Status st = PollLocked(last_data_version);
    if (st.ok()) {
      failing_since = absl::InfiniteFuture();
    } else {
      last_data_version = -1;  // scan again once the file is readable
      absl::Time now = absl::Now();
      if (failing_since == absl::InfiniteFuture()) failing_since = now;
      if (now - failing_since >= store_->tuning().error_grace) ReportErrorLocked(st);
    }
    mu_.AwaitWithTimeout(absl::Condition(&woken), store_->tuning().poll_interval);
  }
}

absl::Status SqliteWatcher::PollLocked(int64_t& last_data_version) {
  ASSIGN_OR_RETURN(int64_t data_version, DataVersion(*db_));
  if (data_version == last_data_version && !rescan_) return absl::OkStatus();
  rescan_ = false;
  RETURN_IF_ERROR(ScanLocked());
  last_data_version = data_version;
  return absl::OkStatus();
}

absl::Status SqliteWatcher::ScanLocked() {
  RETURN_IF_ERROR(RunCachedLocked("BEGIN"));
  auto scan = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(int64_t head, HeadSeq(*db_));
    ASSIGN_OR_RETURN(int64_t trimmed, TrimmedThrough(*db_));
    int64_t from = std::numeric_limits<int64_t>::max();
    for (Entry* e : watches_) {
      if (e->errored || e->seen < trimmed) RETURN_IF_ERROR(ResyncLocked(*e, head));
      if (e->seen < head) from = std::min(from, e->seen);
    }
    if (from < head) {
      RETURN_IF_ERROR(ScanChanges(*db_, from, [&](const Change& c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        for (Entry* e : watches_) {
          if (e->seen >= c.seq) continue;
          bool match = e->dir ? c.path.substr(0, e->prefix.size()) == e->prefix : c.path == e->path;
          if (match) DeliverLocked(*e, c);
          e->seen = c.seq;
        }
      }));
    }
    for (Entry* e : watches_) e->seen = std::max(e->seen, head);
    return absl::OkStatus();
  };
  absl::Status st = scan();
  if (!sqlite3_get_autocommit(db_->raw())) {
    absl::Status end = RunCachedLocked("COMMIT");
    if (st.ok()) st = end;
  }
  return st;
}

absl::Status SqliteWatcher::RunCachedLocked(absl::string_view sql) {
  ASSIGN_OR_RETURN(Stmt stmt, db_->Prepare(sql));
  return stmt.Run();
}

void SqliteWatcher::DeliverLocked(Entry& e, const Change& change) {
  WatchEvent event;
  event.path = std::string(change.path);
  event.version = change.seq;
  if (change.kind == kChangeDeleted) {
    event.kind = WatchEvent::Kind::kDeleted;
    if (e.dir) {
      e.known.erase(event.path);
    } else {
      e.version = 0;
    }
  } else {
    event.kind = WatchEvent::Kind::kChanged;
    event.value = std::string(change.value);
    if (e.dir) {
      e.known[event.path] = change.seq;
    } else {
      e.version = change.seq;
    }
  }
  e.queue.Push(std::move(event));
}

// Sends e the current state of what it watches: kChanged for every value it
// has not seen (every value, after an error), kDeleted for values gone.
absl::Status SqliteWatcher::ResyncLocked(Entry& e, int64_t head) {
  const bool all = e.errored;
  auto changed = [&e](absl::string_view path, absl::string_view value, Version version) {
    WatchEvent event;
    event.kind = WatchEvent::Kind::kChanged;
    event.path = std::string(path);
    event.value = std::string(value);
    event.version = version;
    e.queue.Push(std::move(event));
  };
  auto deleted = [&e, head](const std::string& path) {
    WatchEvent event;
    event.kind = WatchEvent::Kind::kDeleted;
    event.path = path;
    event.version = head;
    e.queue.Push(std::move(event));
  };
  if (!e.dir) {
    ASSIGN_OR_RETURN(std::optional<NodeRow> node, ReadNode(*db_, e.path));
    if (node.has_value()) {
      if (all || node->version != e.version) changed(e.path, node->value, node->version);
      e.version = node->version;
    } else if (e.version != 0) {
      deleted(e.path);
      e.version = 0;
    }
  } else {
    std::map<std::string, Version, std::less<>> now;
    RETURN_IF_ERROR(
        ScanBelow(*db_, e.prefix, [&](absl::string_view path, absl::string_view value, Version v) {
          auto it = e.known.find(path);
          if (all || it == e.known.end() || it->second != v) changed(path, value, v);
          now.emplace(std::string(path), v);
        }));
    for (const auto& [path, version] : e.known) {
      if (!now.contains(path)) deleted(path);
    }
    e.known = std::move(now);
  }
  e.seen = head;
  e.errored = false;
  return absl::OkStatus();
}

void SqliteWatcher::ReportErrorLocked(const absl::Status& error) {
  for (Entry* e : watches_) {
    if (e->errored) continue;
    e->errored = true;
    WatchEvent event;
    event.kind = WatchEvent::Kind::kError;
    event.path = e->path;
    event.error = absl::UnavailableError(
        absl::StrCat("watching topology file ", store_->path(), ": ", error.message()));
    e->queue.Push(std::move(event));
  }
}

}  // namespace shale::topo::sqlite_internal
