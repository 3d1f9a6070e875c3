#pragma once

// The primary switch shared by SwitchTraffic and ReverseTraffic of both
// workflows, resharding and MoveTables (docs/resharding.md "The primary
// switch"): freeze the writes of the side that serves PRIMARY, wait until
// the other side's streams applied everything, start streams the other way
// (dormant until the flip), stop the streams into the other side, flip, and
// thaw. A failure before the flip undoes what it changed and lets the
// writes go on where they were.
//
// The workflows differ only in the shards' keyspaces, the tables the
// streams carry, the flip and what the frozen writes are told at the thaw:
// PrimarySwitch says which. Free functions on the calling thread.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ctl/switch_traffic.h"
#include "nlohmann/json.hpp"
#include "reshard_data.pb.h"
#include "topo/server.h"
#include "topodata.pb.h"

namespace shale::ctl {

// The streams a side's shards run, by shard, as StreamStatus reports them.
using ShardStreams = std::map<std::string, std::vector<tablet::StreamState>>;

// The streams of the shards of keyspace. Each primary must run as many
// streams as its record lists (shards: the records), and with
// require_running every stream must be RUNNING (its copy done);
// FailedPrecondition naming the stream otherwise.
absl::StatusOr<ShardStreams> RunningStreams(topo::Server& ts, absl::string_view keyspace,
                                            const std::vector<std::string>& followers,
                                            const std::map<std::string, topodata::Shard>& shards,
                                            bool require_running);

struct PrimarySwitch {
  // The side that serves PRIMARY now (its writes are frozen), and the side
  // that follows it and serves PRIMARY afterwards.
  std::string from_keyspace;
  std::vector<std::string> from;
  std::map<std::string, topodata::Shard> from_records;
  std::string to_keyspace;
  std::vector<std::string> to;
  std::map<std::string, topodata::Shard> to_records;
  ShardStreams streams;  // the streams into `to` (RunningStreams)
  // The source_shards started into `from`: one per overlapping `to` shard,
  // from its current position, carrying these tables (empty: all) with
  // reverse set as given.
  std::vector<std::string> tables;
  bool reverse_streams = false;
  // Makes `to` serve PRIMARY and `from` stop (served types or denied tables,
  // routing, serving graphs). unflip puts it back after a failed flip.
  std::function<absl::Status()> flip;
  std::function<void()> unflip;
  // What the frozen writes are told once `to` serves.
  tablet::ThawWritesRequest thaw;
};

// Runs the switch; each step is timed into steps and options.progress.
absl::Status SwitchPrimary(topo::Server& ts, const PrimarySwitch& sw, const SwitchOptions& o,
                           nlohmann::json* steps);

// Sets whether each shard serves `type` (every cell).
absl::Status SetServing(topo::Server& ts, absl::string_view keyspace,
                        const std::vector<std::string>& shards, topodata::TabletType type,
                        bool serve);

}  // namespace shale::ctl
