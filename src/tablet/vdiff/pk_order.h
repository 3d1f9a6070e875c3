#pragma once

// The primary-key order of VDiff's merge (issue 10): the order in which
// SQLite returns `ORDER BY c1 COLLATE BINARY, c2 COLLATE BINARY, ...`, so
// that the source's and the target's pk-ordered rows can be merged. Values
// of mixed types compare as SQLite compares them: NULL < numbers (integers
// and floats by numeric value, exactly, also beyond 2^53) < text (bytes,
// memcmp) < blob (bytes, memcmp). Both sides must read with COLLATE BINARY
// (PkOrderBy) whatever the columns' declared collation. Pure functions;
// thread-safe.

#include <string>
#include <vector>

#include "absl/types/span.h"
#include "tablet/engine/value.h"

namespace shale::tablet::vdiff {

// <0, 0 or >0 as a sorts before, with or after b.
int CompareValues(const engine::Value& a, const engine::Value& b);

// Lexicographic over the columns; a shorter key that is a prefix sorts first.
int ComparePk(absl::Span<const engine::Value> a, absl::Span<const engine::Value> b);

// "(5)", "(5,'a')", "(NULL,x'00ff')": a key in a report line.
std::string FormatPk(absl::Span<const engine::Value> pk);

// `"c1" COLLATE BINARY, "c2" COLLATE BINARY`: the ORDER BY list for these
// column names, each quoted as an SQL identifier (reshard::QuoteIdent).
std::string PkOrderBy(const std::vector<std::string>& pk_columns);

}  // namespace shale::tablet::vdiff
