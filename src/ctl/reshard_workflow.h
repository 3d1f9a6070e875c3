#pragma once

// The resharding workflow of one keyspace as the topology records it
// (docs/resharding.md): which shards follow which through filtered
// replication, and which side serves which tablet type. There is no
// workflow record: the Shard records' source_shards and served_types are the
// state, so every command re-reads them and a half-finished command can be
// diagnosed from them alone.
//
// Plain values and free functions, used by reshard.cc and switch_traffic.cc
// on the calling thread.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "reshard_data.pb.h"
#include "tablet/client/tablet_client.h"
#include "topo/server.h"

namespace shale::ctl {

// A keyspace's shards split by their role in the workflow.
struct ReshardWorkflow {
  std::string keyspace;
  std::map<std::string, topodata::Shard> shards;  // every shard of the keyspace
  // The shards the workflow moves traffic away from, and towards.
  std::vector<std::string> old_shards;
  std::vector<std::string> new_shards;
  // True once the primary switch ran: the old shards follow the new ones
  // (reverse streams). Otherwise the new shards follow the old ones.
  bool reversed = false;
  // Shards with streams left by an interrupted primary switch: streams into
  // the side that still serves PRIMARY. A shard serving PRIMARY runs no
  // stream of its own keyspace, so they are dormant; the next switch command
  // removes them before it starts.
  std::vector<std::string> dormant;

  // The shards that run streams now.
  const std::vector<std::string>& followers() const { return reversed ? old_shards : new_shards; }
  // The shards the streams read from.
  const std::vector<std::string>& sources() const { return reversed ? new_shards : old_shards; }
  // Whether the shard serves the tablet type (in every cell).
  bool Serves(const std::string& shard, topodata::TabletType type) const;
};

// The keyspace's workflow. NotFound (naming Reshard) when no shard has
// source_shards; FailedPrecondition when the records are inconsistent.
// Forward and reverse streams at once (an interrupted primary switch) are
// told apart by which side serves PRIMARY.
absl::StatusOr<ReshardWorkflow> FindReshardWorkflow(topo::Server& ts, absl::string_view keyspace);

// A client of the shard's primary (from Shard.primary_alias).
// FailedPrecondition when the shard has none.
absl::StatusOr<std::unique_ptr<tablet::TabletClient>> ShardPrimaryClient(
    topo::Server& ts, absl::string_view keyspace, absl::string_view shard);

// The streams the shard's primary runs, as StreamStatus reports them.
absl::StatusOr<tablet::StreamStatusResponse> ShardStreamStatus(topo::Server& ts,
                                                               absl::string_view keyspace,
                                                               absl::string_view shard);

// Removes the dormant streams of an interrupted switch (wf.dormant).
absl::Status ClearDormantStreams(topo::Server& ts, ReshardWorkflow& wf);

// Makes the shard's primary re-read its Shard record and start or stop
// streams to match before this returns.
absl::Status SyncShardStreams(topo::Server& ts, absl::string_view keyspace,
                              absl::string_view shard);

// SyncShardStreams for each shard, after its record gained streams: the
// error adds that the streams stay recorded and start when the primary can.
absl::Status StartStreams(topo::Server& ts, absl::string_view keyspace,
                          const std::vector<std::string>& shards);

// Deletes every row of the tables on the shard's primary (ExecuteFetchAsDba,
// so also tables the shard denies); the rows deleted.
absl::StatusOr<int64_t> DeleteRows(topo::Server& ts, absl::string_view keyspace,
                                   absl::string_view shard, const std::vector<std::string>& tables);

// One stream as JSON: shard, uid, source, phase, rows copied, position,
// lag, error.
nlohmann::json StreamJson(absl::string_view shard, const tablet::StreamState& s);

// "-40,40-80" → {"-40", "40-80"}, each a canonical shard name, sorted by
// range. InvalidArgument for an empty list or a bad name.
absl::StatusOr<std::vector<std::string>> ParseShardList(absl::string_view list);

// OK when both lists cover the same key range exactly once each.
// FailedPrecondition naming the difference otherwise.
absl::Status CheckSameRange(const std::vector<std::string>& a, const std::vector<std::string>& b);

}  // namespace shale::ctl
