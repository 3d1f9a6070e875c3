#pragma once

// The layout of a local cluster (`shale local up`, DESIGN §1): which
// processes run, with which flags, ports, data and log paths, computed from
// the command's flags alone. Pure: no file, socket or process is touched, so
// two runs with the same flags always agree (a restarted cluster finds its
// ports and data where it left them).
//
// Ports, all on 127.0.0.1, from --base-port B:
//   B+0    ctld HTTP (the dashboard)       B+1   ctld gRPC
//   B+2    etcd / ZooKeeper clients        B+3   etcd peers
//   B+10   gateway HTTP                    B+11  gateway gRPC
//   B+432  gateway PostgreSQL (15432 with the default base 15000)
//   B+100+3i, +1, +2   tablet i's gRPC, session and HTTP ports (i < 100)
//
// The data dir DIR holds topo.db (or etcd/, zookeeper/), tablets/ALIAS/,
// logs/NAME.log and local.json (process_state.h). Value types;
// thread-compatible.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace shale::local {

// The flags of `shale local up`, with their defaults.
struct LocalOptions {
  std::string data_dir;         // absolute
  int shards = 2;               // equal key ranges: 1 -> "0", 2 -> "-80", "80-", ...
  int replicas = 2;             // per shard, besides the primary-eligible tablet
  int cells = 1;                // zone1, zone2, ...; a shard's tablets go round them
  std::string topo = "sqlite";  // sqlite, etcd or zk
  std::string keyspace = "app";
  int base_port = 15000;

  bool operator==(const LocalOptions&) const = default;
};

inline constexpr int kMaxTablets = 100;
inline constexpr int kPgPortOffset = 432;

// One process of the cluster.
struct PlannedProcess {
  std::string name;  // "etcd", "zookeeper", "ctld", "tablet-zone1-100", "gate"
  std::string kind;  // "topo", "ctld", "tablet" or "gate"
  // For shale processes, the arguments after the binary ("tablet", "--topo",
  // ...). Empty for the topology server, whose command line the launcher
  // builds (it depends on the installed etcd or Java).
  std::vector<std::string> args;
  std::map<std::string, int> ports;  // "http", "grpc", "pg", "session", "client", "peer"
  std::string log;                   // DIR/logs/NAME.log
  // Tablets only.
  std::string alias;  // "zone1-100"
  std::string cell;
  std::string shard;
};

struct ClusterPlan {
  LocalOptions options;
  std::string topo_address;  // what every process and `shale ctl --topo` use
  std::vector<std::string> cells;
  std::vector<std::string> shards;
  // In start order: the topology server (etcd/zk only), ctld, the tablets
  // (shard by shard, the primary-eligible one first), the gateway.
  std::vector<PlannedProcess> processes;

  const PlannedProcess* Find(const std::string& name) const;
  // The tablets of one shard, the primary-eligible one first.
  std::vector<const PlannedProcess*> TabletsOf(const std::string& shard) const;
  int pg_port() const { return options.base_port + kPgPortOffset; }
  int ctld_http_port() const { return options.base_port; }
  std::string dashboard_url() const;
  std::string psql_command() const;  // psql -h 127.0.0.1 -p 15432 -U shale -d app
};

// InvalidArgument naming the flag for options out of range.
absl::Status ValidateOptions(const LocalOptions& options);

// The names of n shards covering the key space in equal ranges, in key
// order: 1 -> {"0"}, 2 -> {"-80", "80-"}, 4 -> {"-40", "40-80", "80-c0", "c0-"}.
std::vector<std::string> ShardNames(int n);

// The plan for options. InvalidArgument as ValidateOptions.
absl::StatusOr<ClusterPlan> MakePlan(const LocalOptions& options);

}  // namespace shale::local
