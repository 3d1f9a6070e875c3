#include "gate/copy/copy_decoder.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "gate/copy/utf8_check.h"

namespace shale::gate::copy {
namespace {

using Rows = std::vector<std::vector<tablet::Value>>;

constexpr absl::string_view kMarkerNotAlone = "end-of-copy marker is not alone on its line";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

// The byte a one-letter text escape (\b \f \n \r \t \v) stands for; the
// letter itself for any other byte.
char SimpleEscape(char c) {
  switch (c) {
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'v':
      return '\v';
    default:
      return c;
  }
}

}  // namespace

CopyDecoder::CopyDecoder(CopyOptions options)
    : options_(std::move(options)),
      status_(ValidateCopyOptions(options_)),
      in_header_(options_.header) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const bool line_break = c == '\n' || c == '\r';
    plain_unquoted_[b] =
        !line_break && c != options_.delimiter && c != (options_.csv ? options_.quote : '\\');
    plain_quoted_[b] = options_.csv && c != options_.quote && c != options_.escape;
  }
  row_.reserve(std::clamp(options_.num_columns, 0, 64));
}

absl::Status CopyDecoder::Feed(absl::string_view chunk, Rows* rows) {
  if (finished_) return absl::FailedPreconditionError("CopyDecoder: Feed after Finish");
  size_t i = 0;
  while (status_.ok() && !saw_end_marker_ && i < chunk.size()) {
    if (const size_t n = PlainRun(chunk.substr(i)); n > 0) {
      CountRowBytes(n);
      if (!status_.ok()) break;
      AppendPlain(chunk.substr(i, n), /*raw=*/state_ == State::kField);
      i += n;
      continue;
    }
    CountRowBytes(1);
    if (!status_.ok()) break;
    Step(chunk[i++], rows);
  }
  return status_;
}

absl::Status CopyDecoder::Finish(Rows* rows) {
  if (finished_) return status_;
  finished_ = true;
  if (!status_.ok() || saw_end_marker_) return status_;
  switch (state_) {
    case State::kLineStart:
      break;
    case State::kLineBackslash:
      if (!options_.csv) {
        Fail(kBadCopyFileFormat, "unexpected end of data after a backslash");
        break;
      }
      ReplayLineStart(rows);
      if (status_.ok()) EndLine(rows);
      break;
    case State::kLineMarker:
    case State::kLineMarkerCr:
      saw_end_marker_ = true;
      break;
    case State::kEscape:
      Fail(kBadCopyFileFormat, "unexpected end of data after a backslash");
      break;
    case State::kOctal:
    case State::kHex:
      FinishOctalOrHex();
      EndLine(rows);
      break;
    case State::kQuotedEscape:
      if (options_.escape == options_.quote) {  // the quote closed the field
        EndLine(rows);
        break;
      }
      [[fallthrough]];
    case State::kQuoted:
      Fail(kBadCopyFileFormat, "unterminated CSV quoted field");
      break;
    case State::kField:
    case State::kCarriageReturn:
      EndLine(rows);
      break;
  }
  return status_;
}

size_t CopyDecoder::PlainRun(absl::string_view data) const {
  const bool* plain = state_ == State::kField    ? plain_unquoted_
                      : state_ == State::kQuoted ? plain_quoted_
                                                 : nullptr;
  if (plain == nullptr) return 0;
  size_t n = 0;
  while (n < data.size() && plain[static_cast<unsigned char>(data[n])]) ++n;
  return n;
}

void CopyDecoder::Step(char c, Rows* rows) {
  switch (state_) {
    case State::kLineStart:
      state_ = State::kField;
      if (c == '\\') {
        state_ = State::kLineBackslash;
        return;
      }
      break;
    case State::kLineBackslash:
    case State::kLineMarker:
    case State::kLineMarkerCr:
      StepLineStart(c, rows);
      return;
    case State::kCarriageReturn:
      if (c == '\n') {
        EndLine(rows);
      } else {
        Fail(kBadCopyFileFormat, options_.csv ? "unquoted carriage return found in data"
                                              : "literal carriage return found in data");
      }
      return;
    default:
      break;
  }
  if (options_.csv) {
    StepCsv(c, rows);
  } else {
    StepText(c, rows);
  }
}

