#pragma once

// The embedded topology backend, `sqlite:PATH` (DESIGN §2): the zero-config
// default that every process on one machine shares through one SQLite file.
//
// Writes are BEGIN IMMEDIATE transactions that update `nodes` and append to
// `changes`; a node's version is the seq of its last change, so versions grow
// across the whole file. Watches poll PRAGMA data_version every few ms and
// replay `changes`; locks are rows with a renewed lease. See README.md for the
// schema and the trimming of the change log.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "topo/conn.h"
#include "topo/sqlite/sqlite_tuning.h"

namespace shale::topo {

namespace sqlite_internal {
class SqliteStore;
class SqliteWatcher;
}  // namespace sqlite_internal

// A Conn on one topology file. Any number of SqliteConns, in one process or
// many, may open the same file at once.
//
// Lifecycle: Open() returns a ready connection; the watch poller thread
// starts with the first watch and stops in the destructor. Watch and lock
// handles may outlive the Conn (watches then stop reporting; locks keep their
// lease until released). Owned by its creator (usually topo::Server).
//
// Thread-safe: any thread may call any method. Reads and writes share one
// SQLite connection behind a mutex (SqliteStore); the poller uses its own.
class SqliteConn : public Conn {
 public:
  // Opens (or creates, if options.create_if_missing) the topology file.
  //   NotFound            the file is missing and create_if_missing is false
  //   Unavailable         it cannot be opened or created (e.g. no such
  //                       directory), naming the path and SQLite's reason
  //   FailedPrecondition  the file is not a Shale topology (another SQLite
  //                       database, garbage, a newer schema); it is not modified
  static absl::StatusOr<std::unique_ptr<SqliteConn>> Open(std::string path,
                                                          ConnOptions options);
  static absl::StatusOr<std::unique_ptr<SqliteConn>> Open(std::string path, ConnOptions options,
                                                          SqliteTuning tuning);
  ~SqliteConn() override;
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  // The Conn methods return the codes documented in topo/conn.h, plus
  // InvalidArgument for a malformed path and Unavailable when the file cannot
  // be read or stayed write-locked past SqliteTuning::busy_timeout.
  absl::StatusOr<Version> Create(absl::string_view path, absl::string_view value) override;
  absl::StatusOr<Versioned> Get(absl::string_view path) override;
  absl::StatusOr<Version> Update(absl::string_view path, absl::string_view value,
                                 std::optional<Version> expected) override;
  absl::Status Delete(absl::string_view path, std::optional<Version> expected) override;
  absl::StatusOr<std::vector<DirEntry>> ListDir(absl::string_view dir) override;
  absl::StatusOr<std::unique_ptr<LockHandle>> Lock(absl::string_view dir,
                                                   absl::string_view contents,
                                                   absl::Duration timeout) override;
  absl::StatusOr<WatchStart> Watch(absl::string_view path, WatchCallback cb) override;
  absl::StatusOr<DirWatchStart> WatchDir(absl::string_view dir, WatchCallback cb) override;

  const std::string& path() const;

  // While paused, the watch poller reads nothing, so its watches fall behind
  // (tests use it to exercise the trimmed-log fallback).
  void SetWatchPollerPausedForTesting(bool paused);

 private:
  SqliteConn(std::shared_ptr<sqlite_internal::SqliteStore> store,
             std::shared_ptr<sqlite_internal::SqliteWatcher> watcher);

  const std::shared_ptr<sqlite_internal::SqliteStore> store_;
  const std::shared_ptr<sqlite_internal::SqliteWatcher> watcher_;
};

}  // namespace shale::topo
