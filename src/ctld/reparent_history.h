#pragma once

// ReparentHistory: the bounded list of recent failovers (and failover
// attempts that were skipped or failed) that ctld shows on /debug/failover,
// /debug/vars and its status page. Thread-safe; owned by the
// FailoverController.

#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace shale::ctld {

// One failover attempt.
struct ReparentEvent {
  enum class Outcome { kSucceeded, kSkipped, kFailed };

  absl::Time time;  // when it finished
  std::string keyspace;
  std::string shard;
  std::string trigger;  // why it ran: "primary zone1-101 unreachable for 1.5s: ..."
  Outcome outcome = Outcome::kFailed;
  std::string old_primary;
  int64_t old_term = 0;
  std::string new_primary;
  int64_t new_term = 0;
  std::string message;           // the result's message, the skip reason, or the error
  absl::Duration down_for;       // how long the primary had been down when it started
  absl::Duration took;           // the emergency reparent itself
  nlohmann::json result;         // the ReparentResult as JSON (null on error)

  nlohmann::json ToJson() const;
};

// "succeeded", "skipped" or "failed".
const char* OutcomeName(ReparentEvent::Outcome outcome);

class ReparentHistory {
 public:
  explicit ReparentHistory(size_t limit) : limit_(limit) {}

  // Appends event, dropping the oldest beyond the limit.
  void Add(ReparentEvent event);
  // Newest first.
  std::vector<ReparentEvent> Recent() const;
  // Recent() as a JSON array.
  nlohmann::json ToJson() const;

 private:
  const size_t limit_;
  mutable absl::Mutex mu_;
  std::deque<ReparentEvent> events_ ABSL_GUARDED_BY(mu_);  // oldest first
};

}  // namespace shale::ctld
