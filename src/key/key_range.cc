#include "key/key_range.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace shale::key {
namespace {

constexpr int kMaxBoundDigits = 16;

// Lowercase hex of the big-endian bytes of `bound` with trailing zero bytes
// trimmed: 0x40.. -> "40", 0x4080.. -> "4080", 0x01.. -> "01", 0 -> "".
std::string FormatBound(uint64_t bound) {
  std::string hex = absl::StrFormat("%016x", bound);
  size_t len = hex.size();
  while (len >= 2 && hex[len - 1] == '0' && hex[len - 2] == '0') len -= 2;
  hex.resize(len);
  return hex;
}

// FormatBound for messages, where an empty bound would read badly.
std::string BoundForMessage(uint64_t bound) {
  std::string s = FormatBound(bound);
  return s.empty() ? "0" : s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status ParseError(absl::string_view shard_name, const std::string& reason) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid shard name \"", absl::CHexEscape(shard_name), "\": ", reason));
}

// Parses one bound ("start" or "end", named by `which`): a hex prefix of the
// big-endian id, padded with zeros on the right.
absl::StatusOr<uint64_t> ParseBound(absl::string_view shard_name, absl::string_view which,
                                    absl::string_view digits) {
  if (digits.size() > kMaxBoundDigits) {
    return ParseError(shard_name, absl::StrCat(which, " has ", digits.size(),
                                               " hex digits; at most 16 are allowed"));
  }
  uint64_t value = 0;
  for (char c : digits) {
    int v = HexValue(c);
    if (v < 0) {
      return ParseError(shard_name, absl::StrCat(which, " contains '",
                                                 absl::CHexEscape(absl::string_view(&c, 1)),
                                                 "', which is not a hex digit"));
    }
    value = (value << 4) | static_cast<uint64_t>(v);
  }
  if (!digits.empty()) value <<= 4 * (kMaxBoundDigits - digits.size());
  return value;
}

bool IsEmpty(const KeyRange& r) { return r.has_end() && r.start() >= r.end(); }

// True if `id` lies before the end of `r`.
bool BeforeEnd(uint64_t id, const KeyRange& r) { return !r.has_end() || id < r.end(); }

}  // namespace

absl::StatusOr<KeyRange> KeyRange::Parse(absl::string_view shard_name) {
  if (shard_name.empty()) return ParseError(shard_name, "empty");
  if (shard_name == "0") return Full();
  size_t dash = shard_name.find('-');
  if (dash == absl::string_view::npos) {
    return ParseError(shard_name, "missing '-' (only \"0\" may omit it)");
  }
  if (shard_name.find('-', dash + 1) != absl::string_view::npos) {
    return ParseError(shard_name, "more than one '-'");
  }
  absl::string_view start_digits = shard_name.substr(0, dash);
  absl::string_view end_digits = shard_name.substr(dash + 1);
  auto start = ParseBound(shard_name, "start", start_digits);
  if (!start.ok()) return start.status();
  if (end_digits.empty()) return From(*start);
  auto end = ParseBound(shard_name, "end", end_digits);
  if (!end.ok()) return end.status();
  if (*start >= *end) {
    return ParseError(shard_name, absl::StrCat("start ", BoundForMessage(*start),
                                               " is not below end ", BoundForMessage(*end)));
  }
  return Bounded(*start, *end);
}

std::string KeyRange::ToString() const {
  if (IsFull()) return "0";
  return absl::StrCat(FormatBound(start_), "-", has_end_ ? FormatBound(end_) : "");
}

bool KeyRange::Contains(KeyspaceId id) const {
  return id.value >= start_ && BeforeEnd(id.value, *this);
}

bool KeyRange::Overlaps(const KeyRange& other) const {
  if (IsEmpty(*this) || IsEmpty(other)) return false;
  return BeforeEnd(start_, other) && BeforeEnd(other.start_, *this);
}

bool KeyRange::Covers(const KeyRange& other) const {
  if (other.start_ < start_) return false;
  if (!has_end_) return true;
  return other.has_end_ && other.end_ <= end_;
}

topodata::KeyRange KeyRange::ToProto() const {
  topodata::KeyRange p;
  p.set_start(start_);
  p.set_end(has_end_ ? end_ : 0);
  return p;
}

KeyRange KeyRange::FromProto(const topodata::KeyRange& p) {
  if (p.end() == 0) return From(p.start());
  return Bounded(p.start(), p.end());
}

absl::Status CheckCoverage(const std::vector<KeyRange>& ranges) {
  if (ranges.empty()) return absl::FailedPreconditionError("no shards");
  std::vector<KeyRange> sorted = ranges;
  // By start; for equal starts the shorter range (bounded, smaller end) first.
  std::sort(sorted.begin(), sorted.end(), [](const KeyRange& a, const KeyRange& b) {
    if (a.start() != b.start()) return a.start() < b.start();
    if (a.has_end() != b.has_end()) return a.has_end();
    return a.end() < b.end();
  });
  const KeyRange* prev = nullptr;  // the range that ends at `pos`
  uint64_t pos = 0;                // everything below pos is covered
  for (const KeyRange& r : sorted) {
    if (IsEmpty(r)) {
      return absl::FailedPreconditionError(absl::StrCat("shard ", r.ToString(), " is empty"));
    }
    if (prev != nullptr && (!prev->has_end() || r.start() < pos)) {
      return absl::FailedPreconditionError(
          absl::StrCat("shards ", prev->ToString(), " and ", r.ToString(), " overlap"));
    }
    if (r.start() > pos) {
      if (prev == nullptr) {
        return absl::FailedPreconditionError(
            absl::StrCat("key space not covered: gap from start to ", BoundForMessage(r.start())));
      }
      return absl::FailedPreconditionError(absl::StrCat("key space not covered: gap between ",
                                                        BoundForMessage(pos), " and ",
                                                        BoundForMessage(r.start())));
    }
    prev = &r;
    pos = r.end();
  }
  if (prev->has_end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("key space not covered: gap after ", BoundForMessage(pos)));
  }
  return absl::OkStatus();
}

absl::Status CheckNoOverlap(const KeyRange& added, const std::vector<KeyRange>& existing) {
  for (const KeyRange& r : existing) {
    if (added.Overlaps(r)) {
      return absl::FailedPreconditionError(
          absl::StrCat("shard ", added.ToString(), " overlaps existing shard ", r.ToString()));
    }
  }
  return absl::OkStatus();
}

}  // namespace shale::key
