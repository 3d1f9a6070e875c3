// topo::Server methods for the Shard record.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "key/key_range.h"
#include "topo/paths.h"
#include "topo/records.h"
#include "topo/server.h"

namespace shale::topo {
namespace {

absl::Status ShardNotFound(absl::string_view keyspace, absl::string_view shard) {
  return absl::NotFoundError(absl::StrCat("shard ", keyspace, "/", shard, " not found"));
}

// Parses a shard name and insists on its canonical spelling, so that one
// range has one name (and one topology path).
absl::StatusOr<key::KeyRange> ParseShardName(absl::string_view shard) {
  ASSIGN_OR_RETURN(key::KeyRange range, key::KeyRange::Parse(shard));
  if (range.ToString() != shard) {
    return absl::InvalidArgumentError(absl::StrCat("shard name \"", shard,
                                                   "\" is not canonical: use \"",
                                                   range.ToString(), "\""));
  }
  return range;
}

}  // namespace

absl::Status Server::CreateShard(absl::string_view keyspace, absl::string_view shard) {
  ASSIGN_OR_RETURN(key::KeyRange range, ParseShardName(shard));
  RETURN_IF_ERROR(GetKeyspace(keyspace).status());
  ASSIGN_OR_RETURN(std::vector<std::string> existing, ListShards(keyspace));
  std::vector<key::KeyRange> ranges;
  for (const std::string& name : existing) {
    if (name == shard) {
      return absl::AlreadyExistsError(absl::StrCat("shard ", keyspace, "/", shard, " already exists"));
    }
    ASSIGN_OR_RETURN(key::KeyRange r, key::KeyRange::Parse(name));
    ranges.push_back(r);
  }
  // A shard that overlaps existing ones is a resharding target: it serves
  // nothing until SwitchTraffic moves tablet types onto it.
  const bool overlaps = !key::CheckNoOverlap(range, ranges).ok();

  topodata::Shard record;
  *record.mutable_key_range() = range.ToProto();
  if (!overlaps) {
    for (auto type : {topodata::PRIMARY, topodata::REPLICA, topodata::RDONLY}) {
      record.add_served_types()->set_tablet_type(type);
    }
  }
  absl::Status s = CreateRecord(*global_, paths::Shard(keyspace, shard), record);
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError(absl::StrCat("shard ", keyspace, "/", shard, " already exists"));
  }
  return s;
}

absl::StatusOr<ShardInfo> Server::GetShard(absl::string_view keyspace, absl::string_view shard) {
  RETURN_IF_ERROR(ValidateName("keyspace", keyspace));
  RETURN_IF_ERROR(key::KeyRange::Parse(shard).status());
  ShardInfo info;
  absl::StatusOr<topodata::Shard> r =
      GetRecord<topodata::Shard>(*global_, paths::Shard(keyspace, shard), &info.version);
  if (absl::IsNotFound(r.status())) return ShardNotFound(keyspace, shard);
  RETURN_IF_ERROR(r.status());
  info.record = *std::move(r);
  return info;
}

absl::StatusOr<topodata::Shard> Server::UpdateShardFields(absl::string_view keyspace,
                                                          absl::string_view shard,
                                                          const UpdateFn<topodata::Shard>& fn) {
  RETURN_IF_ERROR(ValidateName("keyspace", keyspace));
  RETURN_IF_ERROR(key::KeyRange::Parse(shard).status());
  auto r = UpdateRecord<topodata::Shard>(*global_, paths::Shard(keyspace, shard), fn);
  if (absl::IsNotFound(r.status())) return ShardNotFound(keyspace, shard);
  return r;
}

absl::StatusOr<std::vector<std::string>> Server::ListShards(absl::string_view keyspace) {
  RETURN_IF_ERROR(GetKeyspace(keyspace).status());
  absl::StatusOr<std::vector<DirEntry>> entries = global_->ListDir(paths::ShardsDir(keyspace));
  if (absl::IsNotFound(entries.status())) return std::vector<std::string>{};
  RETURN_IF_ERROR(entries.status());
  std::vector<std::pair<key::KeyRange, std::string>> shards;
  for (const DirEntry& e : *entries) {
    absl::StatusOr<key::KeyRange> r = key::KeyRange::Parse(e.name);
    if (!r.ok() || !global_->Get(paths::Shard(keyspace, e.name)).ok()) continue;
    shards.emplace_back(*r, e.name);
  }
  std::sort(shards.begin(), shards.end(), [](const auto& a, const auto& b) {
    if (a.first.start() != b.first.start()) return a.first.start() < b.first.start();
    return a.second < b.second;
  });
  std::vector<std::string> names;
  for (auto& [range, name] : shards) names.push_back(std::move(name));
  return names;
}

absl::Status Server::DeleteShard(absl::string_view keyspace, absl::string_view shard) {
  RETURN_IF_ERROR(GetShard(keyspace, shard).status());
  return DeleteRecursive(*global_, paths::ShardDir(keyspace, shard));
}

}  // namespace shale::topo
