#include "topo/sqlite/sqlite_conn.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "topo/path.h"
#include "topo/sqlite/sqlite_lock.h"
#include "topo/sqlite/sqlite_nodes.h"
#include "topo/sqlite/sqlite_store.h"
#include "topo/sqlite/sqlite_watcher.h"

namespace shale::topo {

using sqlite_internal::NodeRow;
using sqlite_internal::SqliteDb;
using sqlite_internal::SqliteStore;
using sqlite_internal::SqliteWatcher;

namespace {

absl::Status NoNode(absl::string_view path) {
  return absl::NotFoundError(absl::StrCat("topology node ", path, " does not exist"));
}

absl::Status BadVersion(absl::string_view path, Version expected, Version actual) {
  return absl::AbortedError(absl::StrCat("topology node ", path, " is at version ", actual,
                                         ", not the expected ", expected));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteConn>> SqliteConn::Open(std::string path,
                                                             ConnOptions options) {
  return Open(std::move(path), options, SqliteTuning());
}

absl::StatusOr<std::unique_ptr<SqliteConn>> SqliteConn::Open(std::string path,
                                                             ConnOptions options,
                                                             SqliteTuning tuning) {
  ASSIGN_OR_RETURN(std::shared_ptr<SqliteStore> store, SqliteStore::Open(path, options, tuning));
  auto watcher = std::make_shared<SqliteWatcher>(store);
  return std::unique_ptr<SqliteConn>(new SqliteConn(std::move(store), std::move(watcher)));
}

SqliteConn::SqliteConn(std::shared_ptr<SqliteStore> store, std::shared_ptr<SqliteWatcher> watcher)
    : store_(std::move(store)), watcher_(std::move(watcher)) {}

SqliteConn::~SqliteConn() { watcher_->Stop(); }

const std::string& SqliteConn::path() const { return store_->path(); }

void SqliteConn::SetWatchPollerPausedForTesting(bool paused) {
  watcher_->SetPausedForTesting(paused);
}

absl::StatusOr<Version> SqliteConn::Create(absl::string_view path, absl::string_view value) {
  RETURN_IF_ERROR(ValidatePath(path));
  Version version = 0;
  RETURN_IF_ERROR(store_->Write([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<NodeRow> row, ReadNode(db, path));
    if (row.has_value()) {
      return absl::AlreadyExistsError(absl::StrCat("topology node ", path, " already exists"));
    }
    ASSIGN_OR_RETURN(version, WriteNode(db, path, value, store_->trim()));
    return absl::OkStatus();
  }));
  return version;
}

absl::StatusOr<Versioned> SqliteConn::Get(absl::string_view path) {
  RETURN_IF_ERROR(ValidatePath(path));
  std::optional<NodeRow> row;
  RETURN_IF_ERROR(store_->ReadOne([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(row, ReadNode(db, path));
    return absl::OkStatus();
  }));
  if (!row.has_value()) return NoNode(path);
  return Versioned{std::move(row->value), row->version};
}

absl::StatusOr<Version> SqliteConn::Update(absl::string_view path, absl::string_view value,
                                           std::optional<Version> expected) {
  RETURN_IF_ERROR(ValidatePath(path));
  Version version = 0;
  RETURN_IF_ERROR(store_->Write([&](SqliteDb& db) -> absl::Status {
    if (expected.has_value()) {
      ASSIGN_OR_RETURN(std::optional<NodeRow> row, ReadNode(db, path));
      if (!row.has_value()) return NoNode(path);
      if (row->version != *expected) return BadVersion(path, *expected, row->version);
    }
    ASSIGN_OR_RETURN(version, WriteNode(db, path, value, store_->trim()));
    return absl::OkStatus();
  }));
  return version;
}

absl::Status SqliteConn::Delete(absl::string_view path, std::optional<Version> expected) {
  RETURN_IF_ERROR(ValidatePath(path));
  return store_->Write([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<NodeRow> row, ReadNode(db, path));
    if (!row.has_value()) return NoNode(path);
    if (expected.has_value() && row->version != *expected) {
      return BadVersion(path, *expected, row->version);
    }
    return EraseNode(db, path, store_->trim());
  });
}

absl::StatusOr<std::vector<DirEntry>> SqliteConn::ListDir(absl::string_view dir) {
  RETURN_IF_ERROR(ValidateDir(dir));
  const std::string prefix = DirPrefix(dir);
  // Paths come sorted, but a child's own value and its children are not
  // adjacent ("a" < "a-b" < "a/x"), so merge by name.
  std::map<std::string, DirEntry, std::less<>> children;
  RETURN_IF_ERROR(store_->ReadOne([&](SqliteDb& db) -> absl::Status {
    return ScanPathsBelow(db, prefix, [&](absl::string_view path) {
      absl::string_view rest = path.substr(prefix.size());
      size_t slash = rest.find('/');
      absl::string_view name = rest.substr(0, slash);
      auto it = children.find(name);
      if (it == children.end()) {
        it = children.emplace(std::string(name), DirEntry{std::string(name)}).first;
      }
      if (slash == absl::string_view::npos) {
        it->second.has_value = true;
      } else {
        it->second.has_children = true;
      }
    });
  }));
  if (children.empty()) {
    return absl::NotFoundError(absl::StrCat("topology directory ", dir, " is empty or missing"));
  }
  std::vector<DirEntry> entries;
  entries.reserve(children.size());
  for (auto& [name, entry] : children) entries.push_back(std::move(entry));
  return entries;
}

absl::StatusOr<std::unique_ptr<LockHandle>> SqliteConn::Lock(absl::string_view dir,
                                                             absl::string_view contents,
                                                             absl::Duration timeout) {
  RETURN_IF_ERROR(ValidateDir(dir));
  return sqlite_internal::AcquireLock(store_, std::string(dir), contents, timeout);
}

absl::StatusOr<WatchStart> SqliteConn::Watch(absl::string_view path, WatchCallback cb) {
  RETURN_IF_ERROR(ValidatePath(path));
  return watcher_->WatchNode(std::string(path), std::move(cb));
}

absl::StatusOr<DirWatchStart> SqliteConn::WatchDir(absl::string_view dir, WatchCallback cb) {
  RETURN_IF_ERROR(ValidateDir(dir));
  return watcher_->WatchDir(std::string(dir), std::move(cb));
}

}  // namespace shale::topo
