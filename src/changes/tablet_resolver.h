#pragma once

// Where a shard's change stream comes from (issue 9): the tablets that may
// serve it, found in the topology. PRIMARY: the Shard record's primary, then
// its Tablet record's address. REPLICA: the REPLICA tablets of the shard in
// ShardReplication of every cell, then their records. Stateless functions;
// thread-safe as topo::Server is.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "topo/server.h"
#include "topo/tablet_alias.h"
#include "topodata.pb.h"

namespace shale::changes {

struct TabletTarget {
  topo::TabletAlias alias;
  std::string address;  // host:grpc-port
};

// The tablet's gRPC address from its record. NotFound for an unknown tablet;
// FailedPrecondition when the record has no gRPC port.
absl::StatusOr<TabletTarget> ResolveTablet(topo::Server& ts, const topo::TabletAlias& alias);

// The candidates for a stream of keyspace/shard from tablets of `type`
// (PRIMARY or REPLICA), at least one. NotFound when the keyspace or shard is
// gone (nothing will serve it again); Unavailable when the shard has no
// primary or replica right now, or the topology is down (retry).
absl::StatusOr<std::vector<TabletTarget>> ResolveShardTablets(topo::Server& ts,
                                                              absl::string_view keyspace,
                                                              absl::string_view shard,
                                                              topodata::TabletType type);

}  // namespace shale::changes
