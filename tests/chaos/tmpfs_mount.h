#pragma once

// TmpfsMount: a small, size-limited tmpfs mounted on a directory, for the
// chaos suite's "replica disk full" fault (README.md): a tablet's data dir
// lives on it, Fill() takes every free block with a filler file so that the
// tablet's next write that needs a new block fails with ENOSPC (SQLITE_FULL),
// and Drain() deletes the filler again.
//
// Lifecycle: Mount() mounts; the destructor unmounts (lazily if something
// still uses it), so a failing test leaves no mount behind. Destroy it after
// the processes using the directory are gone. Owned by ChaosTest; confined
// to the test thread.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shale::chaos {

class TmpfsMount {
 public:
  // Creates dir if missing and mounts a tmpfs of size_bytes on it (mount(2),
  // mode 0700). PermissionDenied when mounting is not permitted (not root,
  // or no CAP_SYS_ADMIN in a container); Internal for other failures.
  static absl::StatusOr<std::unique_ptr<TmpfsMount>> Mount(const std::string& dir,
                                                           uint64_t size_bytes);
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  const std::string& dir() const { return dir_; }

  // Writes a filler file in dir until the file system reports ENOSPC and
  // returns the bytes it took. Internal for any other write error.
  absl::StatusOr<uint64_t> Fill();
  // Deletes the filler (nothing if there is none). Internal if it cannot.
  absl::Status Drain();
  // Bytes used and total on the file system (statvfs).
  absl::StatusOr<std::pair<uint64_t, uint64_t>> Usage() const;

 private:
  explicit TmpfsMount(std::string dir) : dir_(std::move(dir)) {}
  std::string filler() const { return dir_ + "/.chaos-disk-full-filler"; }

  const std::string dir_;
};

}  // namespace shale::chaos
