#pragma once

// KeyspacePosition: where a keyspace's change subscription stands, one
// tablet::ChangePosition per shard (issue 9). Its text form is what
// Gate.Subscribe events carry and what `--from` takes:
//
//   SHARD:SEQ.TERM.ROW[,SHARD:SEQ.TERM.ROW...]   e.g. "-80:123.2.0,80-:456.3.0"
//
// Shard names may contain '-' (and the unsharded shard may be "0" or "-"), so
// a part splits at its last ':'. Shards print in name order. Also the order
// of positions within one shard (PositionAfter). A value type;
// thread-compatible.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "change_data.pb.h"

namespace shale::changes {

// "SEQ.TERM.ROW".
std::string FormatChangePosition(const tablet::ChangePosition& p);
// Parses "SEQ.TERM.ROW" (non-negative decimal numbers; ROW fits int32).
// InvalidArgument naming the part that is wrong.
absl::StatusOr<tablet::ChangePosition> ParseChangePosition(absl::string_view text);

// Whether a comes after b in one shard's stream: by seq, then by row, where
// row 0 (the whole entry delivered) is after every row of that entry. The
// term is not compared (the tablet checks it against its log).
bool PositionAfter(const tablet::ChangePosition& a, const tablet::ChangePosition& b);

class KeyspacePosition {
 public:
  KeyspacePosition() = default;

  // InvalidArgument naming the part that is wrong: an empty text, a part
  // without ':', an empty or malformed shard name, a bad SEQ.TERM.ROW, a
  // shard named twice.
  static absl::StatusOr<KeyspacePosition> Parse(absl::string_view text);
  std::string ToString() const;

  // InvalidArgument unless the shards named here are exactly `shards`
  // (naming the ones missing and the ones the keyspace does not have).
  absl::Status CheckShards(const std::vector<std::string>& shards,
                           absl::string_view keyspace) const;

  void Set(const std::string& shard, const tablet::ChangePosition& p) { shards_[shard] = p; }
  std::optional<tablet::ChangePosition> Get(const std::string& shard) const;
  const std::map<std::string, tablet::ChangePosition>& shards() const { return shards_; }
  bool empty() const { return shards_.empty(); }

 private:
  std::map<std::string, tablet::ChangePosition> shards_;
};

}  // namespace shale::changes
