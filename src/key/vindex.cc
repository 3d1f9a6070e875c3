#include "key/vindex.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shale::key {
namespace {

// The splitmix64 finalizer: a bijection on 64-bit values that spreads every
// input bit over the whole output.
uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// FNV-1a, 64-bit, with the standard offset basis and prime.
uint64_t Fnv1a64(absl::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

KeyspaceId HashInt64(int64_t value) { return KeyspaceId{Mix64(static_cast<uint64_t>(value))}; }

KeyspaceId HashBytes(absl::string_view value) { return KeyspaceId{Mix64(Fnv1a64(value))}; }

absl::StatusOr<KeyspaceId> KeyspaceIdOfValue(const tablet::Value& value,
                                             topodata::KeyspaceIdType type) {
  switch (value.kind_case()) {
    case tablet::Value::kInt64:
      if (type == topodata::BYTES) return HashBytes(absl::StrCat(value.int64()));
      return HashInt64(value.int64());
    case tablet::Value::kText: {
      if (type == topodata::BYTES) return HashBytes(value.text());
      int64_t v;
      if (absl::SimpleAtoi(value.text(), &v)) return HashInt64(v);
      if (type == topodata::UINT64) {
        return absl::InvalidArgumentError(absl::StrCat("\"", value.text(), "\" is not an integer"));
      }
      return HashBytes(value.text());
    }
    case tablet::Value::kBlob:
      if (type == topodata::UINT64) return absl::InvalidArgumentError("a blob is not an integer");
      return HashBytes(value.blob());
    case tablet::Value::kFloat64: {
      const double d = value.float64();
      if (d == static_cast<double>(static_cast<int64_t>(d)) && type != topodata::BYTES) {
        return HashInt64(static_cast<int64_t>(d));
      }
      return absl::InvalidArgumentError(absl::StrCat(d, " is not an integer"));
    }
    case tablet::Value::kNull:
    case tablet::Value::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("NULL has no shard");
}

}  // namespace shale::key
