#pragma once

// The topology conformance suite (DESIGN §2, §8): one value-parameterised
// gtest suite, TopoConformanceTest, that every topology backend must pass.
//
// A backend joins by instantiating the suite with a BackendSpec whose `make`
// returns a fresh BackendFixture (see memory_instantiation.cc):
//
//   INSTANTIATE_TEST_SUITE_P(Memory, TopoConformanceTest,
//                            ::testing::Values(BackendSpec{"memory", &MakeMemoryFixture}),
//                            BackendSpecName);
//
// The suite's TEST_P sources are compiled straight into the test executable
// (a static library would let the linker drop them).

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "topo/conn.h"

namespace shale::topo::conformance {

// Optional abilities; a test that needs one a backend lacks is skipped.
enum class Feature {
  // Other processes can open address() and share the store, and a lock whose
  // holder process died frees itself after ConnOptions::lock_ttl.
  kCrossProcess,
  // Not an ability but a declared limit: a watch may fold fast successive
  // writes of one path into one report (ZooKeeper's one-shot watches re-read
  // the node after each notification). Its reports are then an in-order
  // subsequence of the values written that ends with the latest one, and the
  // tests that count every write check that instead.
  kWatchCoalescesWrites,
};

// One clean store of one backend, made for one test and destroyed after it
// (removing any files it created). Conns made by NewConn all share the store.
// Used from the test's thread only.
class BackendFixture {
 public:
  virtual ~BackendFixture() = default;
  // A new connection to this fixture's store.
  virtual absl::StatusOr<std::unique_ptr<Conn>> NewConn(const ConnOptions& options) = 0;
  // The topology address another process passes to OpenConn to reach the
  // same store; empty when the store is process-local.
  virtual std::string address() const = 0;
  virtual bool Supports(Feature feature) const = 0;
};

struct BackendSpec {
  std::string name;  // a valid test-name fragment: letters, digits, '_'
  std::function<std::unique_ptr<BackendFixture>()> make;
};

// Lets gtest print a BackendSpec by its name in failure messages.
void PrintTo(const BackendSpec& spec, std::ostream* os);

// For INSTANTIATE_TEST_SUITE_P: names each instantiation after its backend.
std::string BackendSpecName(const ::testing::TestParamInfo<BackendSpec>& info);

// The per-test fixture: a fresh backend store and one Conn on it (conn_).
class TopoConformanceTest : public ::testing::TestWithParam<BackendSpec> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Another Conn on the same store; fails the test (and returns null) on error.
  std::unique_ptr<Conn> NewConn(const ConnOptions& options = {});
  BackendFixture& backend() { return *fixture_; }

  std::unique_ptr<BackendFixture> fixture_;
  std::unique_ptr<Conn> conn_;
};

// Status helpers for assertions that print the actual status on failure.
inline absl::Status StatusOf(const absl::Status& status) { return status; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

#define EXPECT_OK(expr)                                                        \
  do {                                                                         \
    const absl::Status shale_s_ = ::shale::topo::conformance::StatusOf(expr);  \
    EXPECT_TRUE(shale_s_.ok()) << #expr << " returned " << shale_s_;          \
  } while (0)

#define ASSERT_OK(expr)                                                        \
  do {                                                                         \
    const absl::Status shale_s_ = ::shale::topo::conformance::StatusOf(expr);  \
    ASSERT_TRUE(shale_s_.ok()) << #expr << " returned " << shale_s_;          \
  } while (0)

// EXPECT_CODE(conn_->Get("/x"), kNotFound)
#define EXPECT_CODE(expr, expected_code)                                       \
  do {                                                                         \
    const absl::Status shale_s_ = ::shale::topo::conformance::StatusOf(expr);  \
    EXPECT_EQ(shale_s_.code(), absl::StatusCode::expected_code)                \
        << #expr << " returned " << shale_s_;                                  \
  } while (0)

#define SHALE_CONF_CONCAT_INNER_(a, b) a##b
#define SHALE_CONF_CONCAT_(a, b) SHALE_CONF_CONCAT_INNER_(a, b)
#define SHALE_CONF_ASSIGN_IMPL_(tmp, lhs, expr)                    \
  auto tmp = (expr);                                               \
  ASSERT_TRUE(tmp.ok()) << #expr << " returned " << tmp.status(); \
  lhs = std::move(tmp).value()
// ASSERT_OK_AND_ASSIGN(Versioned v, conn_->Get("/x"));
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  SHALE_CONF_ASSIGN_IMPL_(SHALE_CONF_CONCAT_(shale_conf_r_, __LINE__), lhs, expr)

// Skips the current test unless the backend supports `feature`.
#define SHALE_REQUIRE_FEATURE(feature, reason)                                   \
  do {                                                                         \
    if (!backend().Supports(feature)) {                                        \
      GTEST_SKIP() << GetParam().name << " backend: " << (reason);            \
    }                                                                          \
  } while (0)

// Records the events of one watch for assertions. The callback shares the
// recorder's state, so a late callback after the recorder is gone is harmless
// (and counted by late_calls() while the recorder lives). Thread-safe.
class EventRecorder {
 public:
  EventRecorder();
  WatchCallback Callback();
  // Waits until pred(events) holds or timeout passes; returns the events seen.
  std::vector<WatchEvent> WaitUntil(const std::function<bool(const std::vector<WatchEvent>&)>& pred,
                                    absl::Duration timeout = absl::Seconds(20));
  // Waits until at least n events arrived (or timeout); returns them.
  std::vector<WatchEvent> WaitForCount(size_t n, absl::Duration timeout = absl::Seconds(20));
  std::vector<WatchEvent> events();
  // Call once the WatchHandle is destroyed: later callbacks count as late.
  void MarkCancelled();
  int late_calls();

 private:
  struct State {
    absl::Mutex mu;
    std::vector<WatchEvent> events ABSL_GUARDED_BY(mu);
    bool cancelled ABSL_GUARDED_BY(mu) = false;
    int late_calls ABSL_GUARDED_BY(mu) = 0;
  };
  std::shared_ptr<State> state_;
};

// "kChanged /a v=1" and the like, for failure messages.
std::string DescribeEvent(const WatchEvent& event);
std::string DescribeEvents(const std::vector<WatchEvent>& events);

}  // namespace shale::topo::conformance
