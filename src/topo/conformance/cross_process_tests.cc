// Conformance: several processes sharing one store, through the
// topo_conformance_helper binary. Skipped for process-local backends.

#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/subprocess.h"
#include "topo/conformance/conformance_suite.h"

namespace shale::topo::conformance {
namespace {

constexpr absl::Duration kShort = absl::Milliseconds(300);
constexpr absl::Duration kLong = absl::Seconds(30);
constexpr char kHelper[] = "topo_conformance_helper";
constexpr char kNoCrossProcess[] = "its store is local to one process";

// Starts the helper with args; fails the test (returning null) on error.
std::unique_ptr<Subprocess> StartHelper(const std::vector<std::string>& args) {
  const std::string helper = FindBinary(kHelper);
  if (helper.empty()) {
    ADD_FAILURE() << kHelper << " not found ($SHALE_BIN_DIR or next to the test)";
    return nullptr;
  }
  std::vector<std::string> argv = {helper};
  argv.insert(argv.end(), args.begin(), args.end());
  auto process = std::make_unique<Subprocess>();
  absl::Status status = process->Start(argv);
  if (!status.ok()) {
    ADD_FAILURE() << "starting " << helper << ": " << status;
    return nullptr;
  }
  return process;
}

std::vector<std::string> LockArgs(const std::string& address, const std::string& dir,
                                  absl::Duration ttl) {
  return {"lock", address, dir, "--lock-ttl-ms", absl::StrCat(absl::ToInt64Milliseconds(ttl))};
}

TEST_P(TopoConformanceTest, CrossProcessLockExclusion) {
  SHALE_REQUIRE_FEATURE(Feature::kCrossProcess, kNoCrossProcess);
  const std::string address = backend().address();

  // The helper holds the lock: this process cannot take it.
  std::unique_ptr<Subprocess> holder = StartHelper(LockArgs(address, "/ks", absl::Seconds(10)));
  ASSERT_NE(holder, nullptr);
  ASSERT_EQ(holder->ReadLine(kLong).value_or("<no line>"), "LOCKED");
  ASSERT_OK_AND_ASSIGN(Versioned node, conn_->Get("/ks/locks/lock"));
  EXPECT_EQ(node.value, absl::StrCat("helper pid ", holder->pid()));
  EXPECT_CODE(conn_->Lock("/ks", "test process", kShort), kDeadlineExceeded);
  ASSERT_OK(holder->WriteLine("unlock"));
  EXPECT_EQ(holder->ReadLine(kLong).value_or("<no line>"), "UNLOCKED");
  EXPECT_EQ(holder->WaitFor(kLong).value_or(-1), 0);

  // This process holds it: a helper waits until it is released.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LockHandle> mine, conn_->Lock("/ks", "test", kLong));
  std::unique_ptr<Subprocess> waiter = StartHelper(LockArgs(address, "/ks", absl::Seconds(10)));
  ASSERT_NE(waiter, nullptr);
  EXPECT_CODE(waiter->ReadLine(kShort), kDeadlineExceeded);  // still waiting
  ASSERT_OK(mine->Unlock());
  ASSERT_EQ(waiter->ReadLine(kLong).value_or("<no line>"), "LOCKED");
  ASSERT_OK(waiter->CloseStdin());  // EOF also releases
  EXPECT_EQ(waiter->ReadLine(kLong).value_or("<no line>"), "UNLOCKED");
  EXPECT_EQ(waiter->WaitFor(kLong).value_or(-1), 0);
  ASSERT_OK_AND_ASSIGN(mine, conn_->Lock("/ks", "test again", kShort));
}

// A live holder keeps renewing its lease past lock_ttl; once it is killed
// with SIGKILL the lock frees itself within about lock_ttl.
TEST_P(TopoConformanceTest, CrossProcessLockFreedAfterHolderIsKilled) {
  SHALE_REQUIRE_FEATURE(Feature::kCrossProcess, kNoCrossProcess);
  constexpr absl::Duration kTtl = absl::Seconds(1);
  std::unique_ptr<Subprocess> holder =
      StartHelper(LockArgs(backend().address(), "/keyspaces/app", kTtl));
  ASSERT_NE(holder, nullptr);
  ASSERT_EQ(holder->ReadLine(kLong).value_or("<no line>"), "LOCKED");
  EXPECT_CODE(conn_->Lock("/keyspaces/app", "test", 2 * kTtl), kDeadlineExceeded);

  ASSERT_OK(holder->Kill(SIGKILL));
  EXPECT_EQ(holder->WaitFor(kLong).value_or(-1), 128 + SIGKILL);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LockHandle> lock,
                       conn_->Lock("/keyspaces/app", "after the kill", 10 * kTtl));
  EXPECT_OK(lock->Check());
  ASSERT_OK_AND_ASSIGN(Versioned node, conn_->Get("/keyspaces/app/locks/lock"));
  EXPECT_EQ(node.value, "after the kill");
}

// N processes each CAS-increment one counter M times: no update is lost.
TEST_P(TopoConformanceTest, CrossProcessCasIncrementsLoseNoUpdate) {
  SHALE_REQUIRE_FEATURE(Feature::kCrossProcess, kNoCrossProcess);
  constexpr int kProcesses = 4;
  constexpr int kIncrements = 50;
  ASSERT_OK(conn_->Create("/global/meta/counter", "0"));
  std::vector<std::unique_ptr<Subprocess>> workers;
  for (int i = 0; i < kProcesses; ++i) {
    workers.push_back(StartHelper(
        {"incr", backend().address(), "/global/meta/counter", absl::StrCat(kIncrements)}));
    ASSERT_NE(workers.back(), nullptr);
  }
  for (auto& worker : workers) {
    EXPECT_EQ(worker->ReadLine(absl::Seconds(120)).value_or("<no line>"), "DONE");
    EXPECT_EQ(worker->WaitFor(kLong).value_or(-1), 0);
  }
  ASSERT_OK_AND_ASSIGN(Versioned counter, conn_->Get("/global/meta/counter"));
  EXPECT_EQ(counter.value, absl::StrCat(kProcesses * kIncrements));
}

}  // namespace
}  // namespace shale::topo::conformance
