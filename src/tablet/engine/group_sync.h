#pragma once

// GroupSync: group commit of the local fsync (DESIGN §4 "Group commit").
//
// With synchronous=FULL, SQLite syncs the WAL inside every COMMIT, while the
// single writer connection is held, so commits can never share a sync and
// throughput is capped at one commit per fsync whatever the concurrency. The
// engine instead runs the writer with synchronous=NORMAL (a commit appends its
// frames to the WAL without syncing) and makes each commit durable here,
// after the writer was given back: every committer takes a ticket while it
// still holds the writer (so tickets follow commit order), then SyncThrough
// waits until one fdatasync of the WAL file issued after its commit has
// finished. One committer at a time syncs (the leader) on behalf of every
// commit made before the sync started; the others wait for it. A commit is
// acknowledged only after that, so durability equals synchronous=FULL's.
// (Checkpoints still sync the WAL before copying it, as under NORMAL.)
//
// Owned by the Engine. Thread-safe.

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace shale::tablet::engine {

class GroupSync {
 public:
  explicit GroupSync(std::string wal_path) : wal_path_(std::move(wal_path)) {}
  ~GroupSync();
  GroupSync(const GroupSync&) = delete;
  GroupSync& operator=(const GroupSync&) = delete;

  // Called right after a COMMIT, with the writer still held.
  int64_t Committed();
  // Returns once the commit with this ticket is on disk. Internal (58030)
  // when the WAL cannot be synced.
  absl::Status SyncThrough(int64_t ticket);

  int64_t syncs() const;

 private:
  const std::string wal_path_;
  mutable absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t committed_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t synced_ ABSL_GUARDED_BY(mu_) = 0;
  bool syncing_ ABSL_GUARDED_BY(mu_) = false;
  int64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shale::tablet::engine
