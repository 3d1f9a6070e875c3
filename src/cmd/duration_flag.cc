#include "cmd/duration_flag.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shale::cmd {

absl::StatusOr<absl::Duration> ParseDurationFlag(absl::string_view text) {
  absl::Duration d;
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad duration \"", text, "\": use e.g. 1.5s, 500ms, 2m, or seconds"));
  }
  if (d < absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad duration \"", text, "\": must be finite and not negative"));
  }
  return d;
}

CLI::Validator DurationValidator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        absl::StatusOr<absl::Duration> d = ParseDurationFlag(value);
        return d.ok() ? std::string() : std::string(d.status().message());
      },
      "DURATION");
}

}  // namespace shale::cmd
