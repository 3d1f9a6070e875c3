#include "key/key_range.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::key {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t k40 = 0x40ULL << 56;
constexpr uint64_t k80 = 0x80ULL << 56;
constexpr uint64_t kC0 = 0xc0ULL << 56;

struct ParseCase {
  std::string name;
  KeyRange want;
  std::string canonical;
};

TEST(KeyRangeTest, ParseValid) {
  const ParseCase cases[] = {
      {"-80", KeyRange::Bounded(0, k80), "-80"},
      {"80-", KeyRange::From(k80), "80-"},
      {"40-80", KeyRange::Bounded(k40, k80), "40-80"},
      {"0", KeyRange::Full(), "0"},
      {"-", KeyRange::Full(), "0"},
      {"0-", KeyRange::Full(), "0"},
      {"8-", KeyRange::From(k80), "80-"},
      {"4000-8000", KeyRange::Bounded(k40, k80), "40-80"},
      {"C0-", KeyRange::From(kC0), "c0-"},
      {"4080-C0", KeyRange::Bounded(0x4080ULL << 48, kC0), "4080-c0"},
      {"01-02", KeyRange::Bounded(1ULL << 56, 2ULL << 56), "01-02"},
      {"1-2", KeyRange::Bounded(1ULL << 60, 2ULL << 60), "10-20"},
      {"-0000000000000001", KeyRange::Bounded(0, 1), "-0000000000000001"},
      {"fffffffffffffffe-ffffffffffffffff",
       KeyRange::Bounded(0xfffffffffffffffeULL, 0xffffffffffffffffULL),
       "fffffffffffffffe-ffffffffffffffff"},
      {"-aBcD", KeyRange::Bounded(0, 0xabcdULL << 48), "-abcd"},
  };
  for (const ParseCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = KeyRange::Parse(c.name);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, c.want);
    EXPECT_EQ(got->ToString(), c.canonical);
    auto again = KeyRange::Parse(c.canonical);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(*again, c.want);
  }
}

struct ParseErrorCase {
  std::string name;
  std::string want_message;
};

TEST(KeyRangeTest, ParseInvalid) {
  const ParseErrorCase cases[] = {
      {"", R"(invalid shard name "": empty)"},
      {"80", R"(invalid shard name "80": missing '-' (only "0" may omit it))"},
      {"zz", R"(invalid shard name "zz": missing '-' (only "0" may omit it))"},
      {"00", R"(invalid shard name "00": missing '-' (only "0" may omit it))"},
      {"40-80-c0", R"(invalid shard name "40-80-c0": more than one '-')"},
      {"--", R"(invalid shard name "--": more than one '-')"},
      {"4g-80", R"(invalid shard name "4g-80": start contains 'g', which is not a hex digit)"},
      {"40-8 ", R"(invalid shard name "40-8 ": end contains ' ', which is not a hex digit)"},
      {"+40-80", R"(invalid shard name "+40-80": start contains '+', which is not a hex digit)"},
      {"-0x80", R"(invalid shard name "-0x80": end contains 'x', which is not a hex digit)"},
      {"40-\n", R"(invalid shard name "40-\n": end contains '\n', which is not a hex digit)"},
      {"00000000000000001-",
       R"(invalid shard name "00000000000000001-": start has 17 hex digits; at most 16 are allowed)"},
      {"-10000000000000000",
       R"(invalid shard name "-10000000000000000": end has 17 hex digits; at most 16 are allowed)"},
      {"80-40", R"(invalid shard name "80-40": start 80 is not below end 40)"},
      {"80-80", R"(invalid shard name "80-80": start 80 is not below end 80)"},
      {"8-80", R"(invalid shard name "8-80": start 80 is not below end 80)"},
      {"-0", R"(invalid shard name "-0": start 0 is not below end 0)"},
      {"40-00", R"(invalid shard name "40-00": start 40 is not below end 0)"},
  };
  for (const ParseErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = KeyRange::Parse(c.name);
    ASSERT_FALSE(got.ok()) << got->ToString();
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(got.status().message(), c.want_message);
  }
}

TEST(KeyRangeTest, ToStringTrimsTrailingZeroBytesOnly) {
  EXPECT_EQ(KeyRange::Full().ToString(), "0");
  EXPECT_EQ(KeyRange::From(0).ToString(), "0");
  EXPECT_EQ(KeyRange::Bounded(0, 0x0100ULL << 48).ToString(), "-01");
  EXPECT_EQ(KeyRange::Bounded(0x1000ULL << 48, 0x4080ULL << 48).ToString(), "10-4080");
  EXPECT_EQ(KeyRange::From(0x0000000000000100ULL).ToString(), "00000000000001-");
}

struct ContainsCase {
  std::string range;
  uint64_t id;
  bool want;
};

TEST(KeyRangeTest, Contains) {
  const ContainsCase cases[] = {
      {"0", 0, true},        {"0", ~0ULL, true},
      {"-80", 0, true},      {"-80", k80 - 1, true},
      {"-80", k80, false},   {"80-", k80 - 1, false},
      {"80-", k80, true},    {"80-", ~0ULL, true},
      {"40-80", k40, true},  {"40-80", k40 - 1, false},
      {"40-80", k80, false},
  };
  for (const ContainsCase& c : cases) {
    SCOPED_TRACE(c.range + " " + std::to_string(c.id));
    auto r = KeyRange::Parse(c.range);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->Contains(KeyspaceId{c.id}), c.want);
  }
}

