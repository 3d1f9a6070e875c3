#include "gate/pgwire/params.h"

#include <cmath>
#include <cstring>
#include <string>

#include "base/sqlstate.h"
#include "gate/pgwire/byte_order.h"
#include "gate/pgwire/types.h"
#include "gtest/gtest.h"

namespace shale::gate::pgwire {
namespace {

using namespace std::string_literals;
using tablet::Value;

std::string Debug(const absl::StatusOr<Value>& v) {
  return v.ok() ? v->ShortDebugString() : v.status().ToString();
}

std::string Be64(uint64_t v) {
  std::string s;
  AppendBig64(v, &s);
  return s;
}

TEST(ParamsTest, TextFormat) {
  struct Case {
    const char* text;
    uint32_t type_oid;
    const char* want;  // Value's ShortDebugString
  };
  const Case cases[] = {
      {"hello", oid::kUnspecified, "text: \"hello\""},
      {"hello", oid::kText, "text: \"hello\""},
      {"hello", oid::kVarchar, "text: \"hello\""},
      {"2024-01-01", 1082 /* date */, "text: \"2024-01-01\""},
      {"42", oid::kInt8, "int64: 42"},
      {" -7 ", oid::kInt4, "int64: -7"},
      {"32767", oid::kInt2, "int64: 32767"},
      {"2.5", oid::kFloat8, "float64: 2.5"},
      {"1e3", oid::kFloat4, "float64: 1000"},
      {"12", oid::kNumeric, "int64: 12"},
      {"12.25", oid::kNumeric, "float64: 12.25"},
      {"1234567890.123456789", oid::kNumeric, "text: \"1234567890.123456789\""},
      {"t", oid::kBool, "int64: 1"},
      {"TRUE", oid::kBool, "int64: 1"},
      {"yes", oid::kBool, "int64: 1"},
      {"on", oid::kBool, "int64: 1"},
      {"0", oid::kBool, "int64: 0"},
      {"off", oid::kBool, "int64: 0"},
      {"n", oid::kBool, "int64: 0"},
      {"\\x00ff", oid::kBytea, "blob: \"\\000\\377\""},
      {"\\x0a 0b", oid::kBytea, "blob: \"\\n\\013\""},
      {"a\\\\b\\001", oid::kBytea, "blob: \"a\\\\b\\001\""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Value> v = DecodeParam(absl::string_view(c.text), 0, c.type_oid);
    EXPECT_EQ(Debug(v), c.want) << c.text << " as " << c.type_oid;
  }
}

TEST(ParamsTest, TextFormatErrors) {
  const std::pair<const char*, uint32_t> bad[] = {
      {"abc", oid::kInt8}, {"1.5", oid::kInt8},    {"", oid::kInt4},
      {"x", oid::kFloat8}, {"maybe", oid::kBool},  {"o", oid::kBool},
      {"\\x0", oid::kBytea}, {"\\xzz", oid::kBytea}, {"a\\b", oid::kBytea},
      {"1.2.3", oid::kNumeric},
  };
  for (const auto& c : bad) {
    absl::StatusOr<Value> v = DecodeParam(absl::string_view(c.first), 0, c.second);
    EXPECT_FALSE(v.ok()) << c.first;
    EXPECT_EQ(SqlState(v.status()), "22P02") << c.first;
  }
  EXPECT_EQ(SqlState(DecodeParam(absl::string_view("40000"), 0, oid::kInt2).status()), "22003");
  EXPECT_EQ(SqlState(DecodeParam(absl::string_view("\xff"), 0, oid::kText).status()), "22021");
}

TEST(ParamsTest, BinaryFormat) {
  double d = 2.5;
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  float f = 0.5f;
  uint32_t fbits;
  std::memcpy(&fbits, &f, 4);
  std::string f4;
  AppendBig32(fbits, &f4);
  struct Case {
    std::string data;
    uint32_t type_oid;
    const char* want;
  };
  const Case cases[] = {
      {"\xff\xfe"s, oid::kInt2, "int64: -2"},
      {"\0\0\x01\0"s, oid::kInt4, "int64: 256"},
      {Be64(uint64_t{1} << 40), oid::kInt8, "int64: 1099511627776"},
      {Be64(bits), oid::kFloat8, "float64: 2.5"},
      {f4, oid::kFloat4, "float64: 0.5"},
      {"\x01"s, oid::kBool, "int64: 1"},
      {"\0"s, oid::kBool, "int64: 0"},
      {"abc", oid::kText, "text: \"abc\""},
      {"abc", oid::kVarchar, "text: \"abc\""},
      {"\0\x01"s, oid::kBytea, "blob: \"\\000\\001\""},
      {"\x01\x02"s, oid::kUnspecified, "blob: \"\\001\\002\""},
      {"\x01\x02"s, 2950 /* uuid */, "blob: \"\\001\\002\""},
      // numeric 12.5 and 3
      {"\0\x02\0\0\0\0\0\x01\0\x0c\x13\x88"s, oid::kNumeric, "float64: 12.5"},
      {"\0\x01\0\0\0\0\0\0\0\x03"s, oid::kNumeric, "int64: 3"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Value> v = DecodeParam(absl::string_view(c.data), 1, c.type_oid);
    EXPECT_EQ(Debug(v), c.want) << "oid " << c.type_oid;
  }
  for (uint32_t type_oid : {oid::kInt2, oid::kInt4, oid::kInt8, oid::kFloat4, oid::kFloat8,
                            oid::kBool, oid::kNumeric}) {
    absl::StatusOr<Value> v = DecodeParam(absl::string_view("abc"), 1, type_oid);
    EXPECT_EQ(SqlState(v.status()), "22P03") << type_oid;
  }
}

TEST(ParamsTest, NullAndFormatCodes) {
  EXPECT_EQ(Debug(DecodeParam(std::nullopt, 0, oid::kInt8)), "null: true");
  EXPECT_EQ(Debug(DecodeParam(std::nullopt, 1, oid::kText)), "null: true");
  EXPECT_EQ(SqlState(DecodeParam(absl::string_view("1"), 2, oid::kInt8).status()), "08P01");
  EXPECT_EQ(FormatFor({}, 3), 0);
  EXPECT_EQ(FormatFor({1}, 3), 1);
  EXPECT_EQ(FormatFor({0, 1}, 1), 1);
}

TEST(ParamsTest, DecodeBindParams) {
  BindMessage bind;
  bind.statement = "s";
  bind.param_formats = {1, 0};
  std::string eight = Be64(9);
  bind.params = {absl::string_view(eight), absl::string_view("x")};
  const uint32_t oids[] = {oid::kInt8};
  absl::StatusOr<std::vector<Value>> values = DecodeBindParams(bind, 2, oids);
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ((*values)[0].int64(), 9);
  EXPECT_EQ((*values)[1].text(), "x");

  // Wrong number of values or of format codes.
  EXPECT_EQ(SqlState(DecodeBindParams(bind, 3, oids).status()), "08P01");
  bind.param_formats = {0, 0, 0};
  EXPECT_EQ(SqlState(DecodeBindParams(bind, 2, oids).status()), "08P01");
  // A bad value names the parameter.
  bind.param_formats = {0};
  absl::StatusOr<std::vector<Value>> bad = DecodeBindParams(bind, 2, oids);
  EXPECT_EQ(SqlState(bad.status()), "22P02");
  EXPECT_NE(bad.status().message().find("$1"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace shale::gate::pgwire
