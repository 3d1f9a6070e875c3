#include "tablet/vdiff/row_hash.h"

#include <cstring>
#include <string>

namespace shale::tablet::vdiff {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

// 64-bit FNV-1a over bytes, continuing from h.
class Fnv {
 public:
  void Byte(uint8_t b) {
    h_ ^= b;
    h_ *= kFnvPrime;
  }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) Byte(static_cast<uint8_t>(v >> (8 * i)));  // little-endian
  }
  void Bytes(const std::string& s) {
    U64(s.size());
    for (char c : s) Byte(static_cast<uint8_t>(c));
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = kFnvOffset;
};

// MurmurHash3's 64-bit finaliser: spreads FNV's weak high bits.
uint64_t Mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

}  // namespace

uint64_t RowHash(absl::Span<const engine::Value> row) {
  Fnv h;
  h.U64(row.size());
  for (const engine::Value& v : row) {
    switch (v.type()) {
      case engine::Value::Type::kNull:
        h.Byte(0);
        break;
      case engine::Value::Type::kInt64:
        h.Byte(1);
        h.U64(static_cast<uint64_t>(v.int64()));
        break;
      case engine::Value::Type::kFloat64: {
        h.Byte(2);
        const double d = v.float64();
        uint64_t bits;
        static_assert(sizeof(bits) == sizeof(d));
        std::memcpy(&bits, &d, sizeof(bits));
        h.U64(bits);
        break;
      }
      case engine::Value::Type::kText:
        h.Byte(3);
        h.Bytes(v.text());
        break;
      case engine::Value::Type::kBlob:
        h.Byte(4);
        h.Bytes(v.blob());
        break;
    }
  }
  return Mix(h.value());
}

}  // namespace shale::tablet::vdiff
