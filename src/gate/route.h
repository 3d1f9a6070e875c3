#pragma once

// Route completes a plan for one execution (DESIGN §5): with the parameter
// values known, it names the shards a statement goes to and the text each
// one gets (a multi-row INSERT is split per shard). Stateless; any thread.

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gate/executor.h"
#include "gate/keyspace_schema.h"
#include "gate/plan.h"
#include "gate/sql/ast.h"
#include "gate/target.h"
#include "tablet_data.pb.h"

namespace shale::gate {

// The shard queries of a kQuery plan. Errors (with SQLSTATE): a sharding
// value that is NULL or of the wrong kind, a keyspace without serving shards.
absl::StatusOr<std::vector<ShardQuery>> Route(const Plan& plan, const sql::Statement& stmt,
                                              const KeyspaceSchema& schema,
                                              const SessionTarget& target,
                                              absl::Span<const tablet::Value> params);

// The value of a literal or $n expression. InvalidArgument for anything else.
absl::StatusOr<tablet::Value> ValueOf(const sql::Expr& e, absl::Span<const tablet::Value> params);

}  // namespace shale::gate
