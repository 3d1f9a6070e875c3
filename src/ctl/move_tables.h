#pragma once

// `shale ctl MoveTables` (docs/resharding.md "Moving tables"): the vertical
// split. Tables move from a source keyspace to a target keyspace with the
// copy, stream and switch phases of resharding; SwitchTraffic,
// ReverseTraffic, Complete and ReshardStatus of the target keyspace run
// this workflow when the keyspace has no resharding workflow of its own.
//
// The state is in the records, as for resharding:
//  - each target shard's source_shards name the source keyspace's shards
//    and the tables (the forward streams); after the primary switch the
//    source shards have reverse streams from the target's shards;
//  - Shard.denied_tables: the side that does not serve the tables to
//    PRIMARY statements refuses them with the retryable resharded error
//    (the target until the primary switch, the source afterwards), and a
//    stream that carries tables runs only on a shard that denies them;
//  - Keyspace.routing_rules: per tablet type, the keyspace that does not
//    serve the tables sends gateways to the one that does (copied into
//    every cell's SrvKeyspace).
//
// Free functions run on the calling thread; progress lines go to
// options.progress.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ctl/reshard.h"
#include "ctl/move_tables_workflow.h"
#include "ctl/switch_traffic.h"
#include "nlohmann/json.hpp"
#include "topo/server.h"

namespace shale::ctl {

// "t1,t2" → names. InvalidArgument for an empty list or a reserved name.
absl::StatusOr<std::vector<std::string>> ParseTableList(absl::string_view list);

// Starts moving tables from `from` to `to`: each shard of `to` follows the
// shards of `from` that overlap it, for those tables. Checks first,
// changing nothing on failure: both keyspaces exist and differ, every table
// is in from's VSchema and not in to's, every shard has a primary, and no
// workflow involves either keyspace. Adds the tables to to's VSchema with
// their table ids, routes them to `from` for every tablet type in to's
// Keyspace record, denies them on to's shards; then waits for the copy
// (options.wait).
absl::StatusOr<nlohmann::json> MoveTables(topo::Server& ts, absl::string_view from,
                                          absl::string_view to,
                                          const std::vector<std::string>& tables,
                                          const ReshardOptions& options);

// SwitchTraffic / ReverseTraffic / Complete / ReshardStatus of a MoveTables
// workflow (the caller holds the target keyspace's lock).
absl::StatusOr<nlohmann::json> SwitchMoveTables(topo::Server& ts, MoveTablesWorkflow wf,
                                                std::vector<topodata::TabletType> types,
                                                bool reverse, const SwitchOptions& options);
absl::StatusOr<nlohmann::json> CompleteMoveTables(topo::Server& ts, const MoveTablesWorkflow& wf,
                                                  bool drop_data, const SwitchOptions& options);
absl::StatusOr<nlohmann::json> MoveTablesStatus(topo::Server& ts, const MoveTablesWorkflow& wf);

}  // namespace shale::ctl
