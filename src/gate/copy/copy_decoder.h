#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gate/copy/copy_options.h"
#include "tablet_data.pb.h"

namespace shale::gate::copy {

// Decodes the data stream of one COPY ... FROM STDIN, in PostgreSQL's text or
// CSV format, into rows of text and NULL values. The stream arrives in chunks
// cut anywhere (inside an escape, a quoted field or a "\r\n"): the decoder
// keeps its place between calls, so the rows, and any error, do not depend on
// how the data was cut.
//
// Text format: fields split by the delimiter, rows by "\n" or "\r\n"; escapes
// \b \f \n \r \t \v, \ooo (1-3 octal digits), \xhh (1-2 hex digits), and \c for
// any other byte c (a backslash before the delimiter, a backslash or a line
// break yields that byte); a field whose raw text (before unescaping) equals
// the null string is NULL.
// CSV format: a field may be quoted, and then holds delimiters, line breaks and
// quotes (doubled, or preceded by the escape character); an unquoted field
// equal to the null string is NULL, a quoted one never is.
// In both, a line "\." ends the data (what follows is ignored) and, with
// header set, the first line is skipped. A bare "\r" outside quotes is an
// error, as in PostgreSQL. Line numbers count lines as PostgreSQL does: one per
// row (a CSV record spanning lines counts once), the header included.
//
// Errors (all InvalidArgument but the last) carry a SQLSTATE and a message
// "line N: ...": 22P04 for a malformed stream (missing or extra fields, a
// misplaced end marker, an unterminated quote or escape, a bare carriage
// return), 22021 for a value that is not valid UTF-8 (or holds a NUL byte),
// and ResourceExhausted 54000 for a row above options.max_row_bytes. Invalid
// options fail every call with ValidateCopyOptions's error. An error is final:
// later calls return it again.
//
// Lifecycle: construct, Feed each CopyData chunk, Finish at CopyDone. Owned by
// the session running the COPY and used by its thread only (not thread-safe).
class CopyDecoder {
 public:
  explicit CopyDecoder(CopyOptions options);

  CopyDecoder(const CopyDecoder&) = delete;
  CopyDecoder& operator=(const CopyDecoder&) = delete;

  // Decodes the next chunk, appending each row it completes to *rows (exactly
  // num_columns values, each text or null). Rows completed before an error are
  // still appended. Data after the end marker is ignored. FailedPrecondition
  // after Finish; otherwise the errors above.
  absl::Status Feed(absl::string_view chunk, std::vector<std::vector<tablet::Value>>* rows);

  // The end of the data (CopyDone): the last row may lack its line break, but a
  // quoted field or a backslash escape left open is an error (22P04). Appends
  // the last row, if any. Calling it again does nothing.
  absl::Status Finish(std::vector<std::vector<tablet::Value>>* rows);

  // Data rows decoded so far (the header line is not one).
  int64_t rows_decoded() const { return rows_decoded_; }
  // The number of the line being decoded, from 1 (the header is line 1).
  int64_t line() const { return line_; }
  // True once the end marker "\." has been read.
  bool saw_end_marker() const { return saw_end_marker_; }

 private:
  // Where the decoder is in the stream. Line-start states exist to recognise
  // the end marker; the others belong to a field of one format.
  enum class State {
    kLineStart,       // nothing of this line read yet
    kLineBackslash,   // the line so far is "\"
    kLineMarker,      // the line so far is "\."
    kLineMarkerCr,    // the line so far is "\.\r"
    kField,           // text: in a field (CSV: in its unquoted part)
    kEscape,          // text: after a backslash
    kOctal,           // text: inside \ooo
    kHex,             // text: inside \xhh
    kQuoted,          // CSV: inside quotes
    kQuotedEscape,    // CSV: inside quotes, after the escape (or quote) character
    kCarriageReturn,  // after an unquoted "\r": only "\n" may follow
  };

  // One byte of data in the current state (may re-dispatch it after a change).
  void Step(char c, std::vector<std::vector<tablet::Value>>* rows);
  void StepText(char c, std::vector<std::vector<tablet::Value>>* rows);
  void StepCsv(char c, std::vector<std::vector<tablet::Value>>* rows);
  // Handles the byte after "\", "\." or "\.\r" at the start of a line.
  void StepLineStart(char c, std::vector<std::vector<tablet::Value>>* rows);
  // Replays "\" (and "." and "\r", up to the line-start state) as data.
  void ReplayLineStart(std::vector<std::vector<tablet::Value>>* rows);
  // Length of the run of ordinary bytes at the front of data in the current
  // state, which can be appended to the field in bulk.
  size_t PlainRun(absl::string_view data) const;
  // Appends ordinary field bytes; raw marks bytes that count as the field's raw
  // text for the null-string comparison.
  void AppendPlain(absl::string_view bytes, bool raw);
  void NoteRaw(absl::string_view bytes);
  void FinishOctalOrHex();
  // The field ends (at a delimiter or the end of the line).
  void EndField();
  void EndDelimitedField();
  void EndLine(std::vector<std::vector<tablet::Value>>* rows);
  void CountRowBytes(size_t n);
  void Fail(absl::string_view sqlstate, absl::string_view message);

  const CopyOptions options_;
  bool plain_unquoted_[256];  // bytes with no meaning outside quotes (text: anywhere)
  bool plain_quoted_[256];    // CSV bytes with no meaning inside quotes

  absl::Status status_;
  State state_ = State::kLineStart;
  bool finished_ = false;
  bool saw_end_marker_ = false;
  bool in_header_;
  int64_t line_ = 1;
  int64_t rows_decoded_ = 0;
  int64_t row_bytes_ = 0;  // bytes of the current line so far, as sent

  std::vector<tablet::Value> row_;
  std::string field_;  // the current field, decoded
  bool field_quoted_ = false;
  size_t raw_length_ = 0;    // raw (as sent) length of the current field
  bool raw_is_null_ = true;  // its raw text so far is a prefix of the null string
  int escape_value_ = 0;     // kOctal, kHex: the value so far
  int escape_digits_ = 0;    // kOctal, kHex: digits read
};

}  // namespace shale::gate::copy
