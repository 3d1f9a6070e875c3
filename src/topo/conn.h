#pragma once

// The topology service interface that every backend implements (DESIGN §2).
//
// A backend stores byte values at slash-separated paths ("/global/keyspaces/app/Keyspace").
// Every value carries a Version, an opaque number that changes on every write
// of that path; callers only compare versions for equality. Directories are
// implicit: a directory exists while some path below it holds a value.
//
// Error codes keep one meaning (DESIGN §8):
//   NotFound           no node at the path
//   AlreadyExists      Create on an existing node
//   Aborted            the expected version did not match: re-read and retry
//   DeadlineExceeded   a lock was not acquired in time
//   Unavailable        the backend cannot be reached right now: retry later
//   InvalidArgument    a malformed path

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shale::topo {

// Opaque per-write version of one path.
using Version = int64_t;

struct Versioned {
  std::string value;
  Version version = 0;
};

// One immediate child of a directory.
struct DirEntry {
  std::string name;           // the last path component
  bool has_value = false;     // a value is stored at dir/name
  bool has_children = false;  // dir/name is itself a directory

  bool operator==(const DirEntry&) const = default;
};

// A value under a watched directory.
struct PathValue {
  std::string path;
  std::string value;
  Version version = 0;
};

// What a watch callback receives.
struct WatchEvent {
  enum class Kind {
    kChanged,  // path now holds value at version (created or updated)
    kDeleted,  // path was deleted; a watch stays armed and reports a later re-creation
    kError,    // the backend lost its connection (error is Unavailable); the watch keeps
               // retrying and reports the current value with kChanged once it is back
  };
  Kind kind = Kind::kChanged;
  std::string path;
  std::string value;
  Version version = 0;
  absl::Status error;
};

// Called on a backend-owned thread, one event at a time per watch, in the
// order the changes were committed. It must not destroy its own WatchHandle.
using WatchCallback = std::function<void(const WatchEvent&)>;

// Keeps a watch alive. Destroying it cancels the watch; once the destructor
// returns, the callback is never called again.
class WatchHandle {
 public:
  virtual ~WatchHandle() = default;
};

struct WatchStart {
  Versioned current;
  std::unique_ptr<WatchHandle> handle;
};

struct DirWatchStart {
  std::vector<PathValue> current;  // every value below the directory, sorted by path
  std::unique_ptr<WatchHandle> handle;
};

// A held lock. Destroying it releases the lock if it is still held.
// Thread-safe.
class LockHandle {
 public:
  virtual ~LockHandle() = default;
  // Releases the lock. Unavailable if the backend is unreachable (the lease
  // then expires on its own).
  virtual absl::Status Unlock() = 0;
  // OK while the lock is held; Aborted once it was lost (lease expired).
  virtual absl::Status Check() = 0;
};

// Settings shared by every backend.
struct ConnOptions {
  // How long a lock survives its holder: the holder renews its lease every
  // lock_ttl/3, and a lock whose holder died is free after at most lock_ttl.
  absl::Duration lock_ttl = absl::Seconds(10);
  // Create the backing store (the sqlite file) when it does not exist yet.
  bool create_if_missing = true;
};

// A connection to one topology server. Thread-safe: any thread may call any
// method concurrently. Owned by its creator (usually topo::Server).
class Conn {
 public:
  virtual ~Conn() = default;

  // Creates path with value. AlreadyExists if it holds a value.
  virtual absl::StatusOr<Version> Create(absl::string_view path, absl::string_view value) = 0;

  // NotFound if path holds no value.
  virtual absl::StatusOr<Versioned> Get(absl::string_view path) = 0;

  // Writes value. With `expected`, succeeds only if the current version equals
  // it (Aborted otherwise, NotFound if the node is gone). Without, writes
  // unconditionally and creates the node if needed.
  virtual absl::StatusOr<Version> Update(absl::string_view path, absl::string_view value,
                                         std::optional<Version> expected) = 0;

  // Deletes the value at path. NotFound if none; Aborted on a version mismatch.
  virtual absl::Status Delete(absl::string_view path, std::optional<Version> expected) = 0;

  // Lists the immediate children of dir, sorted by name. NotFound if nothing
  // is stored below dir.
  virtual absl::StatusOr<std::vector<DirEntry>> ListDir(absl::string_view dir) = 0;

  // Takes the exclusive lock of dir (stored below dir/locks/), writing contents
  // into the lock node, waiting up to timeout. DeadlineExceeded on timeout.
  // The lock is held until Unlock, the handle's destruction, or the holder's
  // death plus ConnOptions::lock_ttl.
  virtual absl::StatusOr<std::unique_ptr<LockHandle>> Lock(absl::string_view dir,
                                                           absl::string_view contents,
                                                           absl::Duration timeout) = 0;

  // Returns the current value of path and reports every later change to cb.
  // NotFound if path holds no value when the watch starts.
  virtual absl::StatusOr<WatchStart> Watch(absl::string_view path, WatchCallback cb) = 0;

  // Returns every value below dir (recursively) and reports every later change
  // below it to cb. An empty or missing directory is fine.
  virtual absl::StatusOr<DirWatchStart> WatchDir(absl::string_view dir, WatchCallback cb) = 0;
};

}  // namespace shale::topo
