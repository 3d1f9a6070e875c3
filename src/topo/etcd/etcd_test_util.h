#pragma once

// Helpers shared by this folder's tests: an event recorder, a deadline-bound
// wait for a condition, and a port nobody listens on.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/backoff.h"
#include "topo/conn.h"

namespace shale::topo::etcd_test {

// Collects watch events; thread-safe. The callback shares the state, so a
// late call after the recorder is gone is harmless.
class Recorder {
 public:
  WatchCallback Callback() {
    return [state = state_](const WatchEvent& e) {
      absl::MutexLock l(&state->mu);
      state->events.push_back(e);
    };
  }
  // Waits until pred(events) holds (or timeout); returns the events.
  std::vector<WatchEvent> WaitUntil(const std::function<bool(const std::vector<WatchEvent>&)>& pred,
                                    absl::Duration timeout = absl::Seconds(20)) {
    absl::MutexLock l(&state_->mu);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) { return pred(state_->events); };
    state_->mu.AwaitWithTimeout(absl::Condition(&done), timeout);
    return state_->events;
  }
  std::vector<WatchEvent> events() {
    absl::MutexLock l(&state_->mu);
    return state_->events;
  }

 private:
  struct State {
    absl::Mutex mu;
    std::vector<WatchEvent> events ABSL_GUARDED_BY(mu);
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

inline bool HasKind(const std::vector<WatchEvent>& events, WatchEvent::Kind kind) {
  for (const WatchEvent& e : events) {
    if (e.kind == kind) return true;
  }
  return false;
}

inline bool HasValue(const std::vector<WatchEvent>& events, const std::string& value) {
  for (const WatchEvent& e : events) {
    if (e.kind == WatchEvent::Kind::kChanged && e.value == value) return true;
  }
  return false;
}

inline std::string Describe(const std::vector<WatchEvent>& events) {
  std::string out;
  for (const WatchEvent& e : events) {
    const char* kind = e.kind == WatchEvent::Kind::kChanged   ? "changed"
                       : e.kind == WatchEvent::Kind::kDeleted ? "deleted"
                                                              : "error";
    absl::StrAppend(&out, "[", kind, " ", e.path, " '", e.value, "' v", e.version, "] ");
  }
  return out;
}

// Polls cond (10ms growing to 200ms apart) until it holds or timeout passes.
inline bool Eventually(const std::function<bool()>& cond, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  Backoff backoff(absl::Milliseconds(10), absl::Milliseconds(200));
  for (;;) {
    if (cond()) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(backoff.Next());
  }
}

// "127.0.0.1:PORT" of a loopback port that was free a moment ago, so that
// connecting to it is refused.
inline std::string DeadEndpoint() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
}

}  // namespace shale::topo::etcd_test
