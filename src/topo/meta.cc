// topo::Server methods for cluster-wide meta counters.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "topo/paths.h"
#include "topo/server.h"

namespace shale::topo {

absl::StatusOr<int64_t> Server::AllocateTableId() {
  const std::string path = paths::NextTableId();
  for (int attempt = 0; attempt < 1000; ++attempt) {
    absl::StatusOr<Versioned> current = global_->Get(path);
    if (absl::IsNotFound(current.status())) {
      // The counter holds the next id to hand out; id 1 goes to the creator.
      absl::Status s = global_->Create(path, "2").status();
      if (s.ok()) return 1;
      if (absl::IsAlreadyExists(s)) continue;
      return s;
    }
    RETURN_IF_ERROR(current.status());
    int64_t next = 0;
    if (!absl::SimpleAtoi(current->value, &next) || next < 1) {
      return absl::DataLossError(
          absl::StrCat(path, " holds \"", current->value, "\", not a positive integer"));
    }
    absl::Status s = global_->Update(path, absl::StrCat(next + 1), current->version).status();
    if (s.ok()) return next;
    if (!absl::IsAborted(s) && !absl::IsNotFound(s)) return s;
  }
  return absl::AbortedError("table id allocation lost 1000 races in a row");
}

}  // namespace shale::topo
