// Fuzz target for CopyDecoder. The first byte picks the options, the rest is
// the COPY data. Checks that decoding never crashes, that the outcome is the
// same however the data is cut (random cuts and byte by byte), that rows and
// errors are well formed, and that the decoded rows written back out with
// EncodeRows decode to the same rows.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "gate/copy/copy_decoder.h"
#include "gate/copy/copy_testing.h"
#include "gate/copy/utf8_check.h"

namespace shale::gate::copy {
namespace {

[[noreturn]] void Fail(absl::string_view data, const std::string& what) {
  std::fprintf(stderr, "gate_copy_fuzz: invariant violated for \"%s\": %s\n",
               absl::CHexEscape(data).c_str(), what.c_str());
  std::abort();
}

// bit 0: CSV; bit 1: header; bits 2-3: columns 1, 2, 3 or 0; bits 4-5: the
// null string (CSV: "", "\N", "NULL"; text: "\N", "", "NULL"), the fourth
// value keeping the format's default null string with a 48-byte row limit;
// bit 6: delimiter '|' (text) or ';' (CSV); bit 7: text delimiter ',' or CSV
// escape '\'.
CopyOptions OptionsFromByte(uint8_t b) {
  CopyOptions options;
  options.csv = (b & 1) != 0;
  options.header = (b & 2) != 0;
  options.num_columns = ((b >> 2) & 3) == 3 ? 0 : ((b >> 2) & 3) + 1;
  static const char* const kTextNulls[] = {"\\N", "", "NULL", "\\N"};
  static const char* const kCsvNulls[] = {"", "\\N", "NULL", ""};
  const int null_choice = (b >> 4) & 3;
  options.null_string = options.csv ? kCsvNulls[null_choice] : kTextNulls[null_choice];
  if (null_choice == 3) options.max_row_bytes = 48;
  if (options.csv) {
    options.delimiter = (b & 64) != 0 ? ';' : ',';
    if ((b & 128) != 0) options.escape = '\\';
  } else {
    options.delimiter = (b & 64) != 0 ? '|' : (b & 128) != 0 ? ',' : '\t';
  }
  return options;
}

void CheckWellFormed(absl::string_view data, const CopyOptions& options,
                     const DecodeOutcome& outcome) {
  if (outcome.rows_decoded != static_cast<int64_t>(outcome.rows.size())) {
    Fail(data, "rows_decoded differs from the rows returned");
  }
  for (const TestRow& row : outcome.rows) {
    if (row.size() != static_cast<size_t>(options.num_columns)) Fail(data, "row of wrong width");
    for (const TestValue& value : row) {
      if (value.has_value() && FindInvalidUtf8(*value).has_value()) {
        Fail(data, "value is not valid UTF-8");
      }
    }
  }
  const absl::Status& status = outcome.status;
  if (status.ok()) return;
  const std::string sqlstate = SqlState(status);
  const bool limit = sqlstate == kProgramLimitExceeded;
  if (!limit && sqlstate != kBadCopyFileFormat && sqlstate != kCharacterNotInRepertoire) {
    Fail(data, "unexpected SQLSTATE " + sqlstate);
  }
  if (status.code() !=
      (limit ? absl::StatusCode::kResourceExhausted : absl::StatusCode::kInvalidArgument)) {
    Fail(data, "unexpected status code");
  }
  if (!absl::StartsWith(status.message(), absl::StrCat("line ", outcome.line, ": ")) ||
      absl::StrContains(status.message(), "\n")) {
    Fail(data, absl::StrCat("badly formed message: ", status.message()));
  }
}

void CheckChunkings(absl::string_view data, const CopyOptions& options,
                    const DecodeOutcome& whole) {
  std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string>()(std::string(data))));
  for (int round = 0; round < 4; ++round) {
    std::vector<size_t> cuts;
    const size_t step = 1 + rng() % 16;
    for (size_t at = rng() % (step + 1); at <= data.size(); at += rng() % (2 * step)) {
      cuts.push_back(at);
    }
    const DecodeOutcome split = DecodeChunks(options, SplitAt(data, cuts));
    if (!SameOutcome(whole, split)) {
      Fail(data, absl::StrCat("random cuts differ:\n  whole: ", DescribeOutcome(whole),
                              "\n  split: ", DescribeOutcome(split)));
    }
  }
  if (data.size() > 4096) return;
  std::vector<size_t> every_byte;
  for (size_t cut = 1; cut < data.size(); ++cut) every_byte.push_back(cut);
  const DecodeOutcome bytes = DecodeChunks(options, SplitAt(data, every_byte));
  if (!SameOutcome(whole, bytes)) {
    Fail(data, absl::StrCat("byte by byte differs:\n  whole: ", DescribeOutcome(whole),
                            "\n  bytes: ", DescribeOutcome(bytes)));
  }
}

void CheckRoundTrip(absl::string_view data, CopyOptions options, const DecodeOutcome& whole) {
  options.max_row_bytes = kMaxRowBytes;
  const std::optional<std::string> encoded = EncodeRows(options, whole.rows);
  if (!encoded.has_value()) return;
  const DecodeOutcome again = DecodeChunks(options, {*encoded});
  if (!again.status.ok() || again.rows != whole.rows) {
    Fail(data, absl::StrCat("round trip differs: encoded \"", absl::CHexEscape(*encoded),
                            "\"\n  first: ", DescribeOutcome(whole),
                            "\n  again: ", DescribeOutcome(again)));
  }
}

}  // namespace
}  // namespace shale::gate::copy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace shale::gate::copy;  // NOLINT(build/namespaces)
  if (size == 0) return 0;
  const CopyOptions options = OptionsFromByte(bytes[0]);
  const absl::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  const DecodeOutcome whole = DecodeChunks(options, {data});
  CheckWellFormed(data, options, whole);
  CheckChunkings(data, options, whole);
  CheckRoundTrip(data, options, whole);
  return 0;
}
