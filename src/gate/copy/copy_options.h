#pragma once

// The options of one COPY ... FROM STDIN statement that shape how its data
// stream is decoded (PostgreSQL's FORMAT, DELIMITER, NULL, HEADER, QUOTE and
// ESCAPE), and their validation. Plain values; safe to copy between threads.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shale::gate::copy {

// SQLSTATE codes of COPY data errors (PostgreSQL's names in comments).
inline constexpr absl::string_view kBadCopyFileFormat = "22P04";  // bad_copy_file_format
// character_not_in_repertoire
inline constexpr absl::string_view kCharacterNotInRepertoire = "22021";
inline constexpr absl::string_view kProgramLimitExceeded = "54000";  // program_limit_exceeded

// The largest row (one line, or one CSV record spanning lines, counted as sent:
// escapes, quotes and the line terminator included).
inline constexpr int64_t kMaxRowBytes = int64_t{64} << 20;

struct CopyOptions {
  bool csv = false;
  char delimiter = '\t';            // ',' by default for CSV (the caller sets it)
  std::string null_string = "\\N";  // "" by default for CSV (the caller sets it)
  bool header = false;              // skip the first line (CSV, and text as in PostgreSQL 15+)
  char quote = '"';                 // CSV only
  char escape = '"';                // CSV only
  int num_columns = 0;              // target columns; every row must have exactly this many fields
  int64_t max_row_bytes = kMaxRowBytes;  // rows larger than this fail with 54000
};

// OK when options describe a format PostgreSQL would accept; otherwise
// InvalidArgument with SQLSTATE 22023 (invalid_parameter_value) naming the
// problem: a delimiter, quote or escape that is a line break or not a one-byte
// character, a text-format delimiter that is a backslash, '.', a lowercase
// letter or a digit (those would read as escapes), a CSV delimiter equal to the
// quote, a null string holding a line break, the delimiter or (CSV) the quote,
// a negative column count or a row limit below one byte.
absl::Status ValidateCopyOptions(const CopyOptions& options);

}  // namespace shale::gate::copy
