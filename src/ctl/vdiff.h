#pragma once

// VDiff of a keyspace (issue 10, docs/resharding.md "VDiff"): every shard of
// the keyspace whose Shard record lists source_shards (a resharding target,
// or a source running reverse streams) is asked, through Reshard.VDiff on its
// primary, to compare itself with its sources at one consistent point. The
// result holds each shard's per-table counts and examples; `shale ctl VDiff`
// prints it (src/cmd/ctl_vdiff_command.cc).
//
// Stateless; RunVDiff runs on the caller's thread, one shard after another.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "reshard_data.pb.h"
#include "topo/server.h"
#include "topo/tablet_alias.h"

namespace shale::ctl {

struct VDiffOptions {
  std::vector<std::string> tables;  // empty: every table the streams carry
  // How long each stream may take to catch up to its source's snapshot.
  absl::Duration timeout = absl::Seconds(60);
  int max_reported_rows = 10;  // examples per table
};

struct ShardVDiff {
  std::string shard;
  topo::TabletAlias primary;
  std::vector<topodata::Shard::SourceShard> sources;
  tablet::VDiffResponse response;

  bool match() const;
};

struct KeyspaceVDiff {
  std::string keyspace;
  std::vector<ShardVDiff> shards;

  bool match() const;
  // Tables (over all shards) with a difference.
  int differing_tables() const;
  // {"keyspace", "match", "shards": [{"shard", "primary", "match", "streams":
  // [{uid, source, position}], "tables": [{table, source_rows, target_rows,
  // match, missing_on_target, extra_on_target, different, examples}]}]}
  nlohmann::json ToJson() const;
  // The report for people: per shard, its streams' positions, then one line
  // per table (rows on both sides, "match" or the counts) and its examples;
  // a last line with the verdict.
  std::string ToText() const;
};

// NotFound for an unknown keyspace; FailedPrecondition when no shard of the
// keyspace lists source_shards; Unavailable when such a shard has no primary;
// the tablet's error for a VDiff that failed (prefixed with the shard).
absl::StatusOr<KeyspaceVDiff> RunVDiff(topo::Server& ts, absl::string_view keyspace,
                                       const VDiffOptions& options);

}  // namespace shale::ctl
