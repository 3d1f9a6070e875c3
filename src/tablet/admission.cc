#include "tablet/admission.h"

#include "absl/strings/str_cat.h"
#include "tablet/engine/sqlite_errors.h"

namespace shale::tablet {

absl::StatusOr<Admission::Ticket> Admission::Admit() {
  int64_t n = in_flight_.fetch_add(1, std::memory_order_relaxed);
  if (n >= max_) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    rejected_.fetch_add(1, std::memory_order_relaxed);
    // 53300 too_many_connections: the PostgreSQL code clients treat as "retry later".
    return engine::SqlError(absl::StatusCode::kResourceExhausted, "53300",
                            absl::StrCat("tablet overloaded: ", max_,
                                         " queries already in flight; retry later"));
  }
  return Ticket(this);
}

}  // namespace shale::tablet
