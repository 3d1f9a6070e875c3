#include "gate/copy/copy_decoder.h"

#include <string>
#include <vector>

#include "gate/copy/copy_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::gate::copy {
namespace {

const TestValue kNull = std::nullopt;

CopyOptions Text(int columns) {
  CopyOptions options;
  options.num_columns = columns;
  return options;
}

CopyOptions TextNull(int columns, std::string null_string) {
  CopyOptions options = Text(columns);
  options.null_string = std::move(null_string);
  return options;
}

CopyOptions Csv(int columns) {
  CopyOptions options;
  options.csv = true;
  options.delimiter = ',';
  options.null_string = "";
  options.num_columns = columns;
  return options;
}

CopyOptions CsvEscape(int columns, char escape) {
  CopyOptions options = Csv(columns);
  options.escape = escape;
  return options;
}

CopyOptions WithHeader(CopyOptions options) {
  options.header = true;
  return options;
}

CopyOptions WithDelimiter(CopyOptions options, char delimiter) {
  options.delimiter = delimiter;
  return options;
}

CopyOptions WithRowLimit(CopyOptions options, int64_t max_row_bytes) {
  options.max_row_bytes = max_row_bytes;
  return options;
}

struct Case {
  std::string name;
  CopyOptions options;
  std::string input;
  std::vector<TestRow> rows;  // expected, including rows before an error
  std::string status = "OK";  // DescribeStatus of the expected outcome
};

const std::vector<Case>& Cases() {
  static const auto* cases = new std::vector<Case>{
      // Text format: rows and line ends.
      {"text_rows", Text(2), "a\tb\nc\td\n", {{"a", "b"}, {"c", "d"}}},
      {"text_no_final_newline", Text(2), "a\tb\nc\td", {{"a", "b"}, {"c", "d"}}},
      {"text_crlf", Text(2), "a\tb\r\nc\td\r\n", {{"a", "b"}, {"c", "d"}}},
      {"text_mixed_line_ends", Text(1), "a\r\nb\nc\r\n", {{"a"}, {"b"}, {"c"}}},
      {"text_trailing_cr_at_end", Text(1), "a\r", {{"a"}}},
      {"text_empty_input", Text(3), "", {}},
      {"text_empty_line", Text(1), "\n\n", {{""}, {""}}},
      {"text_empty_fields", Text(3), "\t\t\n", {{"", "", ""}}},
      {"text_whitespace_kept", Text(2), " a \t b\n", {{" a ", " b"}}},
      {"text_utf8",
       Text(1),
       "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\n",
       {{"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"}}},
      {"text_other_delimiter", WithDelimiter(Text(3), '|'), "a|b\\|c|\\\t\n", {{"a", "b|c", "\t"}}},
      {"text_comma_delimiter", WithDelimiter(Text(2), ','), "1,x\\,y\n", {{"1", "x,y"}}},
      // Text format: escapes.
      {"escape_letters", Text(1), "\\b\\f\\n\\r\\t\\v\\\\\n", {{"\b\f\n\r\t\v\\"}}},
      {"escape_delimiter", Text(1), "a\\\tb\n", {{"a\tb"}}},
      {"escape_other_bytes", Text(1), "\\q\\N\\a\\\"\\ \n", {{"qNa\" "}}},
      {"escape_literal_newline", Text(1), "a\\\nb\n", {{"a\nb"}}},
      {"escape_literal_cr", Text(1), "a\\\rb\r\n", {{"a\rb"}}},
      {"octal", Text(4), "\\101\t\\1012\t\\7x\t\\60\\61\n", {{"A", "A2", "\7x", "01"}}},
      {"octal_keeps_low_byte", Text(1), "\\501\n", {{"A"}}},
      {"octal_utf8", Text(1), "\\303\\251\n", {{"\xc3\xa9"}}},
      {"octal_at_end_of_data", Text(1), "\\12", {{"\n"}}},
      {"hex", Text(4), "\\x41\t\\x4g\t\\xg\t\\x414\n", {{"A", "\x04g", "xg", "A4"}}},
      {"hex_upper_and_utf8", Text(1), "\\xC3\\xa9\n", {{"\xc3\xa9"}}},
      {"hex_at_end_of_data", Text(2), "\\x7\t\\x", {{"\x07", "x"}}},
      {"escape_at_line_start", Text(1), "\\x41\n\\\\\n\\N\n", {{"A"}, {"\\"}, {kNull}}},
      // Text format: NULL.
      {"text_null", Text(3), "\\N\tx\t\\N\n", {{kNull, "x", kNull}}},
      {"text_null_is_raw", Text(3), "\\\\N\t\\Nx\tN\n", {{"\\N", "Nx", "N"}}},
      {"text_null_custom", TextNull(3, "NULL"), "NULL\tnull\t\\NULL\n", {{kNull, "null", "NULL"}}},
      {"text_null_custom_escaped_is_raw",
       TextNull(2, "NULL"),
       "\\NULL\tNU\\LL\n",
       {{"NULL", "NULL"}}},
      {"text_null_empty", TextNull(2, ""), "\tx\n\t\n", {{kNull, "x"}, {kNull, kNull}}},
      {"text_null_prefix_only", Text(2), "\\\t\t\\N\\N\n", {{"\t", "NN"}}},
      // Text format: the end marker.
      {"text_end_marker", Text(1), "a\n\\.\nb\n", {{"a"}}},
      {"text_end_marker_crlf", Text(1), "a\r\n\\.\r\nb\r\n", {{"a"}}},
      {"text_end_marker_at_end", Text(1), "a\n\\.", {{"a"}}},
      {"text_end_marker_then_garbage", Text(1), "\\.\n\\\"\xff\n", {}},
      {"text_end_marker_after_data",
       Text(1),
       "a\nb\\.\n",
       {{"a"}},
       "22P04 line 2: end-of-copy marker is not alone on its line"},
      {"text_end_marker_followed",
       Text(1),
       "\\.x\n",
       {},
       "22P04 line 1: end-of-copy marker is not alone on its line"},
      {"text_end_marker_cr_alone",
       Text(1),
       "\\.\rx",
       {},
       "22P04 line 1: end-of-copy marker is not alone on its line"},
      {"text_escaped_dot_mid_field",
       Text(1),
       "a\\.b\n",
       {},
       "22P04 line 1: end-of-copy marker is not alone on its line"},
      // Text format: malformed streams.
      {"text_bare_cr",
       Text(1),
       "a\n\rb\n",
       {{"a"}},
       "22P04 line 2: literal carriage return found in data"},
      {"text_dangling_backslash",
       Text(1),
       "a\nb\\",
       {{"a"}},
       "22P04 line 2: unexpected end of data after a backslash"},
      {"text_lone_backslash",
       Text(1),
       "\\",
       {},
       "22P04 line 1: unexpected end of data after a backslash"},
      // Field counts.
      {"missing_column",
       Text(3),
       "a\tb\tc\nd\te\n",
       {{"a", "b", "c"}},
       "22P04 line 2: missing data for column 3"},
      {"missing_column_empty_line", Text(2), "\n", {}, "22P04 line 1: missing data for column 2"},
      {"missing_after_empty_line",
       Text(2),
       "a\tb\n\nc\td\te\n",
       {{"a", "b"}},
       "22P04 line 2: missing data for column 2"},
      {"extra_column_line_3",
       Text(2),
       "a\tb\nc\td\ne\tf\tg\n",
       {{"a", "b"}, {"c", "d"}},
       "22P04 line 3: extra data after last expected column"},
      {"extra_empty_column",
       Text(1),
       "a\t\n",
       {},
       "22P04 line 1: extra data after last expected column"},
      {"no_columns", Text(0), "\n\r\n", {{}, {}}},
      {"no_columns_with_data",
       Text(0),
       "\nx\n",
       {{}},
       "22P04 line 2: extra data after last expected column"},
      {"no_columns_csv_quoted",
       Csv(0),
       "\"\"\n",
       {},
       "22P04 line 1: extra data after last expected column"},
      // UTF-8.
      {"invalid_utf8_escape",
       Text(1),
       "ok\n\\xff\n",
       {{"ok"}},
       "22021 line 2: invalid byte sequence for encoding \"UTF8\": 0xff"},
      {"invalid_utf8_raw",
       Text(2),
       "x\ta\xc3(\n",
       {},
       "22021 line 1: invalid byte sequence for encoding \"UTF8\": 0xc3 0x28"},
      {"invalid_utf8_truncated",
       Text(1),
       "\\xe2\\x82\n",
       {},
       "22021 line 1: invalid byte sequence for encoding \"UTF8\": 0xe2 0x82"},
      {"invalid_utf8_surrogate",
       Text(1),
       "\xed\xa0\x80\n",
       {},
       "22021 line 1: invalid byte sequence for encoding \"UTF8\": 0xed 0xa0 0x80"},
      {"nul_byte_escape",
       Text(1),
       "a\\0\n",
       {},
       "22021 line 1: invalid byte sequence for encoding \"UTF8\": 0x00"},
      {"nul_byte_raw",
       Text(1),
       std::string("a\0b\n", 4),
       {},
       "22021 line 1: invalid byte sequence for encoding \"UTF8\": 0x00"},
      {"invalid_utf8_csv_quoted",
       Csv(1),
       "\"\xc0\xaf\"\n",
       {},
       "22021 line 1: invalid byte sequence for encoding \"UTF8\": 0xc0 0xaf"},
      {"null_skips_utf8_check", TextNull(1, "\xff"), "\xff\n", {{kNull}}},
      // Header.
      {"text_header", WithHeader(Text(2)), "h1\th2\th3\na\tb\n", {{"a", "b"}}},
      {"header_line_numbers",
       WithHeader(Text(2)),
       "h\na\tb\nc\n",
       {{"a", "b"}},
       "22P04 line 3: missing data for column 2"},
      {"header_not_utf8_checked", WithHeader(Csv(1)), "\xff\nx\n", {{"x"}}},
      {"header_only", WithHeader(Csv(2)), "a,b", {}},
      {"header_then_end_marker", WithHeader(Csv(1)), "\\.\nx\n", {}},
      {"csv_header_quoted_newline", WithHeader(Csv(2)), "\"x\ny\",z\n1,2\n", {{"1", "2"}}},
      // CSV.
      {"csv_rows", Csv(2), "a,b\nc,d", {{"a", "b"}, {"c", "d"}}},
      {"csv_crlf", Csv(2), "a,b\r\nc,d\r\n", {{"a", "b"}, {"c", "d"}}},
      {"csv_quoted", Csv(3), "\"a,b\",\"c\"\"d\",\"\"\"\"\n", {{"a,b", "c\"d", "\""}}},
      {"csv_whitespace_kept", Csv(2), " a , \"b\" \n", {{" a ", " b "}}},
      {"csv_quote_mid_field", Csv(2), "ab\"c,d\"e,f\n", {{"abc,de", "f"}}},
      {"csv_embedded_newlines",
       Csv(2),
       "\"l1\nl2\",x\ny,\"\r\n\"\r\n",
       {{"l1\nl2", "x"}, {"y", "\r\n"}}},
      {"csv_multiline_counts_one_line",
       Csv(2),
       "\"a\nb\nc\",x\ny\n",
       {{"a\nb\nc", "x"}},
       "22P04 line 2: missing data for column 2"},
      {"csv_null_empty", Csv(3), ",\"\",x\n", {{kNull, "", "x"}}},
      {"csv_null_empty_line", Csv(1), "\n\"\"\n", {{kNull}, {""}}},
      {"csv_null_custom",
       [] {
         CopyOptions o = Csv(4);
         o.null_string = "NULL";
         return o;
       }(),
       "NULL,\"NULL\",,NU\"LL\"\n",
       {{kNull, "NULL", "", "NULL"}}},
      {"csv_backslash_is_data", Csv(2), "a\\,\"\\N\"\n", {{"a\\", "\\N"}}},
      {"csv_escape_char",
       CsvEscape(3, '\\'),
       "\"a\\\"b\",\"c\\\\d\",\"e\\f\"\n",
       {{"a\"b", "c\\d", "e\\f"}}},
      {"csv_escape_char_doubled_quote", CsvEscape(1, '\\'), "\"a\"\"b\"\n", {{"ab"}}},
      {"csv_escape_outside_quotes", CsvEscape(1, '\\'), "a\\\"b\"\n", {{"a\\b"}}},
      {"csv_other_delimiter", WithDelimiter(Csv(2), ';'), "a,b;\"c;d\"\n", {{"a,b", "c;d"}}},
      {"csv_tab_delimiter", WithDelimiter(Csv(2), '\t'), "a\t\n", {{"a", kNull}}},
      {"csv_end_marker", Csv(1), "a\n\\.\nb\n", {{"a"}}},
      {"csv_end_marker_crlf", Csv(1), "a\r\n\\.\r\n\"", {{"a"}}},
      {"csv_end_marker_at_end", Csv(1), "a\n\\.", {{"a"}}},
      {"csv_dot_data",
       Csv(2),
       "\\.x,\\.\n\"\\.\",\\\n\\,y\n",
       {{"\\.x", "\\."}, {"\\.", "\\"}, {"\\", "y"}}},
      {"csv_backslash_at_end", Csv(1), "a\n\\", {{"a"}, {"\\"}}},
      {"csv_end_marker_in_quotes", Csv(1), "\"a\n\\.\nb\"\n", {{"a\n\\.\nb"}}},
      {"csv_end_marker_cr_alone",
       Csv(1),
       "\\.\rx\n",
       {},
       "22P04 line 1: unquoted carriage return found in data"},
      {"csv_unterminated",
       Csv(1),
       "a\n\"bc\nd",
       {{"a"}},
       "22P04 line 2: unterminated CSV quoted field"},
      {"csv_unterminated_after_doubled",
       Csv(1),
       "\"bc\"\"",
       {},
       "22P04 line 1: unterminated CSV quoted field"},
      {"csv_closing_quote_at_end", Csv(1), "\"bc\"", {{"bc"}}},
      {"csv_unterminated_after_escape",
       CsvEscape(1, '\\'),
       "\"bc\\",
       {},
       "22P04 line 1: unterminated CSV quoted field"},
      {"csv_bare_cr",
       Csv(2),
       "a,b\rc\n",
       {},
       "22P04 line 1: unquoted carriage return found in data"},
      {"csv_missing", Csv(3), "a,\"b\nc\"\n", {}, "22P04 line 1: missing data for column 3"},
      {"csv_extra",
       Csv(1),
       "a\n\"b\",\n",
       {{"a"}},
       "22P04 line 2: extra data after last expected column"},
      // Row size limit.
      {"row_at_limit", WithRowLimit(Text(1), 4), "abc\nxyz\r", {{"abc"}, {"xyz"}}},
      {"row_above_limit",
       WithRowLimit(Text(1), 4),
       "abc\nabcd\n",
       {{"abc"}},
       "54000 line 2: row is larger than the limit of 4 bytes"},
      {"row_limit_counts_escapes",
       WithRowLimit(Text(1), 4),
       "\\x41\n",
       {},
       "54000 line 1: row is larger than the limit of 4 bytes"},
      {"row_limit_spans_csv_lines",
       WithRowLimit(Csv(1), 6),
       "\"a\nb\nc\"\n",
       {},
       "54000 line 1: row is larger than the limit of 6 bytes"},
  };
  return *cases;
}

TEST(CopyDecoderTest, DecodesWhole) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const DecodeOutcome got = DecodeChunks(c.options, {c.input});
    EXPECT_EQ(got.rows, c.rows) << DescribeOutcome(got);
    EXPECT_EQ(DescribeStatus(got.status), c.status);
    if (c.status.rfind("54000", 0) == 0) {
      EXPECT_EQ(got.status.code(), absl::StatusCode::kResourceExhausted);
    } else if (c.status != "OK") {
      EXPECT_EQ(got.status.code(), absl::StatusCode::kInvalidArgument);
    }
    if (got.status.ok()) {
      EXPECT_EQ(got.rows_decoded, static_cast<int64_t>(c.rows.size()));
    }
  }
}

