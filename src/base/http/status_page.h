#pragma once

// The HTML of /debug/status: a header with the process's identity, start
// time, uptime and health, links to the other routes, then the sections the
// owner contributed. Pure function, safe from any thread.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace shale::http {

struct StatusPageInfo {
  std::string title;
  std::string process_name;
  int pid = 0;
  absl::Time start_time;
  absl::Time now;
  absl::Status health;
  // Paths served, linked from the page.
  std::vector<std::string> links;
  // (title, HTML fragment): titles are escaped, fragments inserted as they are.
  std::vector<std::pair<std::string, std::string>> sections;
};

std::string RenderStatusPage(const StatusPageInfo& info);

// "2024-05-01 12:00:00 UTC".
std::string FormatStartTime(absl::Time t);
// Whole seconds, as absl spells durations: "1h2m3s".
std::string FormatUptime(absl::Duration d);

}  // namespace shale::http
