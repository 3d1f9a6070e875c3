#include "tablet/client/resharded.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"

namespace shale::tablet {
namespace {

constexpr absl::string_view kPrefix = "resharded:";

}  // namespace

absl::Status ReshardedError(absl::string_view keyspace, absl::string_view shard) {
  return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kSerializationFailure,
                  absl::StrCat(kPrefix, " ", keyspace, "/", shard,
                               " no longer serves primary traffic; re-plan with the new "
                               "serving graph"));
}

absl::Status MovedTableError(absl::string_view keyspace, absl::string_view shard,
                             absl::string_view table) {
  return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kSerializationFailure,
                  absl::StrCat(kPrefix, " table ", table, " of ", keyspace, "/", shard,
                               " is served by another keyspace (MoveTables); re-plan with the "
                               "new routing rules"));
}

bool IsResharded(const absl::Status& status) {
  return absl::IsFailedPrecondition(status) && absl::StartsWith(status.message(), kPrefix);
}

}  // namespace shale::tablet
