#pragma once

// The state of a MoveTables workflow (move_tables.h), read from the
// records every time: the target keyspace's Shard records name the source
// keyspace's shards and the tables (forward streams), or the source's
// shards name the target's (reverse streams, after the primary switch);
// which side denies the tables says which side serves them.
//
// Plain values and free functions on the calling thread.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "topo/server.h"
#include "topodata.pb.h"

namespace shale::ctl {

// A MoveTables workflow as the records show it.
struct MoveTablesWorkflow {
  std::string source_keyspace, target_keyspace;
  std::vector<std::string> tables;
  // Every shard of each keyspace, and the source shards that serve PRIMARY.
  std::map<std::string, topodata::Shard> source_records, target_records;
  std::vector<std::string> sources, targets;
  // True once the primary switch ran: the source shards deny the tables
  // and follow the target's.
  bool reversed = false;
  // Shards with the streams of an interrupted primary switch, on the side
  // that still serves the tables (dormant there); removed by the next
  // switch command.
  std::vector<std::string> dormant_sources, dormant_targets;
};

// The MoveTables workflow into keyspace. NotFound when there is none.
absl::StatusOr<MoveTablesWorkflow> FindMoveTablesWorkflow(topo::Server& ts,
                                                          absl::string_view keyspace);

// FailedPrecondition naming the workflow when a MoveTables workflow moves
// tables into or out of keyspace (its Shard records, or another keyspace's,
// list MoveTables streams involving it); OK otherwise.
absl::Status CheckNoMoveTables(topo::Server& ts, absl::string_view keyspace);

// Whether tables lists t (table names compare case-insensitively).
bool TableListed(const std::vector<std::string>& tables, absl::string_view t);

// A MoveTables stream: from another keyspace than the shard's own, with tables.
bool IsMoveStream(const topodata::Shard::SourceShard& s, absl::string_view own_keyspace);

// Every Shard record of the keyspace, by shard name.
absl::StatusOr<std::map<std::string, topodata::Shard>> LoadShards(topo::Server& ts,
                                                                  absl::string_view keyspace);

// The shards that serve PRIMARY.
std::vector<std::string> PrimaryShards(const std::map<std::string, topodata::Shard>& shards);

}  // namespace shale::ctl
