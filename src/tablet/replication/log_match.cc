#include "tablet/replication/log_match.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace shale::tablet::replication {

absl::Status CheckLogMatch(engine::Engine& engine, const LogState& state, int64_t seq, int64_t term,
                           absl::string_view who, absl::string_view remedy) {
  absl::StatusOr<LogEntry> entry = ReadEntry(engine, seq);
  if (absl::IsNotFound(entry.status())) {
    return absl::OutOfRangeError(
        absl::StrCat("log entry ", seq, " of ", who,
                     " was purged here (oldest retained: ", state.first_seq, "): ", remedy));
  }
  RETURN_IF_ERROR(entry.status());
  if (entry->term() != term) {
    return absl::FailedPreconditionError(absl::StrCat("diverged: log entry ", seq, " has term ",
                                                      entry->term(), " here but term ", term,
                                                      " on ", who));
  }
  return absl::OkStatus();
}

}  // namespace shale::tablet::replication
