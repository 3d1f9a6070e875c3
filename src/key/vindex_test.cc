#include "key/vindex.h"

#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace shale::key {
namespace {

// These values are Shale's on-disk contract: rows are stored on the shard
// their hash picked. Never change them. (Computed once from the definition
// in vindex.cc: splitmix64 finalizer, over FNV-1a-64 for bytes.)
struct IntCase {
  int64_t value;
  uint64_t want;
};

TEST(VindexTest, HashInt64IsPinned) {
  const IntCase cases[] = {
      {0, 0x0000000000000000ULL},
      {1, 0x5692161d100b05e5ULL},
      {2, 0xdbd238973a2b148aULL},
      {-1, 0xb4d055fcf2cbbd7bULL},
      {42, 0xa759ea27d4727622ULL},
      {1000000, 0x62fc1862c57c2356ULL},
      {std::numeric_limits<int64_t>::max(), 0x5a682afe7965debdULL},
      {std::numeric_limits<int64_t>::min(), 0x25c26ea579cea98aULL},
  };
  for (const IntCase& c : cases) {
    EXPECT_EQ(HashInt64(c.value).value, c.want) << "value " << c.value;
  }
}

struct BytesCase {
  std::string value;
  uint64_t want;
};

TEST(VindexTest, HashBytesIsPinned) {
  const BytesCase cases[] = {
      {"", 0xf52a15e9a9b5e89bULL},
      {"a", 0x02c0bdbf481420f8ULL},
      {"hello", 0x16fe05a1c75bcd0fULL},
      {"user@example.com", 0x5f4df3c911933120ULL},
      {"h\xc3\xa9llo", 0x18e366c2ac71cbbeULL},
  };
  for (const BytesCase& c : cases) {
    EXPECT_EQ(HashBytes(c.value).value, c.want) << "value \"" << c.value << "\"";
  }
}

TEST(VindexTest, HashBytesUsesEveryByte) {
  EXPECT_NE(HashBytes(std::string("a\0b", 3)).value, HashBytes(std::string("a\0c", 3)).value);
  EXPECT_NE(HashBytes(std::string("\0", 1)).value, HashBytes("").value);
  EXPECT_NE(HashBytes("ab").value, HashBytes("ba").value);
}

// 0..9999 should land roughly evenly on 16 equal shards (top 4 bits):
// 625 expected per bucket; allow +-20%.
TEST(VindexTest, HashInt64SpreadsEvenly) {
  std::array<int, 16> buckets{};
  for (int64_t v = 0; v < 10000; ++v) ++buckets[HashInt64(v).value >> 60];
  for (int i = 0; i < 16; ++i) {
    EXPECT_GT(buckets[i], 500) << "bucket " << i;
    EXPECT_LT(buckets[i], 750) << "bucket " << i;
  }
}

TEST(VindexTest, HashBytesSpreadsEvenly) {
  std::array<int, 16> buckets{};
  for (int v = 0; v < 10000; ++v) ++buckets[HashBytes(std::to_string(v)).value >> 60];
  for (int i = 0; i < 16; ++i) {
    EXPECT_GT(buckets[i], 500) << "bucket " << i;
    EXPECT_LT(buckets[i], 750) << "bucket " << i;
  }
}

tablet::Value IntValue(int64_t v) {
  tablet::Value out;
  out.set_int64(v);
  return out;
}
tablet::Value TextValue(const std::string& v) {
  tablet::Value out;
  out.set_text(v);
  return out;
}

TEST(KeyspaceIdOfValue, ByColumnType) {
  EXPECT_EQ(KeyspaceIdOfValue(IntValue(7), topodata::UINT64)->value, HashInt64(7).value);
  EXPECT_EQ(KeyspaceIdOfValue(IntValue(7), topodata::UNSET)->value, HashInt64(7).value);
  EXPECT_EQ(KeyspaceIdOfValue(IntValue(7), topodata::BYTES)->value, HashBytes("7").value);
  // Integer-looking text is an integer unless the column holds bytes.
  EXPECT_EQ(KeyspaceIdOfValue(TextValue("42"), topodata::UINT64)->value, HashInt64(42).value);
  EXPECT_EQ(KeyspaceIdOfValue(TextValue("42"), topodata::BYTES)->value, HashBytes("42").value);
  EXPECT_EQ(KeyspaceIdOfValue(TextValue("ab"), topodata::UNSET)->value, HashBytes("ab").value);
  tablet::Value f;
  f.set_float64(3.0);
  EXPECT_EQ(KeyspaceIdOfValue(f, topodata::UINT64)->value, HashInt64(3).value);
}

TEST(KeyspaceIdOfValue, WrongKindsSayWhy) {
  auto text = KeyspaceIdOfValue(TextValue("ab"), topodata::UINT64);
  EXPECT_TRUE(absl::IsInvalidArgument(text.status()));
  EXPECT_EQ(text.status().message(), "\"ab\" is not an integer");
  tablet::Value null;
  null.set_null(true);
  EXPECT_EQ(KeyspaceIdOfValue(null, topodata::UNSET).status().message(), "NULL has no shard");
  tablet::Value blob;
  blob.set_blob("x");
  EXPECT_TRUE(absl::IsInvalidArgument(KeyspaceIdOfValue(blob, topodata::UINT64).status()));
}

}  // namespace
}  // namespace shale::key
