#pragma once

// SQL identifier quoting for the statements tablet/reshard builds from table
// and column names it read (a name may hold any character). Stateless.

#include <string>

#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"

namespace shale::tablet::reshard {

// "name" with embedded double quotes doubled.
inline std::string QuoteIdent(absl::string_view name) {
  return "\"" + absl::StrReplaceAll(name, {{"\"", "\"\""}}) + "\"";
}

}  // namespace shale::tablet::reshard
