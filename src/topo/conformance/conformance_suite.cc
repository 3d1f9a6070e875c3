#include "topo/conformance/conformance_suite.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shale::topo::conformance {

std::string BackendSpecName(const ::testing::TestParamInfo<BackendSpec>& info) {
  return info.param.name;
}

void PrintTo(const BackendSpec& spec, std::ostream* os) { *os << spec.name; }

void TopoConformanceTest::SetUp() {
  fixture_ = GetParam().make();
  ASSERT_NE(fixture_, nullptr) << "backend " << GetParam().name << " made no fixture";
  conn_ = NewConn();
  ASSERT_NE(conn_, nullptr);
}

void TopoConformanceTest::TearDown() {
  conn_.reset();
  fixture_.reset();
}

std::unique_ptr<Conn> TopoConformanceTest::NewConn(const ConnOptions& options) {
  auto conn = fixture_->NewConn(options);
  if (!conn.ok()) {
    ADD_FAILURE() << "NewConn on backend " << GetParam().name << ": " << conn.status();
    return nullptr;
  }
  return std::move(*conn);
}

EventRecorder::EventRecorder() : state_(std::make_shared<State>()) {}

WatchCallback EventRecorder::Callback() {
  return [state = state_](const WatchEvent& event) {
    absl::MutexLock l(&state->mu);
    if (state->cancelled) ++state->late_calls;
    state->events.push_back(event);
  };
}

std::vector<WatchEvent> EventRecorder::WaitUntil(
    const std::function<bool(const std::vector<WatchEvent>&)>& pred, absl::Duration timeout) {
  State& s = *state_;
  absl::MutexLock l(&s.mu);
  auto done = [&s, &pred]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) { return pred(s.events); };
  s.mu.AwaitWithTimeout(absl::Condition(&done), timeout);
  return s.events;
}

std::vector<WatchEvent> EventRecorder::WaitForCount(size_t n, absl::Duration timeout) {
  return WaitUntil([n](const std::vector<WatchEvent>& events) { return events.size() >= n; },
                   timeout);
}

std::vector<WatchEvent> EventRecorder::events() {
  absl::MutexLock l(&state_->mu);
  return state_->events;
}

void EventRecorder::MarkCancelled() {
  absl::MutexLock l(&state_->mu);
  state_->cancelled = true;
}

int EventRecorder::late_calls() {
  absl::MutexLock l(&state_->mu);
  return state_->late_calls;
}

std::string DescribeEvent(const WatchEvent& event) {
  switch (event.kind) {
    case WatchEvent::Kind::kChanged:
      return absl::StrCat("kChanged ", event.path, " '", event.value, "' v", event.version);
    case WatchEvent::Kind::kDeleted:
      return absl::StrCat("kDeleted ", event.path);
    case WatchEvent::Kind::kError:
      return absl::StrCat("kError ", event.path, " ", event.error.ToString());
  }
  return "?";
}

std::string DescribeEvents(const std::vector<WatchEvent>& events) {
  return absl::StrCat(
      "[", absl::StrJoin(events, ", ", [](std::string* out, const WatchEvent& e) {
        absl::StrAppend(out, DescribeEvent(e));
      }),
      "]");
}

}  // namespace shale::topo::conformance
