#pragma once

// Helpers shared by the gate/sql tests.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "gate/sql/ast.h"
#include "gate/sql/parser.h"
#include "gtest/gtest.h"

namespace shale::gate::sql {

// Parse(sql), failing the test (and returning an empty statement) on error.
inline Statement MustParse(absl::string_view sql) {
  absl::StatusOr<Statement> st = Parse(sql);
  EXPECT_TRUE(st.ok()) << sql << ": " << st.status();
  if (!st.ok()) return Statement{};
  return std::move(*st);
}

// ReadTables(st) as "a,schema.b,...".
inline std::string Tables(const Statement& st) {
  std::vector<std::string> names;
  for (const TableName* t : ReadTables(st)) names.push_back(t->FullName());
  return absl::StrJoin(names, ",");
}

}  // namespace shale::gate::sql
