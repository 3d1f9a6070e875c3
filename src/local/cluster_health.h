#pragma once

// What the processes of a local cluster say about themselves, for `shale
// local up` (waiting until everything serves) and `shale local status`:
// each shard's tablets (live type and serving, through the tablet manager,
// as `shale ctl` probes them), the gateway (its /healthz and the tablets it
// serves, from its /debug/vars) and ctld (leader or not, from /debug/vars).
// Free functions; each call blocks its caller for at most a few seconds.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "topo/server.h"

namespace shale::local {

struct TabletHealth {
  std::string alias;
  std::string type;  // "PRIMARY", "REPLICA", ... (live, from the tablet)
  bool serving = false;
  std::string error;  // why it does not answer; empty when it does
};

struct ShardHealth {
  std::string shard;
  std::string primary;  // the Shard record's primary, empty if none
  std::vector<TabletHealth> tablets;
  // The recorded primary answers as a serving PRIMARY.
  bool has_serving_primary() const;
  // has_serving_primary() and every tablet serves.
  bool all_serving() const;
};

// Probes every tablet of keyspace/shard. Errors: NotFound for an unknown
// shard; Unavailable when the topology is down.
absl::StatusOr<ShardHealth> ProbeShard(topo::Server& ts, const std::string& keyspace,
                                       const std::string& shard);

struct GateHealth {
  bool answers = false;  // /healthz says ok
  int tablets = 0;       // tablets it knows
  int serving = 0;       // of which serving
  std::string error;
};
GateHealth ProbeGate(int http_port);

struct CtldHealth {
  bool answers = false;
  bool leader = false;
  std::string error;
};
CtldHealth ProbeCtld(int http_port);

}  // namespace shale::local
