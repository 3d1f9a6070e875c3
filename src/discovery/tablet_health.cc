#include "discovery/tablet_health.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shale::discovery {

std::string TargetKey::ToString() const {
  return absl::StrCat(keyspace, "/", shard, "@", TabletTypeName(type));
}

std::string TabletTypeName(topodata::TabletType type) {
  return topodata::TabletType_Name(type);
}

std::string TabletHealth::DebugString() const {
  std::string s = absl::StrCat(alias.ToString(), " ", target.ToString(), " at ", address,
                               IsServing() ? " serving" : " not serving");
  if (!stream_up) absl::StrAppend(&s, ", stream down");
  if (primary_term > 0) absl::StrAppend(&s, ", term ", primary_term);
  if (replication_lag_seconds > 0) {
    absl::StrAppend(&s, ", lag ", absl::FormatDuration(absl::Seconds(replication_lag_seconds)));
  }
  if (!health_error.empty()) absl::StrAppend(&s, ", health error: ", health_error);
  if (!last_error.empty()) absl::StrAppend(&s, ", last error: ", last_error);
  return s;
}

bool IsCompleteRecord(const topodata::Tablet& record) {
  auto grpc = record.port_map().find("grpc");
  return !record.keyspace().empty() && !record.shard().empty() && !record.hostname().empty() &&
         grpc != record.port_map().end() && grpc->second > 0 && grpc->second <= 65535;
}

absl::StatusOr<std::string> TabletAddress(const topodata::Tablet& record) {
  auto grpc = record.port_map().find("grpc");
  if (record.hostname().empty() || grpc == record.port_map().end() || grpc->second <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("tablet ", topo::TabletAlias::FromProto(record.alias()).ToString(),
                     " has no hostname or gRPC port in its record"));
  }
  const std::string& host = record.hostname();
  // An IPv6 literal needs brackets in "host:port".
  if (absl::StrContains(host, ':') && !absl::StartsWith(host, "[")) {
    return absl::StrCat("[", host, "]:", grpc->second);
  }
  return absl::StrCat(host, ":", grpc->second);
}

}  // namespace shale::discovery
