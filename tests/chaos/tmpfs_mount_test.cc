#include "tests/chaos/tmpfs_mount.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/e2e/shale_cli.h"

namespace shale::chaos {
namespace {

// errno of appending n bytes to path, or 0 when they were all written.
int AppendErrno(const std::string& path, size_t n) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd < 0) return errno;
  const std::string bytes(n, 'y');
  const ssize_t w = write(fd, bytes.data(), bytes.size());
  const int err = w < 0 ? errno : (static_cast<size_t>(w) == n ? 0 : ENOSPC);
  close(fd);
  return err;
}

dev_t DeviceOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_dev;
}

TEST(TmpfsMountTest, FillMakesWritesFailWithEnospcAndDrainLiftsIt) {
  e2e::TempDir tmp;
  const std::string dir = tmp.path() + "/data";
  {
    absl::StatusOr<std::unique_ptr<TmpfsMount>> m = TmpfsMount::Mount(dir, 1 << 20);
    if (absl::IsPermissionDenied(m.status())) GTEST_SKIP() << m.status();
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_NE(DeviceOf(dir), DeviceOf(tmp.path()));  // a file system of its own
    ASSERT_EQ(AppendErrno(dir + "/db", 64 << 10), 0);

    absl::StatusOr<uint64_t> filled = (*m)->Fill();
    ASSERT_TRUE(filled.ok()) << filled.status();
    EXPECT_GT(*filled, 0u);
    EXPECT_LE(*filled, 1u << 20);
    EXPECT_EQ(AppendErrno(dir + "/db", 8 << 10), ENOSPC);
    absl::StatusOr<std::pair<uint64_t, uint64_t>> usage = (*m)->Usage();
    ASSERT_TRUE(usage.ok());
    EXPECT_EQ(usage->first, usage->second);  // full

    ASSERT_TRUE((*m)->Drain().ok());
    EXPECT_EQ(AppendErrno(dir + "/db", 8 << 10), 0);
    EXPECT_TRUE((*m)->Drain().ok());  // no filler: nothing to do
  }
  // Unmounted: the directory is back on the temp dir's file system.
  EXPECT_EQ(DeviceOf(dir), DeviceOf(tmp.path()));
  EXPECT_FALSE(std::filesystem::exists(dir + "/db"));
}

}  // namespace
}  // namespace shale::chaos
