#pragma once

// Rebuilding the serving graph (DESIGN §2): SrvKeyspace, the per-cell record
// that gateways route with, computed from the global Shard records.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "topo/server.h"

namespace shale::ctl {

// Computes SrvKeyspace for keyspace and writes it to each of cells (every
// cell when empty). Checks every cell before writing any, so on error nothing
// changes. FailedPrecondition when a tablet type's serving shards leave a gap
// or overlap in some cell, unless allow_partial; NotFound for an unknown
// keyspace or cell; FailedPrecondition when there are no cells.
absl::Status RebuildKeyspaceGraph(topo::Server& ts, absl::string_view keyspace,
                                  const std::vector<std::string>& cells, bool allow_partial);

// Rebuilds one shard's part of the keyspace's SrvKeyspace in each of cells
// (every cell when empty): its references in each tablet type's partition.
// NotFound when a cell has no SrvKeyspace yet (run RebuildKeyspaceGraph).
absl::Status RebuildShardGraph(topo::Server& ts, absl::string_view keyspace,
                               absl::string_view shard, const std::vector<std::string>& cells);

}  // namespace shale::ctl
