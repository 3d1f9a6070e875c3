#include "gate/pgwire/types.h"

#include <cmath>
#include <limits>
#include <string>

#include "base/sqlstate.h"
#include "gate/pgwire/numeric.h"
#include "gtest/gtest.h"

namespace shale::gate::pgwire {
namespace {

using namespace std::string_literals;
using tablet::Value;

Value Int(int64_t v) {
  Value x;
  x.set_int64(v);
  return x;
}
Value Float(double v) {
  Value x;
  x.set_float64(v);
  return x;
}
Value Text(const std::string& v) {
  Value x;
  x.set_text(v);
  return x;
}
Value Blob(const std::string& v) {
  Value x;
  x.set_blob(v);
  return x;
}
Value Null() {
  Value x;
  x.set_null(true);
  return x;
}

TEST(TypesTest, OidForDeclType) {
  const std::pair<const char*, uint32_t> cases[] = {
      {"INTEGER", oid::kInt8},        {"int", oid::kInt8},
      {"BIGINT", oid::kInt8},         {"UNSIGNED BIG INT", oid::kInt8},
      {"TEXT", oid::kText},           {"varchar(20)", oid::kText},
      {"NCHAR(5)", oid::kText},       {"CLOB", oid::kText},
      {"BLOB", oid::kBytea},          {"REAL", oid::kFloat8},
      {"DOUBLE PRECISION", oid::kFloat8}, {"FLOAT", oid::kFloat8},
      {"BOOLEAN", oid::kBool},        {"bool", oid::kBool},
      {"NUMERIC", oid::kNumeric},     {"DECIMAL(10,5)", oid::kNumeric},
      {"DATE", oid::kText},           {"DATETIME", oid::kText},
      {"TIMESTAMP", oid::kText},      {"", oid::kUnspecified},
      {"WHATEVER", oid::kUnspecified},
      // SQLite's order: "INT" wins over everything, "CHAR" over "BLOB".
      {"CHARINT", oid::kInt8},        {"CHAR BLOB", oid::kText},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(OidForDeclType(c.first), c.second) << c.first;
  }
}

TEST(TypesTest, ColumnOidOfExpressionsComesFromTheFirstNonNullValue) {
  tablet::QueryResult r;
  r.add_fields()->set_name("a");  // expression: no declared type
  r.add_fields()->set_name("b");
  r.add_fields()->set_name("c");
  r.add_fields()->set_name("d");
  r.add_fields()->set_name("e");
  auto* f = r.add_fields();
  f->set_name("f");
  f->set_decl_type("TEXT");
  tablet::Row* row1 = r.add_rows();
  *row1->add_values() = Null();
  *row1->add_values() = Float(1.5);
  *row1->add_values() = Text("x");
  *row1->add_values() = Blob("\x01");
  *row1->add_values() = Null();
  *row1->add_values() = Int(3);
  tablet::Row* row2 = r.add_rows();
  *row2->add_values() = Int(7);
  *row2->add_values() = Int(2);
  *row2->add_values() = Int(2);
  *row2->add_values() = Int(2);
  *row2->add_values() = Null();
  *row2->add_values() = Int(4);
  EXPECT_EQ(ColumnOid(r, 0), oid::kInt8);
  EXPECT_EQ(ColumnOid(r, 1), oid::kFloat8);
  EXPECT_EQ(ColumnOid(r, 2), oid::kText);
  EXPECT_EQ(ColumnOid(r, 3), oid::kBytea);
  EXPECT_EQ(ColumnOid(r, 4), oid::kText);  // all null
  EXPECT_EQ(ColumnOid(r, 5), oid::kText);  // declared type wins
}

TEST(TypesTest, TypeLength) {
  EXPECT_EQ(TypeLength(oid::kInt8), 8);
  EXPECT_EQ(TypeLength(oid::kFloat8), 8);
  EXPECT_EQ(TypeLength(oid::kBool), 1);
  EXPECT_EQ(TypeLength(oid::kText), -1);
  EXPECT_EQ(TypeLength(oid::kNumeric), -1);
}

TEST(TypesTest, FormatFloat8LikePostgres) {
  const std::pair<double, const char*> cases[] = {
      {0.0, "0"},
      {-0.0, "-0"},
      {1.0, "1"},
      {0.1, "0.1"},
      {-2.5, "-2.5"},
      {123.456, "123.456"},
      {1.0 / 3, "0.3333333333333333"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {1.5e-7, "1.5e-07"},
      {1e14, "100000000000000"},
      {123456789012345.0, "123456789012345"},
      {1e15, "1e+15"},
      {1.2345678901234567e20, "1.2345678901234567e+20"},
      {1e300, "1e+300"},
      {std::numeric_limits<double>::infinity(), "Infinity"},
      {-std::numeric_limits<double>::infinity(), "-Infinity"},
      {std::nan(""), "NaN"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(FormatFloat8(c.first), c.second);
  }
}

std::string TextOf(const Value& v, uint32_t type_oid) {
  std::string out;
  AppendTextValue(v, type_oid, &out);
  return out;
}

TEST(TypesTest, TextFormat) {
  EXPECT_EQ(TextOf(Int(-42), oid::kInt8), "-42");
  EXPECT_EQ(TextOf(Int(1), oid::kBool), "t");
  EXPECT_EQ(TextOf(Int(0), oid::kBool), "f");
  EXPECT_EQ(TextOf(Float(2.5), oid::kFloat8), "2.5");
  EXPECT_EQ(TextOf(Text("héllo"), oid::kText), "héllo");
  EXPECT_EQ(TextOf(Blob("\x01\xab\xff"s), oid::kBytea), "\\x01abff");
  EXPECT_EQ(TextOf(Blob(""), oid::kBytea), "\\x");
  EXPECT_EQ(TextOf(Int(5), oid::kNumeric), "5");
}

absl::StatusOr<std::string> BinaryOf(const Value& v, uint32_t type_oid) {
  std::string out;
  absl::Status s = AppendBinaryValue(v, type_oid, &out);
  if (!s.ok()) return s;
  return out;
}

TEST(TypesTest, BinaryFormat) {
  EXPECT_EQ(*BinaryOf(Int(1), oid::kInt8), "\0\0\0\0\0\0\0\x01"s);
  EXPECT_EQ(*BinaryOf(Int(-2), oid::kInt8), "\xff\xff\xff\xff\xff\xff\xff\xfe"s);
  EXPECT_EQ(*BinaryOf(Float(1.0), oid::kFloat8), "\x3f\xf0\0\0\0\0\0\0"s);
  EXPECT_EQ(*BinaryOf(Int(1), oid::kBool), "\x01"s);
  EXPECT_EQ(*BinaryOf(Int(0), oid::kBool), "\0"s);
  EXPECT_EQ(*BinaryOf(Text("abc"), oid::kText), "abc");
  EXPECT_EQ(*BinaryOf(Blob("\0\xff"s), oid::kBytea), "\0\xff"s);
  // Numeric 12.5: 2 digits, weight 0, positive, dscale 1: [12, 5000].
  EXPECT_EQ(*BinaryOf(Float(12.5), oid::kNumeric), "\0\x02\0\0\0\0\0\x01\0\x0c\x13\x88"s);
}

TEST(TypesTest, BinaryFormatConvertsOnlyWithoutLoss) {
  EXPECT_EQ(*BinaryOf(Float(3.0), oid::kInt8), *BinaryOf(Int(3), oid::kInt8));
  EXPECT_EQ(*BinaryOf(Text("12"), oid::kInt8), *BinaryOf(Int(12), oid::kInt8));
  EXPECT_EQ(*BinaryOf(Int(2), oid::kFloat8), *BinaryOf(Float(2.0), oid::kFloat8));
  EXPECT_EQ(*BinaryOf(Int(7), oid::kText), "7");
  EXPECT_EQ(*BinaryOf(Float(0.5), oid::kText), "0.5");
  EXPECT_EQ(*BinaryOf(Text("t"), oid::kBool), "\x01"s);
  EXPECT_EQ(*BinaryOf(Text("bytes"), oid::kBytea), "bytes");
  EXPECT_EQ(*BinaryOf(Blob("utf8 é"), oid::kText), "utf8 é");

  const std::pair<Value, uint32_t> lossy[] = {
      {Float(3.5), oid::kInt8},           {Text("abc"), oid::kInt8},
      {Text(" 12"), oid::kInt8},          {Text("012"), oid::kInt8},
      {Float(1e19), oid::kInt8},          {Int((1LL << 53) + 1), oid::kFloat8},
      {Text("x"), oid::kFloat8},          {Int(2), oid::kBool},
      {Blob("\xff\xfe"s), oid::kText},    {Blob("a\0b"s), oid::kText},
      {Blob("\x01"), oid::kNumeric},      {Text("1.2.3"), oid::kNumeric},
      {Blob("12"), oid::kInt8},
  };
  for (const auto& c : lossy) {
    absl::StatusOr<std::string> out = BinaryOf(c.first, c.second);
    EXPECT_FALSE(out.ok()) << c.first.DebugString() << " as " << c.second;
    EXPECT_EQ(SqlState(out.status()), "22P02");
  }
}

TEST(NumericTest, BinaryRoundTrips) {
  const std::pair<const char*, const char*> cases[] = {
      {"0", "0"},
      {"12.50", "12.50"},
      {"-12.5", "-12.5"},
      {"123456789.0001", "123456789.0001"},
      {"0.000015", "0.000015"},
      {"1.5e-05", "0.000015"},
      {"1e20", "100000000000000000000"},
      {"10000", "10000"},
      {"-0.00", "0.00"},
      {"NaN", "NaN"},
      {"Infinity", "Infinity"},
      {"-infinity", "-Infinity"},
      {"+7", "7"},
      {".5", "0.5"},
      {"5.", "5"},
  };
  for (const auto& c : cases) {
    std::string binary;
    ASSERT_TRUE(AppendNumericBinary(c.first, &binary).ok()) << c.first;
    absl::StatusOr<std::string> text = NumericBinaryToText(binary);
    ASSERT_TRUE(text.ok()) << c.first << ": " << text.status();
    EXPECT_EQ(*text, c.second) << c.first;
  }
  for (const char* bad : {"", "-", ".", "1e", "1e+", "abc", "1.2.3", " 1", "1 ", "0x10", "1e999999"}) {
    std::string binary;
    EXPECT_FALSE(AppendNumericBinary(bad, &binary).ok()) << bad;
    EXPECT_FALSE(IsNumericText(bad)) << bad;
  }
  // Unnormalized: a leading zero group, and a negative zero.
  EXPECT_EQ(*NumericBinaryToText("\0\x02\0\x01\0\0\0\0\0\0\0\x07"s), "7");
  EXPECT_EQ(*NumericBinaryToText("\0\x01\0\0\x40\0\0\0\0\0"s), "0");
  EXPECT_FALSE(NumericBinaryToText("\0\x01\0\0\0\0\0\0"s).ok());              // digit missing
  EXPECT_FALSE(NumericBinaryToText("\0\x01\0\0\0\0\0\0\x27\x10"s).ok());      // digit 10000
  EXPECT_FALSE(NumericBinaryToText("\0\0\0\0\x12\x34\0\0"s).ok());            // bad sign
  EXPECT_FALSE(NumericBinaryToText("\0\0"s).ok());
}

}  // namespace
}  // namespace shale::gate::pgwire
