#include "gate/copy/copy_testing.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/sqlstate.h"
#include "gate/copy/copy_decoder.h"

namespace shale::gate::copy {
namespace {

// Appends the rows the decoder produced, as TestRows.
void Collect(const std::vector<std::vector<tablet::Value>>& rows, std::vector<TestRow>* out) {
  for (const auto& row : rows) {
    TestRow& test_row = out->emplace_back();
    for (const tablet::Value& value : row) {
      if (value.kind_case() == tablet::Value::kText) {
        test_row.push_back(value.text());
      } else {
        test_row.push_back(std::nullopt);
      }
    }
  }
}

std::string EncodeText(const CopyOptions& options, absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == options.delimiter) {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out.push_back(c);
    }
  }
  if (out == options.null_string && !value.empty()) {
    // Written plainly the value would read as NULL: write its first byte in hex.
    out = absl::StrCat(absl::StrFormat("\\x%02x", static_cast<unsigned char>(value[0])),
                       EncodeText(options, value.substr(1)));
  }
  return out;
}

std::string EncodeCsv(const CopyOptions& options, absl::string_view value) {
  std::string out(1, options.quote);
  for (char c : value) {
    if (c == options.quote || c == options.escape) out.push_back(options.escape);
    out.push_back(c);
  }
  out.push_back(options.quote);
  return out;
}

}  // namespace

DecodeOutcome DecodeChunks(const CopyOptions& options,
                           const std::vector<absl::string_view>& chunks) {
  CopyDecoder decoder(options);
  DecodeOutcome outcome;
  std::vector<std::vector<tablet::Value>> rows;
  for (absl::string_view chunk : chunks) {
    outcome.status = decoder.Feed(chunk, &rows);
    if (!outcome.status.ok()) break;
  }
  if (outcome.status.ok()) outcome.status = decoder.Finish(&rows);
  Collect(rows, &outcome.rows);
  outcome.rows_decoded = decoder.rows_decoded();
  outcome.line = decoder.line();
  outcome.saw_end_marker = decoder.saw_end_marker();
  return outcome;
}

std::vector<absl::string_view> SplitAt(absl::string_view data, const std::vector<size_t>& cuts) {
  std::vector<absl::string_view> chunks;
  size_t start = 0;
  for (size_t cut : cuts) {
    chunks.push_back(data.substr(start, cut - start));
    start = cut;
  }
  chunks.push_back(data.substr(start));
  return chunks;
}

std::string DescribeStatus(const absl::Status& status) {
  if (status.ok()) return "OK";
  return absl::StrCat(SqlState(status), " ", status.message());
}

std::string DescribeOutcome(const DecodeOutcome& outcome) {
  std::string out;
  for (const TestRow& row : outcome.rows) {
    out += "[";
    for (const TestValue& value : row) {
      absl::StrAppend(&out, value.has_value() ? absl::CHexEscape(*value) : std::string("NULL"),
                      "|");
    }
    out += "] ";
  }
  absl::StrAppend(&out, "status=", DescribeStatus(outcome.status),
                  " rows_decoded=", outcome.rows_decoded, " line=", outcome.line,
                  " end_marker=", outcome.saw_end_marker);
  return out;
}

bool SameOutcome(const DecodeOutcome& a, const DecodeOutcome& b) {
  return a.rows == b.rows && a.status.code() == b.status.code() &&
         DescribeStatus(a.status) == DescribeStatus(b.status) && a.rows_decoded == b.rows_decoded &&
         a.line == b.line && a.saw_end_marker == b.saw_end_marker;
}

std::string CheckChunking(const CopyOptions& options, absl::string_view data) {
  const DecodeOutcome whole = DecodeChunks(options, {data});
  const auto mismatch = [&](const DecodeOutcome& got, absl::string_view how) {
    return absl::StrCat("input \"", absl::CHexEscape(data), "\" ", how,
                        ":\n  whole: ", DescribeOutcome(whole),
                        "\n  split: ", DescribeOutcome(got));
  };
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    const DecodeOutcome split = DecodeChunks(options, SplitAt(data, {cut}));
    if (!SameOutcome(whole, split)) return mismatch(split, absl::StrCat("cut at ", cut));
  }
  std::vector<size_t> every_byte;
  for (size_t cut = 1; cut < data.size(); ++cut) every_byte.push_back(cut);
  const DecodeOutcome bytes = DecodeChunks(options, SplitAt(data, every_byte));
  if (!SameOutcome(whole, bytes)) return mismatch(bytes, "fed byte by byte");
  return "";
}

std::optional<std::string> EncodeRows(const CopyOptions& options,
                                      const std::vector<TestRow>& rows) {
  std::string out = options.header ? "header\n" : "";
  for (const TestRow& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out.push_back(options.delimiter);
      if (!row[i].has_value()) {
        out += options.null_string;
      } else if (options.csv) {
        out += EncodeCsv(options, *row[i]);
      } else if (row[i]->empty() && options.null_string.empty()) {
        return std::nullopt;
      } else {
        out += EncodeText(options, *row[i]);
      }
    }
    out.push_back('\n');
  }
  return out;
}

}  // namespace shale::gate::copy
