#include "gate/copy/utf8_check.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace shale::gate::copy {
namespace {

// The sequence length PostgreSQL reads from a lead byte (pg_utf_mblen).
size_t AnnouncedLength(uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xe0) == 0xc0) return 2;
  if ((lead & 0xf0) == 0xe0) return 3;
  if ((lead & 0xf8) == 0xf0) return 4;
  return 1;
}

bool InRange(uint8_t b, uint8_t lo, uint8_t hi) { return b >= lo && b <= hi; }

// The length of the well-formed sequence at the front of s (Unicode's table of
// well-formed byte sequences), or 0 when it is not one.
size_t WellFormedLength(absl::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t lead = byte(0);
  if (lead < 0x80) return lead == 0 ? 0 : 1;
  size_t length;
  uint8_t second_lo = 0x80, second_hi = 0xbf;
  if (InRange(lead, 0xc2, 0xdf)) {
    length = 2;
  } else if (InRange(lead, 0xe0, 0xef)) {
    length = 3;
    if (lead == 0xe0) second_lo = 0xa0;  // overlong
    if (lead == 0xed) second_hi = 0x9f;  // surrogates
  } else if (InRange(lead, 0xf0, 0xf4)) {
    length = 4;
    if (lead == 0xf0) second_lo = 0x90;  // overlong
    if (lead == 0xf4) second_hi = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < length || !InRange(byte(1), second_lo, second_hi)) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (!InRange(byte(i), 0x80, 0xbf)) return 0;
  }
  return length;
}

}  // namespace

std::optional<Utf8Error> FindInvalidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    if (b != 0 && b < 0x80) {
      ++i;
      continue;
    }
    const size_t n = WellFormedLength(s.substr(i));
    if (n == 0) {
      const size_t announced = AnnouncedLength(b);
      return Utf8Error{i, announced < s.size() - i ? announced : s.size() - i};
    }
    i += n;
  }
  return std::nullopt;
}

std::string InvalidUtf8Message(absl::string_view s, const Utf8Error& error) {
  std::string message = "invalid byte sequence for encoding \"UTF8\":";
  for (size_t i = 0; i < error.length && error.offset + i < s.size(); ++i) {
    absl::StrAppend(&message,
                    absl::StrFormat(" 0x%02x", static_cast<uint8_t>(s[error.offset + i])));
  }
  return message;
}

}  // namespace shale::gate::copy
