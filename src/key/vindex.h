#pragma once

// Vindexes map a row's sharding value to its keyspace id (DESIGN §5).
//
// The `hash` vindex is part of Shale's on-disk contract: the same value must
// map to the same keyspace id on every machine and in every release, since
// rows are stored on the shard that it picked. Tests pin known outputs;
// never change them.

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "key/key_range.h"
#include "tablet_data.pb.h"
#include "topodata.pb.h"

namespace shale::key {

// hash of an integer sharding value.
KeyspaceId HashInt64(int64_t value);
// hash of a text or bytes sharding value.
KeyspaceId HashBytes(absl::string_view value);

// The keyspace id of a row's sharding value, by the keyspace's sharding
// column type: UINT64 wants an integer (an integer-looking text, as
// PostgreSQL clients send parameters, counts; so does an integral float);
// BYTES hashes text or blob bytes (an integer as its decimal text); UNSET
// takes integers (and integer-looking text) as integers, other values as
// bytes. InvalidArgument saying what is wrong for NULL or a value of the
// wrong kind. The one copy of this rule: the gateway routes with it and
// resharding's filters (tablet/reshard) keep rows with it.
absl::StatusOr<KeyspaceId> KeyspaceIdOfValue(const tablet::Value& value,
                                             topodata::KeyspaceIdType type);

}  // namespace shale::key
