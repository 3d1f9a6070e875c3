#pragma once

// Compact, fully parenthesised renderings of parsed expressions, for tests,
// logs and debugging: "((a = 1) AND (b IN (1, $1)))". Not SQL to execute.

#include <string>

#include "absl/strings/string_view.h"
#include "gate/sql/ast.h"

namespace shale::gate::sql {

// text: the statement text the spans index (numbers and subqueries are
// shown as written).
std::string DebugString(const Expr& e, absl::string_view text);

}  // namespace shale::gate::sql
