#pragma once

// Small helpers for the HTML fragments of /debug/status sections. Anything
// that came from outside the program (names, SQL, error messages) must go
// through HtmlEscape; HtmlTable escapes every cell itself.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace shale::http {

// Escapes & < > " ' so text is safe in element content and quoted attributes.
std::string HtmlEscape(absl::string_view text);

// <table> with a header row and one row per entry; every cell is escaped.
std::string HtmlTable(const std::vector<std::string>& header,
                      const std::vector<std::vector<std::string>>& rows);

}  // namespace shale::http
