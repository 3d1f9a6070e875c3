#include "gate/keyspace_schema.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "key/vindex.h"

namespace shale::gate {

KeyspaceSchema::KeyspaceSchema(std::string keyspace,
                               std::shared_ptr<const topodata::SrvKeyspace> srv,
                               std::shared_ptr<const topodata::VSchema> vschema)
    : keyspace_(std::move(keyspace)), srv_(std::move(srv)), vschema_(std::move(vschema)) {}

absl::StatusOr<TableRouting> KeyspaceSchema::Table(absl::string_view table) const {
  TableRouting r;
  auto it = vschema_->tables().find(std::string(table));
  if (it != vschema_->tables().end()) {
    r.table_id = it->second.table_id();
    if (it->second.type() == topodata::VSchema::REFERENCE) {
      r.kind = TableRouting::Kind::kReference;
      return r;
    }
    if (it->second.column_vindexes_size() > 0) {
      r.column = absl::AsciiStrToLower(it->second.column_vindexes(0).column());
      return r;
    }
  }
  if (!srv_->sharding_column_name().empty()) {
    r.column = absl::AsciiStrToLower(srv_->sharding_column_name());
    return r;
  }
  absl::StatusOr<std::vector<ShardRef>> shards = Shards(topodata::PRIMARY);
  if (shards.ok() && shards->size() == 1 && shards->front().range.IsFull()) {
    r.kind = TableRouting::Kind::kUnsharded;
    return r;
  }
  return SqlError(absl::StatusCode::kNotFound, sqlstate::kUndefinedObject,
                  absl::StrCat("table ", table, " of keyspace ", keyspace_,
                               " has no sharding column: the keyspace has none "
                               "(CreateKeyspace --sharding-column) and the VSchema does not "
                               "list the table"));
}

absl::StatusOr<std::vector<ShardRef>> KeyspaceSchema::Shards(topodata::TabletType type) const {
  for (const auto& p : srv_->partitions()) {
    if (p.served_type() != type) continue;
    std::vector<ShardRef> out;
    out.reserve(p.shard_references_size());
    for (const auto& ref : p.shard_references()) {
      out.push_back({ref.name(), key::KeyRange::FromProto(ref.key_range())});
    }
    std::sort(out.begin(), out.end(),
              [](const ShardRef& a, const ShardRef& b) { return a.range.start() < b.range.start(); });
    return out;
  }
  return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kObjectNotInPrerequisiteState,
                  absl::StrCat("keyspace ", keyspace_, " serves no ",
                               absl::AsciiStrToLower(topodata::TabletType_Name(type)),
                               " tablets in this cell (no SrvKeyspace partition)"));
}

absl::StatusOr<key::KeyspaceId> KeyspaceSchema::KeyspaceIdOf(const tablet::Value& value) const {
  absl::StatusOr<key::KeyspaceId> id = key::KeyspaceIdOfValue(value, srv_->sharding_column_type());
  if (id.ok()) return id;
  return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kInvalidParameterValue,
                  absl::StrCat("sharding value of keyspace ", keyspace_, ": ",
                               id.status().message()));
}

absl::StatusOr<std::string> KeyspaceSchema::ShardFor(key::KeyspaceId id,
                                                     topodata::TabletType type) const {
  for (const auto& p : srv_->partitions()) {
    if (p.served_type() != type) continue;
    for (const auto& ref : p.shard_references()) {
      if (key::KeyRange::FromProto(ref.key_range()).Contains(id)) return ref.name();
    }
  }
  return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kObjectNotInPrerequisiteState,
                  absl::StrCat("no shard of keyspace ", keyspace_, " covers keyspace id ",
                               absl::Hex(id.value, absl::kZeroPad16)));
}

}  // namespace shale::gate
