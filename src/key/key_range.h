#pragma once

// Keyspace ids and key ranges (DESIGN §5, "Keyspace ids and vindexes").
//
// A keyspace id is a 64-bit value. A shard owns a half-open range of them,
// named by hex prefixes of the big-endian id: "-80" is [0, 0x80000000_00000000),
// "80-" is [0x80..., end), "40-80", and "0" (or "-") is the whole key space of
// an unsharded keyspace. Value types; thread-compatible.

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "topodata.pb.h"

namespace shale::key {

// A 64-bit keyspace id: where a row lives in the key space.
struct KeyspaceId {
  uint64_t value = 0;
  auto operator<=>(const KeyspaceId&) const = default;
};

// [start, end) over keyspace ids; has_end == false means up to the end of the key space.
class KeyRange {
 public:
  KeyRange() = default;  // the full range
  static KeyRange Full() { return KeyRange(); }
  static KeyRange Bounded(uint64_t start, uint64_t end) { return KeyRange(start, true, end); }
  static KeyRange From(uint64_t start) { return KeyRange(start, false, 0); }

  // Parses a shard name: "-80", "40-80", "80-", "0", "-". Hex digits, at most
  // 16 per bound, case-insensitive, each bound padded with zeros on the right.
  // InvalidArgument with the reason for anything else, including start >= end.
  static absl::StatusOr<KeyRange> Parse(absl::string_view shard_name);

  // The canonical shard name: "-80", "40-80", "80-", or "0" for the full range.
  // Trailing zero bytes of each bound are trimmed.
  std::string ToString() const;

  uint64_t start() const { return start_; }
  bool has_end() const { return has_end_; }
  uint64_t end() const { return end_; }  // meaningful only when has_end()
  bool IsFull() const { return start_ == 0 && !has_end_; }

  bool Contains(KeyspaceId id) const;
  bool Overlaps(const KeyRange& other) const;
  // True if other lies entirely inside this range.
  bool Covers(const KeyRange& other) const;

  topodata::KeyRange ToProto() const;
  static KeyRange FromProto(const topodata::KeyRange& p);

  bool operator==(const KeyRange&) const = default;

 private:
  KeyRange(uint64_t start, bool has_end, uint64_t end)
      : start_(start), has_end_(has_end), end_(end) {}
  uint64_t start_ = 0;
  bool has_end_ = false;
  uint64_t end_ = 0;
};

// OK if the ranges, in any order, cover the whole key space exactly once.
// Otherwise FailedPrecondition naming the first gap or overlap, e.g.
// "gap between 40 and 80" or "shards 40-c0 and 80- overlap".
absl::Status CheckCoverage(const std::vector<KeyRange>& ranges);

// OK if the new range overlaps none of the existing ones; otherwise
// FailedPrecondition naming the overlapping one.
absl::Status CheckNoOverlap(const KeyRange& added, const std::vector<KeyRange>& existing);

}  // namespace shale::key
