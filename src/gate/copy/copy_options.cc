#include "gate/copy/copy_options.h"

#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"

namespace shale::gate::copy {
namespace {

absl::Status InvalidOption(absl::string_view message) {
  return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kInvalidParameterValue, message);
}

// A one-byte character that is not a line break: what PostgreSQL allows for
// the delimiter, quote and escape.
absl::Status CheckSingleByte(absl::string_view what, char c) {
  const auto b = static_cast<unsigned char>(c);
  if (b == 0 || b >= 0x80) {
    return InvalidOption(absl::StrCat("COPY ", what, " must be a single one-byte character"));
  }
  if (c == '\n' || c == '\r') {
    return InvalidOption(absl::StrCat("COPY ", what, " cannot be newline or carriage return"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCopyOptions(const CopyOptions& options) {
  if (absl::Status s = CheckSingleByte("delimiter", options.delimiter); !s.ok()) return s;
  if (options.csv) {
    if (absl::Status s = CheckSingleByte("quote", options.quote); !s.ok()) return s;
    if (absl::Status s = CheckSingleByte("escape", options.escape); !s.ok()) return s;
    if (options.delimiter == options.quote) {
      return InvalidOption("COPY delimiter and quote must be different");
    }
  } else if (absl::string_view("\\.abcdefghijklmnopqrstuvwxyz0123456789").find(options.delimiter) !=
             absl::string_view::npos) {
    // Text format: these would read as the start or the body of an escape.
    return InvalidOption(absl::StrCat("COPY delimiter cannot be \"",
                                      absl::string_view(&options.delimiter, 1), "\""));
  }
  const absl::string_view null_string = options.null_string;
  if (null_string.find_first_of("\r\n") != absl::string_view::npos) {
    return InvalidOption("COPY null representation cannot use newline or carriage return");
  }
  if (null_string.find(options.delimiter) != absl::string_view::npos) {
    return InvalidOption("COPY delimiter character must not appear in the NULL specification");
  }
  if (options.csv && null_string.find(options.quote) != absl::string_view::npos) {
    return InvalidOption("CSV quote character must not appear in the NULL specification");
  }
  if (options.num_columns < 0) return InvalidOption("COPY needs a column count of at least 0");
  if (options.max_row_bytes < 1) return InvalidOption("COPY row limit must be at least 1 byte");
  return absl::OkStatus();
}

}  // namespace shale::gate::copy