struct PairCase {
  std::string a;
  std::string b;
  bool overlaps;
  bool a_covers_b;
};

TEST(KeyRangeTest, OverlapsAndCovers) {
  const PairCase cases[] = {
      {"0", "0", true, true},         {"0", "-80", true, true},
      {"0", "80-", true, true},       {"-80", "0", true, false},
      {"-80", "80-", false, false},   {"80-", "-80", false, false},
      {"-80", "40-c0", true, false},  {"40-c0", "80-", true, false},
      {"40-c0", "40-80", true, true}, {"40-c0", "80-c0", true, true},
      {"40-c0", "-40", false, false}, {"40-c0", "c0-", false, false},
      {"80-", "c0-", true, true},     {"c0-", "80-", true, false},
      {"80-", "80-c0", true, true},   {"80-c0", "80-", true, false},
  };
  for (const PairCase& c : cases) {
    SCOPED_TRACE(c.a + " vs " + c.b);
    auto a = KeyRange::Parse(c.a);
    auto b = KeyRange::Parse(c.b);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->Overlaps(*b), c.overlaps);
    EXPECT_EQ(b->Overlaps(*a), c.overlaps);
    EXPECT_EQ(a->Covers(*b), c.a_covers_b);
  }
}

TEST(KeyRangeTest, EmptyRangeOverlapsNothing) {
  KeyRange empty = KeyRange::Bounded(k40, k40);
  EXPECT_FALSE(empty.Overlaps(KeyRange::Full()));
  EXPECT_FALSE(KeyRange::Full().Overlaps(empty));
}

TEST(KeyRangeTest, ProtoRoundTrip) {
  const KeyRange ranges[] = {KeyRange::Full(), KeyRange::Bounded(0, k80), KeyRange::From(k80),
                             KeyRange::Bounded(k40, kC0), KeyRange::Bounded(0, ~0ULL)};
  for (const KeyRange& r : ranges) {
    SCOPED_TRACE(r.ToString());
    EXPECT_EQ(KeyRange::FromProto(r.ToProto()), r);
  }
  topodata::KeyRange p = KeyRange::From(k80).ToProto();
  EXPECT_EQ(p.start(), k80);
  EXPECT_EQ(p.end(), 0u);
  p = KeyRange::Bounded(k40, k80).ToProto();
  EXPECT_EQ(p.start(), k40);
  EXPECT_EQ(p.end(), k80);
  EXPECT_TRUE(KeyRange::FromProto(topodata::KeyRange()).IsFull());
}

std::vector<KeyRange> Ranges(const std::vector<std::string>& names) {
  std::vector<KeyRange> out;
  for (const std::string& n : names) {
    auto r = KeyRange::Parse(n);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) out.push_back(*r);
  }
  return out;
}

struct CoverageCase {
  std::vector<std::string> shards;
  std::string want_error;  // empty: OK
};

TEST(KeyRangeTest, CheckCoverage) {
  const CoverageCase cases[] = {
      {{"0"}, ""},
      {{"-80", "80-"}, ""},
      {{"80-", "-80"}, ""},
      {{"c0-", "-40", "80-c0", "40-80"}, ""},
      {{}, "no shards"},
      {{"-40", "80-"}, "key space not covered: gap between 40 and 80"},
      {{"-40", "40-c0", "80-"}, "shards 40-c0 and 80- overlap"},
      {{"40-"}, "key space not covered: gap from start to 40"},
      {{"-40", "40-c0"}, "key space not covered: gap after c0"},
      {{"-80", "-80", "80-"}, "shards -80 and -80 overlap"},
      {{"0", "80-"}, "shards 0 and 80- overlap"},
      {{"-80", "0"}, "shards -80 and 0 overlap"},
      {{"80-", "c0-", "-80"}, "shards 80- and c0- overlap"},
  };
  for (const CoverageCase& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.shards));
    absl::Status s = CheckCoverage(Ranges(c.shards));
    if (c.want_error.empty()) {
      EXPECT_TRUE(s.ok()) << s;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_EQ(s.message(), c.want_error);
    }
  }
}

TEST(KeyRangeTest, CheckCoverageRejectsEmptyRange) {
  absl::Status s =
      CheckCoverage({KeyRange::Bounded(0, k80), KeyRange::Bounded(k80, k80), KeyRange::From(k80)});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("80-80 is empty"));
}

struct NoOverlapCase {
  std::string added;
  std::vector<std::string> existing;
  std::string want_error;  // empty: OK
};

TEST(KeyRangeTest, CheckNoOverlap) {
  const NoOverlapCase cases[] = {
      {"80-", {"-80"}, ""},
      {"40-80", {"-40", "80-"}, ""},
      {"-80", {}, ""},
      {"40-c0", {"-40", "80-"}, "shard 40-c0 overlaps existing shard 80-"},
      {"0", {"80-"}, "shard 0 overlaps existing shard 80-"},
      {"-80", {"-80"}, "shard -80 overlaps existing shard -80"},
  };
  for (const NoOverlapCase& c : cases) {
    SCOPED_TRACE(c.added);
    auto added = KeyRange::Parse(c.added);
    ASSERT_TRUE(added.ok());
    absl::Status s = CheckNoOverlap(*added, Ranges(c.existing));
    if (c.want_error.empty()) {
      EXPECT_TRUE(s.ok()) << s;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_EQ(s.message(), c.want_error);
    }
  }
}

}  // namespace
}  // namespace shale::key
