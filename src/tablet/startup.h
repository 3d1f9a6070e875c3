#pragma once

// Startup rules of a tablet (DESIGN §3, "Exception, startup"): the topology
// is authoritative for keyspace, shard, tablet type and db name.
//
//  - Record exists: a flag naming a different keyspace, shard or db name is
//    an error that names the field (FailedPrecondition); the recorded type is
//    resumed and --init-type is only noted as unused.
//  - No record: keyspace and shard flags are required; the keyspace and shard
//    records are created when missing; --init-type seeds the type (REPLICA by
//    default); db name defaults to the keyspace name.
//  - Type PRIMARY: the Shard record decides. It names this tablet: resume its
//    term. It names no primary: claim it (term + 1, written to the Shard
//    record first). It names another primary whose term is not older than
//    ours: start as REPLICA.
//  - The record is written (hostname and ports are the process's) and the
//    tablet is added to its cell's ShardReplication.
//
// Runs on the main thread before anything serves; a free function, no state.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "topo/server.h"
#include "topo/tablet_alias.h"
#include "topodata.pb.h"

namespace shale::tablet {

struct StartupOptions {
  topo::TabletAlias alias;
  std::string keyspace;  // "" : take the recorded one (required for a new record)
  std::string shard;     // "" : likewise
  std::string db_name;   // "" : recorded, else the keyspace name
  topodata::TabletType init_type = topodata::UNKNOWN;  // UNKNOWN: REPLICA for a new record
  std::string hostname;
  std::map<std::string, int32_t> port_map;  // "grpc", "http"
};

struct StartupResult {
  topodata::Tablet record;  // written to the topology
  bool created = false;     // no record existed
  std::vector<std::string> notes;  // what startup decided, for the log
};

// Resolves and writes the tablet's record. Errors: FailedPrecondition naming
// the field for a flag that contradicts the record; InvalidArgument for a
// missing keyspace/shard on a new record or a bad shard name; NotFound when
// the cell has no CellInfo; Unavailable when the topology is down (retry).
absl::StatusOr<StartupResult> ResolveStartup(topo::Server& ts, const StartupOptions& options,
                                             absl::Time now);

}  // namespace shale::tablet
