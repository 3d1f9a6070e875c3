#include "local/process_state.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "local/process_control.h"

namespace shale::local {
namespace {

class ProcessStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = std::filesystem::temp_directory_path().string() + "/local_state_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(ProcessStateTest, RoundTrip) {
  EXPECT_TRUE(absl::IsNotFound(ReadState(dir_).status()));
  LocalState state;
  state.options.data_dir = dir_;
  state.options.shards = 4;
  state.options.topo = "zk";
  state.topo_address = "zk://127.0.0.1:15002/shale";
  state.Put(
      {"gate", "gate", 123, {"/bin/shale", "gate"}, {{"pg", 15432}}, dir_ + "/logs/gate.log"});
  state.Put({"ctld", "ctld", 7, {"/bin/shale", "ctld"}, {{"http", 15000}}, "x"});
  state.Put({"gate", "gate", 124, {"/bin/shale", "gate"}, {{"pg", 15432}}, "y"});
  ASSERT_TRUE(WriteState(dir_, state).ok());
  absl::StatusOr<LocalState> read = ReadState(dir_);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->options, state.options);
  EXPECT_EQ(read->topo_address, state.topo_address);
  ASSERT_EQ(read->processes.size(), 2u);
  EXPECT_EQ(read->Find("gate")->pid, 124);
  EXPECT_EQ(read->Find("gate")->ports.at("pg"), 15432);
  EXPECT_EQ(read->Find("ctld")->argv, (std::vector<std::string>{"/bin/shale", "ctld"}));
  EXPECT_EQ(read->Find("tablet"), nullptr);
}

TEST_F(ProcessStateTest, Corrupt) {
  std::ofstream(StatePath(dir_)) << "{not json";
  absl::Status s = ReadState(dir_).status();
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
}

TEST_F(ProcessStateTest, DetachedProcessLifecycle) {
  const std::vector<std::string> argv = {"/bin/sleep", "600"};
  absl::StatusOr<pid_t> pid = StartDetached(argv, dir_ + "/sleep.log");
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_TRUE(IsAlive(*pid, argv));
  EXPECT_FALSE(IsAlive(*pid, {"/bin/sleep", "601"}));  // another command line: not ours
  std::vector<std::string> lines;
  std::vector<std::string> left = StopAll({{"sleep", *pid, argv}}, absl::Seconds(10),
                                          [&](const std::string& l) { lines.push_back(l); });
  EXPECT_TRUE(left.empty());
  EXPECT_FALSE(IsAlive(*pid, argv));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("stopped sleep"), std::string::npos) << lines[0];
  EXPECT_TRUE(absl::IsNotFound(StartDetached({"/nonexistent/x"}, dir_ + "/x.log").status()));
}

TEST_F(ProcessStateTest, DirLockIsExclusive) {
  auto first = DirLock::Acquire(dir_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(absl::IsFailedPrecondition(DirLock::Acquire(dir_).status()));
  first->reset();
  EXPECT_TRUE(DirLock::Acquire(dir_).ok());
}

}  // namespace
}  // namespace shale::local
