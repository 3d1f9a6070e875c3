#pragma once

// What discovery knows about one tablet at one moment (DESIGN §5, "Health").
//
// TabletHealth is an immutable snapshot: the HealthCheck builds a new one on
// every change (health message, stream error, record change) and publishes it
// as a TabletHealthPtr, so readers (the HealthCache, the gateway's query path,
// subscribers) share it without locks and never see it change under them.
//
// TargetKey is the key of the HealthCache: (keyspace, shard, tablet type).

#include <compare>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tablet/client/tablet_client.h"
#include "topo/tablet_alias.h"
#include "topodata.pb.h"

namespace shale::discovery {

// (keyspace, shard, tablet type): where a tablet serves. Printed "app/-80@REPLICA".
struct TargetKey {
  std::string keyspace;
  std::string shard;
  topodata::TabletType type = topodata::UNKNOWN;

  std::string ToString() const;
  auto operator<=>(const TargetKey&) const = default;
};

// "PRIMARY", "REPLICA", ...
std::string TabletTypeName(topodata::TabletType type);

struct TabletHealth {
  topodata::Tablet tablet;  // the record as last seen in the topology
  topo::TabletAlias alias;  // the record's alias
  std::string address;      // "host:port" of the tablet's gRPC services
  // The connection to the tablet: one channel per tablet, shared by the
  // health stream and the gateway's query path. Never null.
  std::shared_ptr<tablet::TabletClient> conn;

  // Where the tablet serves, as it reports it on its health stream; from the
  // record until the first health message.
  TargetKey target;
  bool serving = false;  // the tablet's own view, from its last health message
  int64_t primary_term = 0;
  absl::Time primary_term_start_time = absl::InfinitePast();
  double replication_lag_seconds = 0;
  int64_t log_position = 0;
  std::string health_error;  // reported by the tablet; "" when healthy

  // The stream: up from its first health message until it ends, times out or
  // reports another tablet's alias.
  bool stream_up = false;
  std::string last_error;  // why the stream is (or last was) down; "" never failed
  absl::Time last_message = absl::InfinitePast();  // time of the last health message
  int64_t messages = 0;    // health messages received for this record

  // The tablet may take traffic for its target.
  bool IsServing() const { return stream_up && serving && health_error.empty(); }
  // One line for logs and error messages.
  std::string DebugString() const;
};

using TabletHealthPtr = std::shared_ptr<const TabletHealth>;

// A record is complete once its tablet has published keyspace, shard,
// hostname and gRPC port: only then can discovery use it.
bool IsCompleteRecord(const topodata::Tablet& record);

// "hostname:port_map[grpc]". FailedPrecondition naming the tablet when the
// record has no hostname or gRPC port.
absl::StatusOr<std::string> TabletAddress(const topodata::Tablet& record);

}  // namespace shale::discovery
