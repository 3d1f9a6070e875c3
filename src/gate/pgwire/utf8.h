#pragma once

// UTF-8 validation for values sent as PostgreSQL text. Stateless.

#include "absl/strings/string_view.h"

namespace shale::gate::pgwire {

// True when s is well-formed UTF-8 (no overlong forms, no surrogates, nothing
// above U+10FFFF).
bool IsValidUtf8(absl::string_view s);

}  // namespace shale::gate::pgwire
