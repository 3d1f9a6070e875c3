#pragma once

// Raw browsing of the topology for operators: `shale ctl TopoLs` and
// `TopoCat`, the `zk ls` / `zk cat` of the "Zookeeper Data" seed.

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "topo/conn.h"

namespace shale::ctl {

// The children of dir as [{"name", "has_value", "has_children"}], or with
// recursive every value path below dir as a sorted array of strings.
// NotFound when nothing is stored below dir.
absl::StatusOr<nlohmann::json> TopoLs(topo::Conn& conn, absl::string_view dir, bool recursive);

// {"path", "version", "value"} with the value decoded by DecodeTopoValue.
absl::StatusOr<nlohmann::json> TopoCat(topo::Conn& conn, absl::string_view path);

}  // namespace shale::ctl
