#pragma once

// The "resharded" error of a primary switch (issue 10, docs/resharding.md):
// what a tablet answers to a PRIMARY statement once its shard no longer
// serves primary traffic (ThawWrites with resharded, or a Shard record whose
// served_types lacks PRIMARY). A gateway that gets it holds the statement
// until its SrvKeyspace changes and plans it again on the new shards.
//
// FailedPrecondition, SQLSTATE 40001 (a client that ever sees it may retry),
// message "resharded: <keyspace>/<shard> no longer serves primary traffic;
// ...". MovedTableError is its MoveTables form, for one table a shard no
// longer (or not yet) serves: same code, SQLSTATE and prefix, so IsResharded
// holds. Made on the tablet, read on the gateway: the predicate looks at the
// code and the message prefix only, which survive every transport (gRPC,
// the session port). Stateless functions, any thread.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shale::tablet {

absl::Status ReshardedError(absl::string_view keyspace, absl::string_view shard);
// "resharded: table T of KS/SHARD is served by another keyspace (MoveTables);
// re-plan with the new routing rules".
absl::Status MovedTableError(absl::string_view keyspace, absl::string_view shard,
                             absl::string_view table);
bool IsResharded(const absl::Status& status);

}  // namespace shale::tablet