void CopyDecoder::StepLineStart(char c, Rows* rows) {
  if (state_ == State::kLineBackslash && c == '.') {
    state_ = State::kLineMarker;
    return;
  }
  if (state_ != State::kLineBackslash && c == '\n') {
    saw_end_marker_ = true;
    return;
  }
  if (state_ == State::kLineMarker && c == '\r') {
    state_ = State::kLineMarkerCr;
    return;
  }
  // Not the end marker after all. In text format "\." is nothing else.
  if (!options_.csv && state_ != State::kLineBackslash) {
    Fail(kBadCopyFileFormat, kMarkerNotAlone);
    return;
  }
  ReplayLineStart(rows);
  if (status_.ok()) Step(c, rows);
}

void CopyDecoder::ReplayLineStart(Rows* rows) {
  const State held = state_;
  state_ = State::kField;
  Step('\\', rows);
  if (held == State::kLineBackslash || !status_.ok()) return;
  Step('.', rows);
  if (held == State::kLineMarker || !status_.ok()) return;
  Step('\r', rows);
}

void CopyDecoder::StepText(char c, Rows* rows) {
  switch (state_) {
    case State::kField:
      if (c == options_.delimiter) {
        EndDelimitedField();
      } else if (c == '\n') {
        EndLine(rows);
      } else if (c == '\r') {
        state_ = State::kCarriageReturn;
      } else if (c == '\\') {
        NoteRaw(absl::string_view(&c, 1));
        state_ = State::kEscape;
      } else {
        AppendPlain(absl::string_view(&c, 1), /*raw=*/true);
      }
      return;
    case State::kEscape:
      NoteRaw(absl::string_view(&c, 1));
      state_ = State::kField;
      escape_value_ = IsOctal(c) ? c - '0' : 0;
      escape_digits_ = IsOctal(c) ? 1 : 0;
      if (IsOctal(c)) {
        state_ = State::kOctal;
      } else if (c == 'x') {
        state_ = State::kHex;
      } else if (c == '.') {
        Fail(kBadCopyFileFormat, kMarkerNotAlone);
      } else {
        field_.push_back(SimpleEscape(c));
      }
      return;
    case State::kOctal:
    case State::kHex: {
      const bool octal = state_ == State::kOctal;
      const int digit = octal ? (IsOctal(c) ? c - '0' : -1) : HexValue(c);
      if (digit < 0) {  // the escape ended before its longest form
        FinishOctalOrHex();
        StepText(c, rows);
        return;
      }
      NoteRaw(absl::string_view(&c, 1));
      escape_value_ = escape_value_ * (octal ? 8 : 16) + digit;
      if (++escape_digits_ == (octal ? 3 : 2)) FinishOctalOrHex();
      return;
    }
    default:
      return;
  }
}

void CopyDecoder::FinishOctalOrHex() {
  if (state_ == State::kHex && escape_digits_ == 0) {
    field_.push_back('x');  // "\x" without hex digits is a plain x
  } else {
    field_.push_back(static_cast<char>(escape_value_ & 0xff));
  }
  state_ = State::kField;
}

