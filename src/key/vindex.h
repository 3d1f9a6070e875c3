#pragma once

// Vindexes map a row's sharding value to its keyspace id (DESIGN §5).
//
// The `hash` vindex is part of Shale's on-disk contract: the same value must
// map to the same keyspace id on every machine and in every release, since
// rows are stored on the shard that it picked. Tests pin known outputs;
// never change them.

#include <cstdint>
#include "absl/strings/string_view.h"

#include "key/key_range.h"

namespace shale::key {

// hash of an integer sharding value.
KeyspaceId HashInt64(int64_t value);
// hash of a text or bytes sharding value.
KeyspaceId HashBytes(absl::string_view value);

}  // namespace shale::key
