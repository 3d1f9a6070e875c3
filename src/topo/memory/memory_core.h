#pragma once

// Internal to topo/memory: the shared state of one MemoryServer. Include
// "topo/memory/memory_server.h" instead.
//
// MemoryCore holds the nodes, the revision counter, the registered watches
// and the fault-injection flag. It is shared (shared_ptr) by the MemoryServer
// that created it, every Conn made from that server, and every watch and lock
// handle, so it lives as long as the longest of them.
//
// Thread-safe: every method takes mu_. Watch callbacks never run under mu_:
// events are pushed into each watch's WatchQueue, which calls the callback on
// its own thread, in commit order.

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "topo/conn.h"
#include "topo/watch_queue.h"

namespace shale::topo::memory_internal {

class MemoryCore {
 public:
  explicit MemoryCore(ConnOptions options) : options_(options) {}
  MemoryCore(const MemoryCore&) = delete;
  MemoryCore& operator=(const MemoryCore&) = delete;

  const ConnOptions& options() const { return options_; }

  // The data operations of Conn, on already-validated paths. Each returns
  // Unavailable while SetUnavailable(true) is in force, otherwise the codes
  // documented in topo/conn.h.
  absl::StatusOr<Version> Create(absl::string_view path, absl::string_view value);
  absl::StatusOr<Versioned> Get(absl::string_view path);
  absl::StatusOr<Version> Update(absl::string_view path, absl::string_view value,
                                 std::optional<Version> expected);
  absl::Status Delete(absl::string_view path, std::optional<Version> expected);
  absl::StatusOr<std::vector<DirEntry>> ListDir(absl::string_view dir);

  // Waits until lock_path holds no value, then creates it with contents and
  // returns its version. DeadlineExceeded if still taken at deadline;
  // Unavailable if the server is (or becomes) unavailable while waiting.
  absl::StatusOr<Version> AcquireLock(const std::string& lock_path, absl::string_view contents,
                                      absl::Time deadline);
  // Deletes lock_path if it still holds `version`. Aborted if the node is gone
  // or was replaced. While the server is unavailable the node is still removed
  // (as if its lease had expired) but Unavailable is returned.
  absl::Status ReleaseLock(const std::string& lock_path, Version version);
  // OK if lock_path still holds `version`; Aborted if not; Unavailable while down.
  absl::Status CheckLock(const std::string& lock_path, Version version);

  // Registers a watch of one node (dir == false) or of everything below a
  // directory (dir == true) that pushes its events into `queue` (borrowed
  // until RemoveWatch returns). Returns the watch id and fills the snapshot.
  // NotFound for a node watch on a missing node; Unavailable while down.
  absl::StatusOr<int64_t> AddNodeWatch(absl::string_view path, WatchQueue* queue,
                                       Versioned* current);
  absl::StatusOr<int64_t> AddDirWatch(absl::string_view dir, WatchQueue* queue,
                                      std::vector<PathValue>* current);
  // After it returns nothing is pushed to that watch's queue any more.
  void RemoveWatch(int64_t id);

  // Fault injection; see MemoryServer::SetUnavailable.
  void SetUnavailable(bool unavailable);
  int64_t read_count() const { return read_count_.load(); }

 private:
  struct Node {
    std::string value;
    Version version = 0;
  };
  struct Watch {
    std::string path;  // the node, or the directory when dir is true
    bool dir = false;
    WatchQueue* queue = nullptr;
    // Dir watches: the paths the watcher believes hold a value, so that a
    // recovery from unavailability can report the ones deleted meanwhile.
    std::set<std::string> known;
  };

  absl::Status CheckAvailable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stores value at path with a fresh revision and notifies watches.
  Version WriteLocked(absl::string_view path, absl::string_view value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EraseLocked(std::map<std::string, Node, std::less<>>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Pushes event to every watch that covers event.path, unless unavailable.
  void NotifyLocked(const WatchEvent& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends every watch the current state of what it watches.
  void CatchUpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ConnOptions options_;
  std::atomic<int64_t> read_count_{0};

  mutable absl::Mutex mu_;  // protects the following
  std::map<std::string, Node, std::less<>> nodes_ ABSL_GUARDED_BY(mu_);
  Version revision_ ABSL_GUARDED_BY(mu_) = 0;
  bool unavailable_ ABSL_GUARDED_BY(mu_) = false;
  std::map<int64_t, Watch> watches_ ABSL_GUARDED_BY(mu_);
  int64_t next_watch_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace shale::topo::memory_internal