// The chunking invariant: every cut in two, and byte by byte, gives the rows,
// error and counters of the whole input.
TEST(CopyDecoderTest, AnyChunkingDecodesTheSame) {
  for (const Case& c : Cases()) {
    EXPECT_EQ(CheckChunking(c.options, c.input), "") << c.name;
  }
}

TEST(CopyDecoderTest, DefaultRowLimitIs64MiB) {
  EXPECT_EQ(CopyOptions().max_row_bytes, 64 * 1024 * 1024);
}

TEST(CopyDecoderTest, CountsLinesAndRows) {
  CopyDecoder decoder(WithHeader(Csv(1)));
  std::vector<std::vector<tablet::Value>> rows;
  EXPECT_EQ(decoder.line(), 1);
  ASSERT_TRUE(decoder.Feed("h\na\n\"b\nc\"\nd", &rows).ok());
  EXPECT_EQ(decoder.line(), 4);
  EXPECT_EQ(decoder.rows_decoded(), 2);
  ASSERT_TRUE(decoder.Finish(&rows).ok());
  EXPECT_EQ(decoder.line(), 5);
  EXPECT_EQ(decoder.rows_decoded(), 3);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][0].text(), "b\nc");
  EXPECT_FALSE(decoder.saw_end_marker());
}

TEST(CopyDecoderTest, ValuesAreTextOrNull) {
  CopyDecoder decoder(Text(2));
  std::vector<std::vector<tablet::Value>> rows;
  ASSERT_TRUE(decoder.Feed("\\N\t\n", &rows).ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].kind_case(), tablet::Value::kNull);
  EXPECT_TRUE(rows[0][0].null());
  EXPECT_EQ(rows[0][1].kind_case(), tablet::Value::kText);
  EXPECT_EQ(rows[0][1].text(), "");
}

