// The decoder's output must not depend on where the stream is cut: inputs that
// put escapes, quotes, "\r\n" and end markers at every offset, cut in two and
// three chunks everywhere, and generated data cut at random, plus round trips
// through EncodeRows.

#include <random>
#include <string>
#include <vector>

#include "gate/copy/copy_decoder.h"
#include "gate/copy/copy_testing.h"
#include "gtest/gtest.h"

namespace shale::gate::copy {
namespace {

CopyOptions Text(int columns) {
  CopyOptions options;
  options.num_columns = columns;
  return options;
}

CopyOptions Csv(int columns, char escape = '"') {
  CopyOptions options;
  options.csv = true;
  options.delimiter = ',';
  options.null_string = "";
  options.escape = escape;
  options.num_columns = columns;
  return options;
}

struct Stream {
  CopyOptions options;
  std::string data;
};

// Inputs dense in sequences that span more than one byte.
std::vector<Stream> DenseStreams() {
  return {
      {Text(3), "\\x4\\x41\t\\101\\12\\7\t\\N\r\n\\\\N\t\\\t\\\n\t\\xe2\\x82\\xac\n\\.\r\nrest"},
      {Text(2), "\\N\t\\N\n\\Nx\t\xe2\x82\xac\xf0\x9f\x98\x80\r\n\\.\n"},
      {Text(1), "a\nb\\.\n"},
      {Text(1), "\\303\\251\n\\303\n"},
      {Csv(3), "\"a,\"\"b\",\"x\r\ny\"\"\"\"\",\r\n\"\\.\",\\.x,\"\"\n\\.\r\n\"junk"},
      {Csv(2, '\\'), "\"a\\\"b\\\\\",\"c\\d\"\"e\"\r\n\"\\\",\\\n"},
      {Csv(1), "\"open\nstill open\"\"\n"},
      {Csv(2), "a,b\r\nc\rd\n"},
  };
}

TEST(CopyChunkingTest, EveryCutInThree) {
  for (const Stream& stream : DenseStreams()) {
    const DecodeOutcome whole = DecodeChunks(stream.options, {stream.data});
    const size_t n = stream.data.size();
    for (size_t i = 0; i <= n; ++i) {
      for (size_t j = i; j <= n; ++j) {
        const DecodeOutcome split = DecodeChunks(stream.options, SplitAt(stream.data, {i, j}));
        ASSERT_TRUE(SameOutcome(whole, split))
            << "cuts " << i << "," << j << "\n  whole: " << DescribeOutcome(whole)
            << "\n  split: " << DescribeOutcome(split);
      }
    }
  }
}

TEST(CopyChunkingTest, EveryCutInTwoAndByteByByte) {
  for (const Stream& stream : DenseStreams()) {
    EXPECT_EQ(CheckChunking(stream.options, stream.data), "");
  }
}

TEST(CopyChunkingTest, EmptyChunksChangeNothing) {
  const Stream stream = DenseStreams()[0];
  std::vector<absl::string_view> chunks = {""};
  for (size_t i = 0; i < stream.data.size(); ++i) {
    chunks.push_back(absl::string_view(stream.data).substr(i, 1));
    chunks.push_back("");
  }
  EXPECT_TRUE(SameOutcome(DecodeChunks(stream.options, {stream.data}),
                          DecodeChunks(stream.options, chunks)));
}

// Random values full of the bytes that matter to the formats.
std::vector<TestRow> RandomRows(std::mt19937* rng, int columns, int count) {
  static const char* const kPieces[] = {"a",
                                        "Z",
                                        " ",
                                        ",",
                                        "\t",
                                        "\n",
                                        "\r",
                                        "\r\n",
                                        "\\",
                                        "\\.",
                                        ".",
                                        "\"",
                                        "N",
                                        "\\N",
                                        "x41",
                                        "012",
                                        "\xc3\xa9",
                                        "\xe2\x82\xac",
                                        "\xf0\x9f\x98\x80",
                                        "|"};
  std::vector<TestRow> rows;
  for (int r = 0; r < count; ++r) {
    TestRow& row = rows.emplace_back();
    for (int c = 0; c < columns; ++c) {
      if ((*rng)() % 7 == 0) {
        row.push_back(std::nullopt);
        continue;
      }
      std::string value;
      for (int k = (*rng)() % 6; k > 0; --k) value += kPieces[(*rng)() % std::size(kPieces)];
      row.push_back(value);
    }
  }
  return rows;
}

TEST(CopyChunkingTest, RandomRowsRoundTripUnderRandomCuts) {
  std::mt19937 rng(20240611);
  CopyOptions pipe = Text(3);
  pipe.delimiter = '|';
  pipe.null_string = "NULL";
  CopyOptions header = Csv(3, '\\');
  header.header = true;
  header.null_string = "\\N";
  const CopyOptions formats[] = {Text(3), pipe, Csv(3), header};
  for (const CopyOptions& options : formats) {
    for (int round = 0; round < 20; ++round) {
      const std::vector<TestRow> rows = RandomRows(&rng, options.num_columns, 12);
      const std::optional<std::string> data = EncodeRows(options, rows);
      ASSERT_TRUE(data.has_value());
      const DecodeOutcome whole = DecodeChunks(options, {*data});
      ASSERT_TRUE(whole.status.ok()) << DescribeOutcome(whole);
      ASSERT_EQ(whole.rows, rows) << DescribeOutcome(whole);
      for (int cutting = 0; cutting < 20; ++cutting) {
        std::vector<size_t> cuts;
        for (size_t at = rng() % 8; at < data->size(); at += 1 + rng() % 9) cuts.push_back(at);
        const DecodeOutcome split = DecodeChunks(options, SplitAt(*data, cuts));
        ASSERT_TRUE(SameOutcome(whole, split)) << DescribeOutcome(split);
      }
    }
  }
}

TEST(CopyChunkingTest, RowsArriveAsSoonAsTheyAreComplete) {
  CopyDecoder decoder(Csv(1));
  std::vector<std::vector<tablet::Value>> rows;
  ASSERT_TRUE(decoder.Feed("\"a", &rows).ok());
  EXPECT_TRUE(rows.empty());
  ASSERT_TRUE(decoder.Feed("\n\"", &rows).ok());
  EXPECT_TRUE(rows.empty());  // the quote may be closing or doubled
  ASSERT_TRUE(decoder.Feed("\nb", &rows).ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].text(), "a\n");
  ASSERT_TRUE(decoder.Finish(&rows).ok());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][0].text(), "b");
}

}  // namespace
}  // namespace shale::gate::copy
