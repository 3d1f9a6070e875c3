#pragma once

// The Planner turns a parsed statement into a Plan (plan.h) against one
// keyspace's schema (DESIGN §5's planning table):
//   - INSERT routes each row by its sharding value; a multi-row INSERT is
//     split per shard;
//   - SELECT / UPDATE / DELETE with `col = v` or `col IN (...)` on the
//     sharding column go to those shards; anything else scatters;
//   - a scattered SELECT merges ORDER BY + LIMIT, COUNT, SUM, MIN, MAX, AVG,
//     GROUP BY and DISTINCT at the gateway (gate/merge);
//   - joins run when every sharded table lands on one shard (a one-shard
//     target or keyspace) or the others are reference tables.
// What the gateway cannot run correctly gets a clear error with a real
// SQLSTATE (0A000 feature_not_supported, ...), never a wrong answer.
//
// Stateless functions; safe from any thread.

#include "absl/status/statusor.h"
#include "gate/keyspace_schema.h"
#include "gate/plan.h"
#include "gate/sql/ast.h"
#include "gate/target.h"

namespace shale::gate {

// The plan of stmt for a session addressing target. The plan points into
// stmt, which must outlive it. Errors carry a SQLSTATE.
absl::StatusOr<Plan> PlanStatement(const sql::Statement& stmt, const KeyspaceSchema& schema,
                                   const SessionTarget& target);

// Planner parts, one file each.
absl::StatusOr<Plan> PlanSelect(const sql::Statement& stmt, const KeyspaceSchema& schema,
                                const SessionTarget& target);  // planner_select.cc
absl::StatusOr<Plan> PlanInsert(const sql::Statement& stmt, const KeyspaceSchema& schema);
absl::StatusOr<Plan> PlanUpdateDelete(const sql::Statement& stmt, const KeyspaceSchema& schema);

// Helpers shared by the parts (planner.cc).
absl::Status Unsupported(absl::string_view what);
// The sharding values of `column` of the table known as `name` / `alias` in
// where's top-level conjuncts: `col = v`, `v = col`, `col IN (v, ...)` with
// literal or $n values. Empty when there are none.
std::vector<const sql::Expr*> ShardingValues(const sql::Expr* where, absl::string_view column,
                                             absl::string_view name, absl::string_view alias);
// The text sent to a shard: [begin, end) of the statement with $n -> ?n.
std::string ShardText(const sql::Statement& stmt, sql::Span span);

}  // namespace shale::gate