TEST(CopyDecoderTest, ErrorsAreFinal) {
  CopyDecoder decoder(Text(1));
  std::vector<std::vector<tablet::Value>> rows;
  const absl::Status first = decoder.Feed("a\nb\tc\nd\n", &rows);
  EXPECT_EQ(DescribeStatus(first), "22P04 line 2: extra data after last expected column");
  EXPECT_EQ(rows.size(), 1u);
  EXPECT_EQ(decoder.Feed("e\n", &rows), first);
  EXPECT_EQ(decoder.Finish(&rows), first);
  EXPECT_EQ(rows.size(), 1u);
}

TEST(CopyDecoderTest, IgnoresDataAfterTheEndMarker) {
  CopyDecoder decoder(Text(1));
  std::vector<std::vector<tablet::Value>> rows;
  ASSERT_TRUE(decoder.Feed("a\n\\.\n", &rows).ok());
  EXPECT_TRUE(decoder.saw_end_marker());
  EXPECT_TRUE(decoder.Feed("x\ty\tz\n\\", &rows).ok());
  EXPECT_TRUE(decoder.Finish(&rows).ok());
  EXPECT_EQ(rows.size(), 1u);
  EXPECT_EQ(decoder.rows_decoded(), 1);
}

TEST(CopyDecoderTest, FeedAfterFinishFails) {
  CopyDecoder decoder(Text(1));
  std::vector<std::vector<tablet::Value>> rows;
  ASSERT_TRUE(decoder.Feed("a", &rows).ok());
  ASSERT_TRUE(decoder.Finish(&rows).ok());
  EXPECT_TRUE(decoder.Finish(&rows).ok());
  EXPECT_EQ(rows.size(), 1u);
  EXPECT_EQ(decoder.Feed("b\n", &rows).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(CopyDecoderTest, InvalidOptionsFailEveryCall) {
  CopyDecoder decoder(WithDelimiter(Text(1), 'n'));
  std::vector<std::vector<tablet::Value>> rows;
  EXPECT_EQ(DescribeStatus(decoder.Feed("a\n", &rows)), "22023 COPY delimiter cannot be \"n\"");
  EXPECT_EQ(DescribeStatus(decoder.Finish(&rows)), "22023 COPY delimiter cannot be \"n\"");
  EXPECT_TRUE(rows.empty());
}

}  // namespace
}  // namespace shale::gate::copy
