#pragma once

// Test support for the COPY decoder, shared by its unit tests and its fuzz
// target: decoding a stream given as chunks, comparing outcomes, checking that
// the chunking does not matter, and encoding rows back into COPY data.
// Stateless functions, safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gate/copy/copy_options.h"

namespace shale::gate::copy {

// A decoded value as tests compare it: its text, or nullopt for NULL.
using TestValue = std::optional<std::string>;
using TestRow = std::vector<TestValue>;

// Everything a decoding run produces.
struct DecodeOutcome {
  std::vector<TestRow> rows;  // every row appended, including those before an error
  absl::Status status;        // the first error, or Finish's OK
  int64_t rows_decoded = 0;
  int64_t line = 0;
  bool saw_end_marker = false;
};

// Feeds the chunks in order to one decoder, then calls Finish; stops at the
// first error.
DecodeOutcome DecodeChunks(const CopyOptions& options,
                           const std::vector<absl::string_view>& chunks);

// data cut before each of the (ascending) positions in cuts.
std::vector<absl::string_view> SplitAt(absl::string_view data, const std::vector<size_t>& cuts);

// "SQLSTATE message", or "OK".
std::string DescribeStatus(const absl::Status& status);

// A readable dump of an outcome, for failure messages.
std::string DescribeOutcome(const DecodeOutcome& outcome);

// True when the outcomes have the same rows, counters and status (code,
// message and SQLSTATE).
bool SameOutcome(const DecodeOutcome& a, const DecodeOutcome& b);

// Decodes data whole, then cut in two at every position, then byte by byte;
// returns "" when every run gives the whole run's outcome, else a description
// of the first one that does not.
std::string CheckChunking(const CopyOptions& options, absl::string_view data);

// COPY data in options' format that decodes to rows (with a header line if
// options.header is set): text values escaped, CSV values all quoted. nullopt
// when a row cannot be written (a text-format empty string while the null
// string is empty).
std::optional<std::string> EncodeRows(const CopyOptions& options, const std::vector<TestRow>& rows);

}  // namespace shale::gate::copy
