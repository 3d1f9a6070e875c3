#pragma once

// ClusterView: one moment's picture of the cluster for ctld's dashboard
// (dashboard.h): keyspaces, shards with their primary and term, tablets with
// their health, recent primary changes and failovers, and who leads. Plain
// values: ClusterWatcher fills the topology and health parts, the Dashboard
// adds the failover history and the leadership, BuildClusterJson renders it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "ctld/reparent_history.h"
#include "topodata.pb.h"

namespace shale::ctld {

struct KeyspaceView {
  std::string name;
  std::string sharding_column;  // "" for an unsharded keyspace
  std::string durability;       // "DURABILITY_NONE", "SEMI_SYNC"
};

struct ShardView {
  std::string keyspace;
  std::string name;
  uint64_t range_start = 0;  // orders the shards of a keyspace
  std::string primary;       // alias; "" while it has none
  int64_t term = 0;
  absl::Time term_start = absl::InfinitePast();
};

// A tablet as its health stream shows it (discovery::TabletHealth).
struct TabletView {
  std::string alias;
  std::string keyspace;
  std::string shard;
  std::string type;     // "PRIMARY", "REPLICA", ... as the tablet reports it
  std::string address;  // host:port of its gRPC services
  bool stream_up = false;  // its health stream is open
  bool serving = false;    // it says it serves
  std::string health_error;  // what the tablet reports as wrong
  std::string last_error;    // why its stream is (or last was) down
  double lag_seconds = 0;
  int64_t log_position = 0;
  int64_t primary_term = 0;
  absl::Time last_message = absl::InfinitePast();
};

// A change of a shard's primary or term seen in its Shard record, whoever
// made it (a planned reparent from `shale ctl`, a failover, an operator).
struct PrimaryChange {
  absl::Time time;  // when the change was seen
  std::string keyspace;
  std::string shard;
  std::string old_primary;
  int64_t old_term = 0;
  std::string new_primary;
  int64_t new_term = 0;
};

struct ClusterView {
  absl::Time now = absl::InfinitePast();
  std::vector<KeyspaceView> keyspaces;
  std::vector<ShardView> shards;
  std::vector<TabletView> tablets;
  std::vector<PrimaryChange> primary_changes;  // newest first
  std::vector<ReparentEvent> failovers;        // newest first; kept by the leader only
  // The leader record, if any (it may say the last leader resigned).
  std::optional<topodata::CtldLeader> leader;
  std::string self_holder;  // this ctld
  bool self_is_leader = false;
  std::string topology_error;  // "" while the topology watch is healthy
};

}  // namespace shale::ctld