void CopyDecoder::StepCsv(char c, Rows* rows) {
  switch (state_) {
    case State::kField:
      if (c == options_.delimiter) {
        EndDelimitedField();
      } else if (c == options_.quote) {
        field_quoted_ = true;
        state_ = State::kQuoted;
      } else if (c == '\n') {
        EndLine(rows);
      } else if (c == '\r') {
        state_ = State::kCarriageReturn;
      } else {
        AppendPlain(absl::string_view(&c, 1), /*raw=*/true);
      }
      return;
    case State::kQuoted:
      if (c == options_.escape) {  // also the quote when they are the same
        state_ = State::kQuotedEscape;
      } else if (c == options_.quote) {
        state_ = State::kField;
      } else {
        field_.push_back(c);
      }
      return;
    case State::kQuotedEscape:
      state_ = State::kQuoted;
      if (c == options_.quote || c == options_.escape) {
        field_.push_back(c);
        return;
      }
      if (options_.escape == options_.quote) {
        state_ = State::kField;  // it was the closing quote
      } else {
        field_.push_back(options_.escape);  // an escape before anything else is data
      }
      StepCsv(c, rows);
      return;
    default:
      return;
  }
}

void CopyDecoder::AppendPlain(absl::string_view bytes, bool raw) {
  field_.append(bytes.data(), bytes.size());
  if (raw) NoteRaw(bytes);
}

void CopyDecoder::NoteRaw(absl::string_view bytes) {
  if (raw_is_null_) {
    const absl::string_view null_string = options_.null_string;
    raw_is_null_ =
        null_string.substr(std::min(raw_length_, null_string.size())).substr(0, bytes.size()) ==
        bytes;
  }
  raw_length_ += bytes.size();
}

void CopyDecoder::EndField() {
  if (!in_header_) {
    tablet::Value value;
    if (!field_quoted_ && raw_is_null_ && raw_length_ == options_.null_string.size()) {
      value.set_null(true);
    } else if (std::optional<Utf8Error> bad = FindInvalidUtf8(field_); bad.has_value()) {
      Fail(kCharacterNotInRepertoire, InvalidUtf8Message(field_, *bad));
      return;
    } else {
      value.mutable_text()->swap(field_);
    }
    row_.push_back(std::move(value));
  }
  field_.clear();
  field_quoted_ = false;
  raw_length_ = 0;
  raw_is_null_ = true;
}

void CopyDecoder::EndDelimitedField() {
  EndField();
  if (!status_.ok()) return;
  if (!in_header_ && row_.size() >= static_cast<size_t>(options_.num_columns)) {
    Fail(kBadCopyFileFormat, "extra data after last expected column");
  }
}

void CopyDecoder::EndLine(Rows* rows) {
  if (!in_header_ && options_.num_columns == 0) {
    // No columns: only an empty line is a (zero-field) row.
    if (raw_length_ > 0 || field_quoted_) {
      Fail(kBadCopyFileFormat, "extra data after last expected column");
      return;
    }
  } else {
    EndField();
    if (!status_.ok()) return;
  }
  if (in_header_) {
    in_header_ = false;
  } else if (row_.size() < static_cast<size_t>(options_.num_columns)) {
    Fail(kBadCopyFileFormat, absl::StrCat("missing data for column ", row_.size() + 1));
    return;
  } else {
    rows->push_back(std::move(row_));
    row_.clear();
    row_.reserve(std::clamp(options_.num_columns, 0, 64));
    ++rows_decoded_;
  }
  ++line_;
  row_bytes_ = 0;
  state_ = State::kLineStart;
}

void CopyDecoder::CountRowBytes(size_t n) {
  row_bytes_ += static_cast<int64_t>(n);
  if (row_bytes_ > options_.max_row_bytes) {
    Fail(kProgramLimitExceeded,
         absl::StrCat("row is larger than the limit of ", options_.max_row_bytes, " bytes"));
  }
}

void CopyDecoder::Fail(absl::string_view sqlstate, absl::string_view message) {
  const absl::StatusCode code = sqlstate == kProgramLimitExceeded
                                    ? absl::StatusCode::kResourceExhausted
                                    : absl::StatusCode::kInvalidArgument;
  status_ = SqlError(code, sqlstate, absl::StrCat("line ", line_, ": ", message));
}

}  // namespace shale::gate::copy
