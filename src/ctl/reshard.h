#pragma once

// `shale ctl Reshard` and `ReshardStatus` (docs/resharding.md): starting the
// filtered replication that fills new shards from old ones, and showing it.
// The switch of traffic is in switch_traffic.h.
//
// Free functions run on the calling thread; progress lines go to
// options.progress.

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "topo/server.h"

namespace shale::ctl {

struct ReshardOptions {
  absl::Duration lock_timeout = absl::Seconds(30);
  // Wait until every stream has finished copying, reporting progress every
  // progress_interval; give up (the streams go on) after wait_timeout.
  bool wait = true;
  absl::Duration wait_timeout = absl::Hours(24);
  absl::Duration progress_interval = absl::Seconds(2);
  std::function<void(const std::string&)> progress;
};

// Makes each target shard follow the source shards that overlap it.
// Checks first, changing nothing on failure:
//  - sources and targets are shards of the keyspace covering the same range;
//  - the sources serve PRIMARY; the targets serve nothing and have a primary;
//  - the keyspace has no workflow yet.
// Returns the streams as JSON (after the copy phase when options.wait).
absl::StatusOr<nlohmann::json> Reshard(topo::Server& ts, absl::string_view keyspace,
                                       const std::vector<std::string>& sources,
                                       const std::vector<std::string>& targets,
                                       const ReshardOptions& options);

// Polls the targets' primaries until every stream runs (copy done),
// printing progress; DeadlineExceeded after options.wait_timeout (the copy
// goes on). The streams as JSON.
absl::StatusOr<nlohmann::json> WaitForCopy(topo::Server& ts, absl::string_view keyspace,
                                           const std::vector<std::string>& targets,
                                           const ReshardOptions& options);

// Every stream of the keyspace's workflow with its phase, rows copied,
// position and lag, and which tablet types each side serves.
absl::StatusOr<nlohmann::json> ReshardStatus(topo::Server& ts, absl::string_view keyspace);

}  // namespace shale::ctl
