#pragma once

// Listing tablet records across cells, for `shale ctl ListTablets`.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "topo/server.h"

namespace shale::ctl {

struct TabletFilter {
  std::string cell;      // empty: every cell
  std::string keyspace;  // empty: any
  std::string shard;     // empty: any
  topodata::TabletType type = topodata::UNKNOWN;  // UNKNOWN: any
};

// Tablets matching filter, sorted by alias. NotFound for an unknown cell.
absl::StatusOr<std::vector<topodata::Tablet>> ListTablets(topo::Server& ts,
                                                          const TabletFilter& filter);

// "primary", "REPLICA", ... -> TabletType. InvalidArgument otherwise.
absl::StatusOr<topodata::TabletType> ParseTabletType(absl::string_view name);

}  // namespace shale::ctl
