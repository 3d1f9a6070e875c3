#include "gate/pgwire/utf8.h"

#include <cstdint>

namespace shale::gate::pgwire {
namespace {

// For a lead byte: how many continuation bytes follow, the payload bits of
// the lead, and the smallest code point that needs this many bytes.
struct Lead {
  int extra;
  uint32_t bits;
  uint32_t min;
};

bool DecodeLead(uint8_t c, Lead* lead) {
  if ((c & 0xE0) == 0xC0) {
    *lead = {1, c & 0x1Fu, 0x80};
  } else if ((c & 0xF0) == 0xE0) {
    *lead = {2, c & 0x0Fu, 0x800};
  } else if ((c & 0xF8) == 0xF0) {
    *lead = {3, c & 0x07u, 0x10000};
  } else {
    return false;
  }
  return true;
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    Lead lead;
    if (!DecodeLead(c, &lead) || s.size() - i <= static_cast<size_t>(lead.extra)) return false;
    uint32_t code = lead.bits;
    for (int k = 1; k <= lead.extra; ++k) {
      uint8_t cont = static_cast<uint8_t>(s[i + k]);
      if ((cont & 0xC0) != 0x80) return false;
      code = (code << 6) | (cont & 0x3Fu);
    }
    if (code < lead.min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += lead.extra + 1;
  }
  return true;
}

}  // namespace shale::gate::pgwire
