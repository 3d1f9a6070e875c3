#pragma once

// What a client session addresses (DESIGN §5, "Targets"): in a PostgreSQL
// connection the database name is the target, `ks`, `ks@replica`,
// `ks@rdonly`, `ks@primary`, or `ks:-80@replica` for one shard. Value type.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "topodata.pb.h"

namespace shale::gate {

struct SessionTarget {
  std::string keyspace;
  std::string shard;  // empty: route by the statement
  topodata::TabletType tablet_type = topodata::PRIMARY;

  std::string ToString() const;
};

// Parses a database name. InvalidArgument (SQLSTATE 3D000) naming what is
// wrong: an empty keyspace, an unknown tablet type (only primary, replica and
// rdonly serve queries), a malformed shard name.
absl::StatusOr<SessionTarget> ParseTarget(absl::string_view database);

}  // namespace shale::gate
