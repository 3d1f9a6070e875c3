#pragma once

// The row hash of VDiff (issue 10, docs/resharding.md "VDiff"): one 64-bit
// hash of a whole row, computed by the source (RowHashes) and by the target
// over the same column values in table column order, so equal rows hash
// equally on every machine and in every release. Its own definition (no
// std::hash, no absl::Hash, which are seeded per process): each value is
// encoded as a type tag and its bytes (integers and floats as 8 little-endian
// bytes, text and blobs length-prefixed), the encoding is hashed with 64-bit
// FNV-1a and the result mixed with the MurmurHash3 finaliser. Tests pin known
// outputs. Pure functions; thread-safe.

#include <cstdint>

#include "absl/types/span.h"
#include "tablet/engine/value.h"

namespace shale::tablet::vdiff {

// The hash of one row's values (column order matters; NULL, 0, 0.0, '' and
// x'' all hash differently).
uint64_t RowHash(absl::Span<const engine::Value> row);

}  // namespace shale::tablet::vdiff
