#pragma once

// PostgreSQL parameters ($n) to SQLite numbered parameters (?n).

#include <string>

#include "absl/strings/string_view.h"

namespace shale::gate::sql {

// sql with every $n parameter outside string literals, dollar-quoted
// strings, quoted identifiers and comments rewritten to ?n; all other bytes
// are kept as they are (the result has the same length). If sql does not
// lex (say an unterminated string), parameters before the error are
// rewritten and the rest is copied unchanged: the statement will fail later
// with a proper error anyway. Stateless, safe from any thread.
std::string RewriteParams(absl::string_view sql);

}  // namespace shale::gate::sql
