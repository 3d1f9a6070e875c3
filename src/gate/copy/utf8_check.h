#pragma once

// Checks that a decoded COPY value is text PostgreSQL would accept in a UTF8
// database, and describes the first offending bytes the way PostgreSQL does.
// Stateless, safe from any thread.

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace shale::gate::copy {

// Where a string stops being well-formed UTF-8.
struct Utf8Error {
  size_t offset = 0;  // the first byte of the bad sequence
  size_t length = 0;  // the bytes the lead byte announces, cut at the string's end
};

// The first ill-formed sequence in s (an overlong form, a surrogate, a code
// point above U+10FFFF, a stray or missing continuation byte) or NUL byte,
// which PostgreSQL text cannot hold; nullopt when s is fine.
std::optional<Utf8Error> FindInvalidUtf8(absl::string_view s);

// PostgreSQL's message for it: invalid byte sequence for encoding "UTF8": 0xc3 0x28
std::string InvalidUtf8Message(absl::string_view s, const Utf8Error& error);

}  // namespace shale::gate::copy
