// FailoverController's status for people and programs: /debug/failover and
// /debug/vars (JSON), and the /debug/status section (HTML).

#include "absl/strings/str_cat.h"
#include "base/http/html.h"
#include "ctld/failover.h"

namespace shale::ctld {
namespace {

std::string TimeString(absl::Time t) {
  if (t == absl::InfinitePast()) return "";
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

std::string Ms(absl::Duration d) {
  return absl::StrCat(absl::ToInt64Milliseconds(d), " ms");
}

}  // namespace

nlohmann::json FailoverController::StatusJson() const {
  nlohmann::json shards = nlohmann::json::array();
  std::string discovery_error;
  bool running = false;
  {
    absl::MutexLock l(&mu_);
    const absl::Time now = absl::Now();
    discovery_error = discovery_error_;
    running = started_ && !stopping_;
    for (const auto& entry : shards_) {
      const Shard& s = *entry.second;
      nlohmann::json j = {{"keyspace", s.keyspace},
                          {"shard", s.name},
                          {"primary", nullptr},
                          {"term", s.record.primary_term()},
                          {"failover_running", s.failover_running}};
      if (s.monitor != nullptr) {
        const PrimaryHealth h = s.monitor->Health();
        j["primary"] = h.alias.ToString();
        j["health"] = {{"address", h.address},
                       {"stream_open", h.stream_open},
                       {"down", h.down_since.has_value()},
                       {"down_for_ms", absl::ToDoubleMilliseconds(h.DownFor(now))},
                       {"last_contact", TimeString(h.last_contact)},
                       {"last_error", h.last_error},
                       {"tablet_type", topodata::TabletType_Name(h.type)},
                       {"serving", h.serving},
                       {"health_messages", h.messages}};
      }
      shards.push_back(std::move(j));
    }
  }
  return {{"running", running},
          {"failover_after_ms", absl::ToDoubleMilliseconds(options_.failover_after)},
          {"discovery_error", discovery_error},
          {"shards", shards},
          {"history", history_.ToJson()}};
}

std::string FailoverController::StatusHtml() const {
  std::vector<std::vector<std::string>> shard_rows;
  {
    absl::MutexLock l(&mu_);
    const absl::Time now = absl::Now();
    for (const auto& entry : shards_) {
      const Shard& s = *entry.second;
      std::vector<std::string> row = {entry.first, "", absl::StrCat(s.record.primary_term()), "",
                                      s.failover_running ? "running" : ""};
      if (s.monitor != nullptr) {
        const PrimaryHealth h = s.monitor->Health();
        row[1] = h.alias.ToString();
        row[3] = h.down_since.has_value()
                     ? absl::StrCat("down for ", Ms(h.DownFor(now)), ": ", h.last_error)
                     : absl::StrCat("up (", topodata::TabletType_Name(h.type),
                                    h.serving ? ", serving" : ", not serving", ")");
      } else {
        row[1] = "(none)";
      }
      shard_rows.push_back(std::move(row));
    }
  }
  std::vector<std::vector<std::string>> history_rows;
  for (const ReparentEvent& e : history_.Recent()) {
    history_rows.push_back({TimeString(e.time), absl::StrCat(e.keyspace, "/", e.shard),
                            OutcomeName(e.outcome),
                            absl::StrCat(e.old_primary, " (term ", e.old_term, ")"),
                            e.new_primary.empty()
                                ? ""
                                : absl::StrCat(e.new_primary, " (term ", e.new_term, ")"),
                            Ms(e.down_for), Ms(e.took), e.message});
  }
  return absl::StrCat(
      running() ? "" : "<p>Not running: only the leading ctld watches primaries.</p>",
      "<p>Failover after ", Ms(options_.failover_after), " of unreachability. JSON: ",
      "<a href=\"/debug/failover\">/debug/failover</a></p>",
      http::HtmlTable({"shard", "primary", "term", "health", "failover"}, shard_rows),
      "<h3>Recent failovers</h3>",
      history_rows.empty()
          ? std::string("<p>none</p>")
          : http::HtmlTable({"time", "shard", "outcome", "old primary", "new primary", "down for",
                             "took", "message"},
                            history_rows));
}

}  // namespace shale::ctld
