#include "base/subprocess.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace shale {
namespace {

constexpr absl::Duration kLong = absl::Seconds(10);

TEST(SubprocessTest, LinesRoundTripThroughCat) {
  Subprocess cat;
  ASSERT_TRUE(cat.Start({"/bin/cat"}).ok());
  EXPECT_GT(cat.pid(), 0);
  ASSERT_TRUE(cat.WriteLine("hello").ok());
  ASSERT_TRUE(cat.WriteLine("world").ok());
  EXPECT_EQ(cat.ReadLine(kLong).value_or("<error>"), "hello");
  EXPECT_EQ(cat.ReadLine(kLong).value_or("<error>"), "world");
  ASSERT_TRUE(cat.CloseStdin().ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(cat.CloseStdin()));
  EXPECT_TRUE(absl::IsOutOfRange(cat.ReadLine(kLong).status()));
  EXPECT_EQ(cat.Wait().value_or(-1), 0);
  EXPECT_EQ(cat.Wait().value_or(-1), 0);  // repeated calls agree
}

TEST(SubprocessTest, ReadLineTimesOutWithoutOutput) {
  Subprocess cat;
  ASSERT_TRUE(cat.Start({"cat"}).ok());  // found through $PATH
  EXPECT_TRUE(absl::IsDeadlineExceeded(cat.ReadLine(absl::Milliseconds(50)).status()));
  // A partial line is not returned before its newline.
  ASSERT_TRUE(cat.WriteLine("x").ok());
  EXPECT_EQ(cat.ReadLine(kLong).value_or("<error>"), "x");
}

TEST(SubprocessTest, EnvironmentAdditionsAndExitCode) {
  Subprocess sh;
  SubprocessOptions options;
  options.env = {{"SHALE_SUBPROCESS_TEST", "forty two"}};
  ASSERT_TRUE(sh.Start({"/bin/sh", "-c", "echo \"$SHALE_SUBPROCESS_TEST\"; echo \"$PATH\"; exit 3"},
                       options)
                  .ok());
  EXPECT_EQ(sh.ReadLine(kLong).value_or("<error>"), "forty two");
  // The parent's environment is inherited.
  EXPECT_EQ(sh.ReadLine(kLong).value_or("<error>"), getenv("PATH"));
  EXPECT_EQ(sh.Wait().value_or(-1), 3);
}

TEST(SubprocessTest, LastLineWithoutNewline) {
  Subprocess sh;
  ASSERT_TRUE(sh.Start({"/bin/sh", "-c", "printf 'a\\nb'"}).ok());
  EXPECT_EQ(sh.ReadLine(kLong).value_or("<error>"), "a");
  EXPECT_EQ(sh.ReadLine(kLong).value_or("<error>"), "b");
  EXPECT_TRUE(absl::IsOutOfRange(sh.ReadLine(kLong).status()));
}

TEST(SubprocessTest, KillReportsTheSignal) {
  Subprocess cat;
  ASSERT_TRUE(cat.Start({"/bin/cat"}).ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(cat.WaitFor(absl::Milliseconds(20)).status()));
  ASSERT_TRUE(cat.Kill(SIGTERM).ok());
  EXPECT_EQ(cat.WaitFor(kLong).value_or(-1), 128 + SIGTERM);
  EXPECT_TRUE(absl::IsFailedPrecondition(cat.Kill(SIGTERM)));
}

TEST(SubprocessTest, WaitForReturnsOnceStdinCloses) {
  Subprocess cat;
  ASSERT_TRUE(cat.Start({"/bin/cat"}).ok());
  ASSERT_TRUE(cat.CloseStdin().ok());
  EXPECT_EQ(cat.WaitFor(kLong).value_or(-1), 0);
}

TEST(SubprocessTest, WriteToExitedChildFailsWithoutSigpipe) {
  Subprocess sh;
  ASSERT_TRUE(sh.Start({"/bin/sh", "-c", "exit 0"}).ok());
  EXPECT_EQ(sh.Wait().value_or(-1), 0);
  absl::Status status = sh.WriteLine("nobody reads this");
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
}

TEST(SubprocessTest, DestructorKillsAndReapsARunningChild) {
  pid_t pid;
  {
    Subprocess cat;
    ASSERT_TRUE(cat.Start({"/bin/cat"}).ok());
    pid = cat.pid();
    ASSERT_EQ(kill(pid, 0), 0);
  }
  // Reaped: the pid no longer names a process (not even a zombie) of ours.
  EXPECT_NE(kill(pid, 0), 0);
  EXPECT_EQ(errno, ESRCH);
}

TEST(SubprocessTest, StartErrors) {
  Subprocess missing;
  EXPECT_TRUE(absl::IsNotFound(missing.Start({"/nonexistent/program"})));
  Subprocess not_in_path;
  EXPECT_TRUE(absl::IsNotFound(not_in_path.Start({"shale-no-such-program"})));
  Subprocess empty;
  EXPECT_TRUE(absl::IsInvalidArgument(empty.Start({})));
  EXPECT_TRUE(absl::IsFailedPrecondition(empty.ReadLine(kLong).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(empty.Wait().status()));
  Subprocess twice;
  ASSERT_TRUE(twice.Start({"/bin/cat"}).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(twice.Start({"/bin/cat"})));
}

TEST(SubprocessTest, FindBinary) {
  namespace fs = std::filesystem;
  const char* old = getenv("SHALE_BIN_DIR");
  const std::string saved = old ? old : "";

  // Next to the running program, with no SHALE_BIN_DIR.
  unsetenv("SHALE_BIN_DIR");
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  EXPECT_EQ(FindBinary(fs::path(self).filename().string()), self);
  EXPECT_EQ(FindBinary("shale-no-such-binary"), "");

  // $SHALE_BIN_DIR comes first.
  char dir_template[] = "/tmp/shale_find_binary_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const fs::path dir(dir_template);
  const fs::path tool = dir / "some_tool";
  std::ofstream(tool) << "#!/bin/sh\n";
  fs::permissions(tool, fs::perms::owner_all);
  const fs::path plain = dir / "not_executable";
  std::ofstream(plain) << "data\n";
  setenv("SHALE_BIN_DIR", dir.c_str(), 1);
  EXPECT_EQ(FindBinary("some_tool"), tool.string());
  EXPECT_EQ(FindBinary("not_executable"), "");

  if (old) {
    setenv("SHALE_BIN_DIR", saved.c_str(), 1);
  } else {
    unsetenv("SHALE_BIN_DIR");
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace shale
