#include "key/vindex.h"

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

}  // namespace shale::key
