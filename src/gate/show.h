#pragma once

// SHOW: the gateway's introspection statements (DESIGN §5) and session
// settings.
//   SHOW KEYSPACES  keyspaces in the topology
//   SHOW SHARDS     keyspace, shard, key range and current primary
//   SHOW TABLETS    every tablet discovery knows, with health and lag
//   SHOW TABLES     the session keyspace's tables in the gateway's catalog
//                   (VSchema): layout, sharding column, table id
//   SHOW <name>     a session setting (SET) or a server default
// Stateless; any thread.

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "gate/gate_context.h"
#include "tablet_data.pb.h"

namespace shale::gate {

// NotFound (42704) for an unknown setting.
absl::StatusOr<tablet::QueryResult> ShowResult(GateContext& ctx, const std::string& what,
                                               const std::string& keyspace,
                                               const std::map<std::string, std::string>& settings);

}  // namespace shale::gate
