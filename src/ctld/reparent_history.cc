#include "ctld/reparent_history.h"

namespace shale::ctld {

const char* OutcomeName(ReparentEvent::Outcome outcome) {
  switch (outcome) {
    case ReparentEvent::Outcome::kSucceeded:
      return "succeeded";
    case ReparentEvent::Outcome::kSkipped:
      return "skipped";
    case ReparentEvent::Outcome::kFailed:
      return "failed";
  }
  return "failed";
}

nlohmann::json ReparentEvent::ToJson() const {
  return {
      {"time", absl::FormatTime(absl::RFC3339_full, time, absl::UTCTimeZone())},
      {"keyspace", keyspace},
      {"shard", shard},
      {"trigger", trigger},
      {"outcome", OutcomeName(outcome)},
      {"old_primary", old_primary},
      {"old_term", old_term},
      {"new_primary", new_primary},
      {"new_term", new_term},
      {"message", message},
      {"down_for_ms", absl::ToDoubleMilliseconds(down_for)},
      {"took_ms", absl::ToDoubleMilliseconds(took)},
      {"result", result},
  };
}

void ReparentHistory::Add(ReparentEvent event) {
  absl::MutexLock l(&mu_);
  events_.push_back(std::move(event));
  while (events_.size() > limit_) events_.pop_front();
}

std::vector<ReparentEvent> ReparentHistory::Recent() const {
  absl::MutexLock l(&mu_);
  return std::vector<ReparentEvent>(events_.rbegin(), events_.rend());
}

nlohmann::json ReparentHistory::ToJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (const ReparentEvent& e : Recent()) out.push_back(e.ToJson());
  return out;
}

}  // namespace shale::ctld
