#include "tests/chaos/tmpfs_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <vector>

#include "absl/strings/str_cat.h"

namespace shale::chaos {
namespace {

absl::Status ErrnoStatus(int err, const std::string& what) {
  const std::string msg = absl::StrCat(what, ": ", std::strerror(err));
  if (err == EPERM || err == EACCES) return absl::PermissionDeniedError(msg);
  return absl::InternalError(msg);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TmpfsMount>> TmpfsMount::Mount(const std::string& dir,
                                                              uint64_t size_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", dir, ": ", ec.message()));
  const std::string options = absl::StrCat("size=", size_bytes, ",mode=0700");
  if (mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("mount -t tmpfs -o ", options, " tmpfs ", dir));
  }
  return std::unique_ptr<TmpfsMount>(new TmpfsMount(dir));
}

TmpfsMount::~TmpfsMount() {
  if (umount2(dir_.c_str(), 0) == 0) return;
  // Busy (a process still has a file open): detach now, freed when unused.
  const int err = errno;
  if (err == EBUSY && umount2(dir_.c_str(), MNT_DETACH) == 0) return;
  std::cerr << "umount " << dir_ << ": " << std::strerror(err) << std::endl;
}

absl::StatusOr<uint64_t> TmpfsMount::Fill() {
  const int fd = open(filler().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("open ", filler()));
  const std::vector<char> chunk(1 << 20, 'x');
  uint64_t written = 0;
  absl::Status status;
  for (;;) {
    const ssize_t n = write(fd, chunk.data(), chunk.size());
    if (n > 0) {
      written += n;  // a short write comes just before ENOSPC
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOSPC) break;
    status = ErrnoStatus(n < 0 ? errno : EIO, absl::StrCat("write ", filler()));
    break;
  }
  close(fd);
  if (!status.ok()) return status;
  return written;
}

absl::Status TmpfsMount::Drain() {
  if (unlink(filler().c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, absl::StrCat("unlink ", filler()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::pair<uint64_t, uint64_t>> TmpfsMount::Usage() const {
  struct statvfs st {};
  if (statvfs(dir_.c_str(), &st) != 0) return ErrnoStatus(errno, absl::StrCat("statvfs ", dir_));
  const uint64_t total = static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
  const uint64_t free = static_cast<uint64_t>(st.f_bfree) * st.f_frsize;
  return std::make_pair(total - free, total);
}

}  // namespace shale::chaos
