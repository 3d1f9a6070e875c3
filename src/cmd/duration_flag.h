#pragma once

// Duration flags (--failover-after 1.5s, --wait-replicas-timeout 30s): absl's
// spelling ("1.5s", "500ms", "2m"), or a plain number of seconds.

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shale::cmd {

// InvalidArgument naming the input for anything else, or a negative duration.
absl::StatusOr<absl::Duration> ParseDurationFlag(absl::string_view text);

// A CLI11 check that the option parses with ParseDurationFlag (bad usage, exit 2).
CLI::Validator DurationValidator();

}  // namespace shale::cmd
