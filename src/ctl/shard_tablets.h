#pragma once

// The tablets of one shard and what they say about themselves, for the
// reparent operations (reparent.h), `shale ctl ReplicationStatus` and ctld.
//
// FindShardTablets reads the topology (ShardReplication in every cell, then
// each tablet's record) and dials every tablet; ProbeTablets asks each of
// them, in parallel, for its live state and replication status. A
// ShardTablet is a plain value owned by its caller; ProbeTablets touches
// each element from its own thread and returns once all are done.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tablet/client/tablet_client.h"
#include "topo/server.h"
#include "topo/tablet_alias.h"

namespace shale::ctl {

// Opens a client to a tablet from its record. ctld and tests may inject their
// own; the default is DialTablet.
using TabletDialer =
    std::function<absl::StatusOr<std::unique_ptr<tablet::TabletClient>>(const topodata::Tablet&)>;

// "hostname:grpc-port" from the record. FailedPrecondition without a gRPC port.
absl::StatusOr<std::string> TabletAddress(const topodata::Tablet& record);

// TabletClient::Connect(TabletAddress(record)); the channel connects lazily.
absl::StatusOr<std::unique_ptr<tablet::TabletClient>> DialTablet(const topodata::Tablet& record);

// One tablet of a shard, as a reparent sees it.
struct ShardTablet {
  topo::TabletAlias alias;
  topodata::Tablet record;
  std::unique_ptr<tablet::TabletClient> client;  // null if it could not be dialled
  // OK while the tablet answers; the error of its last failed call otherwise.
  absl::Status reach = absl::OkStatus();
  // From the last probe (meaningful while reachable()): the live type
  // (GetState; the record's type before any probe), serving, replication.
  topodata::TabletType type = topodata::UNKNOWN;
  bool serving = false;
  tablet::ReplicationStatus repl;

  bool reachable() const { return client != nullptr && reach.ok(); }
  std::string name() const { return alias.ToString(); }
  int64_t seq() const { return repl.position().seq(); }
};

// The tablets of ks/shard in every cell, sorted by alias, each dialled with
// dial (null: DialTablet). A tablet listed in ShardReplication whose record
// is gone or names another shard is left out. NotFound for an unknown shard;
// Unavailable when the topology is down.
absl::StatusOr<std::vector<ShardTablet>> FindShardTablets(topo::Server& ts,
                                                          absl::string_view keyspace,
                                                          absl::string_view shard,
                                                          const TabletDialer& dial);

// Runs fn on every element of tablets at once (one thread each) and returns
// when all have finished.
void ForEachTablet(const std::vector<ShardTablet*>& tablets,
                   const std::function<void(ShardTablet&)>& fn);

// Every tablet of the list, as pointers for ForEachTablet.
std::vector<ShardTablet*> AllOf(std::vector<ShardTablet>& tablets);

// Refreshes type, serving and repl of each tablet (GetState, then
// ReplicationStatus, each within timeout), in parallel; an error lands in reach.
void ProbeTablets(const std::vector<ShardTablet*>& tablets, absl::Duration timeout);

// The error with the tablet named: "tablet zone1-101 (localhost:1234): ...".
absl::Status AtTablet(const absl::Status& s, const ShardTablet& t);

// A one-line description for messages: "zone1-101 REPLICA seq 42" or
// "zone1-102 unreachable (connection refused)".
std::string Describe(const ShardTablet& t);

// The replication status as JSON (proto field names, every field printed).
nlohmann::json ReplicationStatusToJson(const tablet::ReplicationStatus& status);

}  // namespace shale::ctl
