#pragma once

// `shale ctl SwitchTraffic`, `ReverseTraffic` and `Complete`
// (docs/resharding.md): moving tablet types' serving between the old and
// new shards of a resharding workflow, and ending the workflow. A keyspace
// without a resharding workflow that receives tables from a MoveTables runs
// that workflow's versions (move_tables.h).
//
// The primary switch freezes the writes of the shards that serve PRIMARY,
// waits for the other side's streams to apply everything, turns the streams
// round, flips served_types and the SrvKeyspace partitions, and thaws the
// frozen writes with the "resharded" error, which gateways answer by
// re-planning onto the new shards. A failure before the flip undoes what it
// changed and lets the writes go on where they were.
//
// Free functions run on the calling thread; progress lines go to
// options.progress.

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ctl/move_tables_workflow.h"
#include "ctl/reshard_workflow.h"
#include "nlohmann/json.hpp"
#include "topo/server.h"

namespace shale::ctl {

struct SwitchOptions {
  absl::Duration lock_timeout = absl::Seconds(30);
  // How long the other side may take to apply the frozen shards' last
  // writes; past it the switch is undone. Writes wait meanwhile.
  absl::Duration catch_up_timeout = absl::Seconds(10);
  // Grace for open write transactions on the frozen shards.
  absl::Duration grace = absl::Seconds(1);
  std::function<void(const std::string&)> progress;
};

// A keyspace's workflow: its own resharding, or a MoveTables into it.
using KeyspaceWorkflow = std::variant<ReshardWorkflow, MoveTablesWorkflow>;

// NotFound (naming Reshard and MoveTables) when the keyspace has neither.
absl::StatusOr<KeyspaceWorkflow> FindKeyspaceWorkflow(topo::Server& ts,
                                                      absl::string_view keyspace);

// "primary", "replica", "rdonly".
std::string TabletTypeName(topodata::TabletType t);
bool HasTabletType(const std::vector<topodata::TabletType>& types, topodata::TabletType t);

// "rdonly,replica", "primary", ... → types. InvalidArgument otherwise.
absl::StatusOr<std::vector<topodata::TabletType>> ParseTabletTypes(absl::string_view list);

// Moves the types from the old shards to the new ones. REPLICA and RDONLY
// go first; PRIMARY last. FailedPrecondition while a stream still copies or
// when PRIMARY was already switched.
absl::StatusOr<nlohmann::json> SwitchTraffic(topo::Server& ts, absl::string_view keyspace,
                                             const std::vector<topodata::TabletType>& types,
                                             const SwitchOptions& options);

// Moves the types back to the old shards (empty: every type the new shards
// serve); PRIMARY first, with the forward streams restarted from the new
// shards' positions.
absl::StatusOr<nlohmann::json> ReverseTraffic(topo::Server& ts, absl::string_view keyspace,
                                              const std::vector<topodata::TabletType>& types,
                                              const SwitchOptions& options);

// Ends a workflow whose every tablet type was switched: removes the reverse
// streams; with drop_data also deletes the rows of the old shards' tables.
// The old shards then serve nothing; their tablets can be stopped and the
// shards removed with DeleteShard.
absl::StatusOr<nlohmann::json> Complete(topo::Server& ts, absl::string_view keyspace,
                                        bool drop_data, const SwitchOptions& options);

}  // namespace shale::ctl
