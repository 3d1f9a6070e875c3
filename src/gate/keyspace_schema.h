#pragma once

// KeyspaceSchema is what the planner knows about one keyspace at one moment
// (DESIGN §5, "Keyspace ids and vindexes"): its serving graph in the
// gateway's cell (SrvKeyspace: shards per tablet type, the sharding column)
// and its catalog (VSchema: per-table vindex column, reference tables).
// An immutable snapshot built per statement from shared records; cheap to
// copy. Thread-compatible.
//
// How a table routes:
//   - a VSchema REFERENCE table: copied on every shard; reads go to one
//     shard, writes to all;
//   - a VSchema SHARDED table: by its first column vindex (`hash`);
//   - a table not in the VSchema: by the keyspace's sharding column;
//   - a keyspace with a single shard and no sharding column: unsharded.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "key/key_range.h"
#include "tablet_data.pb.h"
#include "topodata.pb.h"

namespace shale::gate {

struct TableRouting {
  enum class Kind { kSharded, kReference, kUnsharded };
  Kind kind = Kind::kSharded;
  std::string column;  // kSharded: the sharding column (lower case)
  int64_t table_id = 0;
};

struct ShardRef {
  std::string name;
  key::KeyRange range;
};

class KeyspaceSchema {
 public:
  KeyspaceSchema(std::string keyspace, std::shared_ptr<const topodata::SrvKeyspace> srv,
                 std::shared_ptr<const topodata::VSchema> vschema);

  const std::string& keyspace() const { return keyspace_; }
  const topodata::SrvKeyspace& srv() const { return *srv_; }
  const topodata::VSchema& vschema() const { return *vschema_; }

  // How table routes. NotFound (SQLSTATE 42P01-like 42704) when the keyspace
  // is sharded and the table has no sharding column anywhere.
  absl::StatusOr<TableRouting> Table(absl::string_view table) const;

  // The shards serving type, sorted by key range. FailedPrecondition when the
  // SrvKeyspace has no partition for it.
  absl::StatusOr<std::vector<ShardRef>> Shards(topodata::TabletType type) const;

  // The keyspace id of a sharding value, by the keyspace's sharding column
  // type: UINT64 wants an integer (an integer-looking text, as PostgreSQL
  // clients send parameters, counts); BYTES hashes text or blob bytes; UNSET
  // takes integers (and integer-looking text) as integers, other values as
  // bytes. InvalidArgument (22023) for NULL or a value of the wrong kind.
  absl::StatusOr<key::KeyspaceId> KeyspaceIdOf(const tablet::Value& value) const;

  // The shard (of those serving type) owning id.
  absl::StatusOr<std::string> ShardFor(key::KeyspaceId id, topodata::TabletType type) const;

 private:
  std::string keyspace_;
  std::shared_ptr<const topodata::SrvKeyspace> srv_;
  std::shared_ptr<const topodata::VSchema> vschema_;
};

}  // namespace shale::gate
