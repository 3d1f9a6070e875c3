#include "tablet/engine/group_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "tablet/engine/sqlite_errors.h"

namespace shale::tablet::engine {

GroupSync::~GroupSync() {
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) close(fd_);
}

int64_t GroupSync::Committed() {
  absl::MutexLock lock(&mu_);
  return ++committed_;
}

absl::Status GroupSync::SyncThrough(int64_t ticket) {
  absl::MutexLock lock(&mu_);
  while (synced_ < ticket) {
    if (syncing_) {
      // Another committer syncs; its sync may or may not cover this ticket.
      auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !syncing_; };
      mu_.Await(absl::Condition(&done));
      continue;
    }
    syncing_ = true;
    const int64_t target = committed_;
    if (fd_ < 0) fd_ = open(wal_path_.c_str(), O_RDWR | O_CLOEXEC);
    const int fd = fd_;
    mu_.Unlock();
    const int rc = fd < 0 ? -1 : fdatasync(fd);
    const int err = errno;
    mu_.Lock();
    syncing_ = false;
    if (rc != 0) {
      return SqlError(absl::StatusCode::kInternal, "58030",
                      absl::StrCat("cannot sync ", wal_path_, ": ", std::strerror(err)));
    }
    synced_ = std::max(synced_, target);
    ++syncs_;
  }
  return absl::OkStatus();
}

int64_t GroupSync::syncs() const {
  absl::MutexLock lock(&mu_);
  return syncs_;
}

}  // namespace shale::tablet::engine
