#include "changes/keyspace_position.h"

#include <limits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace shale::changes {
namespace {

// A shard name as Shale makes them: hex key-range bounds and '-' ("-80",
// "80-", "40-80", "-", "0"); letters, digits, '_' are also accepted so an
// unusual name still parses, but never ':' ',' '.' or spaces.
bool ValidShardName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool ParseNumber(absl::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return absl::SimpleAtoi(text, out);
}

// (seq, row) with row 0 (the entry done) after every row of the entry.
std::pair<int64_t, int64_t> OrderKey(const tablet::ChangePosition& p) {
  return {p.seq(), p.row() == 0 ? std::numeric_limits<int64_t>::max() : p.row()};
}

}  // namespace

std::string FormatChangePosition(const tablet::ChangePosition& p) {
  return absl::StrCat(p.seq(), ".", p.term(), ".", p.row());
}

absl::StatusOr<tablet::ChangePosition> ParseChangePosition(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("position \"", text, "\" is not SEQ.TERM.ROW (three numbers joined by '.')"));
  }
  static constexpr const char* kNames[] = {"SEQ", "TERM", "ROW"};
  int64_t v[3];
  for (int i = 0; i < 3; ++i) {
    if (!ParseNumber(parts[i], &v[i])) {
      return absl::InvalidArgumentError(absl::StrCat("position \"", text, "\": ", kNames[i], " \"",
                                                     parts[i], "\" is not a non-negative number"));
    }
  }
  if (v[2] > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("position \"", text, "\": ROW ", v[2], " is too large"));
  }
  tablet::ChangePosition p;
  p.set_seq(v[0]);
  p.set_term(v[1]);
  p.set_row(static_cast<int32_t>(v[2]));
  return p;
}

bool PositionAfter(const tablet::ChangePosition& a, const tablet::ChangePosition& b) {
  return OrderKey(a) > OrderKey(b);
}

absl::StatusOr<KeyspacePosition> KeyspacePosition::Parse(absl::string_view text) {
  if (text.empty()) {
    return absl::InvalidArgumentError(
        "empty position: expected SHARD:SEQ.TERM.ROW[,...], e.g. -80:123.2.0,80-:456.3.0");
  }
  KeyspacePosition out;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    const size_t colon = part.rfind(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("position part \"", part, "\" is not SHARD:SEQ.TERM.ROW (no ':')"));
    }
    absl::string_view shard = part.substr(0, colon);
    if (!ValidShardName(shard)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "position part \"", part, "\": \"", shard,
          "\" is not a shard name (key-range bounds in hex and '-', e.g. -80, 80-, 0)"));
    }
    absl::StatusOr<tablet::ChangePosition> p = ParseChangePosition(part.substr(colon + 1));
    if (!p.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("shard ", shard, ": ", p.status().message()));
    }
    if (!out.shards_.emplace(std::string(shard), *p).second) {
      return absl::InvalidArgumentError(absl::StrCat("position names shard ", shard, " twice"));
    }
  }
  return out;
}

std::string KeyspacePosition::ToString() const {
  return absl::StrJoin(shards_, ",", [](std::string* out, const auto& kv) {
    absl::StrAppend(out, kv.first, ":", FormatChangePosition(kv.second));
  });
}

absl::Status KeyspacePosition::CheckShards(const std::vector<std::string>& shards,
                                           absl::string_view keyspace) const {
  std::vector<std::string> missing, unknown;
  for (const std::string& s : shards) {
    if (!shards_.contains(s)) missing.push_back(s);
  }
  for (const auto& [name, p] : shards_) {
    bool known = false;
    for (const std::string& s : shards) known = known || s == name;
    if (!known) unknown.push_back(name);
  }
  if (missing.empty() && unknown.empty()) return absl::OkStatus();
  std::string msg = absl::StrCat("position \"", ToString(), "\" does not fit keyspace ", keyspace,
                                 " (shards ", absl::StrJoin(shards, ","), "):");
  if (!unknown.empty())
    absl::StrAppend(&msg, " it names unknown shard(s) ", absl::StrJoin(unknown, ","), ";");
  if (!missing.empty())
    absl::StrAppend(&msg, " it lacks shard(s) ", absl::StrJoin(missing, ","), ";");
  msg.pop_back();
  return absl::InvalidArgumentError(msg);
}

std::optional<tablet::ChangePosition> KeyspacePosition::Get(const std::string& shard) const {
  auto it = shards_.find(shard);
  if (it == shards_.end()) return std::nullopt;
  return it->second;
}

}  // namespace shale::changes
