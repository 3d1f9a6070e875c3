#pragma once

// Test-only builders and printers for tablet Values, Rows and QueryResults,
// shared by the gate_merge_test files.

#include <cstdint>
#include <string>
#include <vector>

#include "tablet_data.pb.h"

namespace shale::gate::merge {

tablet::Value Null();
tablet::Value Int(int64_t i);
tablet::Value Real(double r);
tablet::Value Text(std::string s);
tablet::Value Blob(std::string b);

using ValueRows = std::vector<std::vector<tablet::Value>>;

// A result with one field per name (decl_type empty) and the given rows.
tablet::QueryResult MakeResult(const std::vector<std::string>& names, const ValueRows& rows);

// "NULL", "i:5", "r:2.5" (17 significant digits), "t:'abc'", "b:x'00ff'".
std::string ValueString(const tablet::Value& value);
// "(i:1, t:'a')".
std::string RowString(const tablet::Row& row);
std::vector<std::string> RowStrings(const tablet::QueryResult& result);
std::vector<std::string> RowStrings(const ValueRows& rows);

}  // namespace shale::gate::merge
