#pragma once

// A checksum of one tablet's user schema and rows, to prove that replicas
// equal their primary (replication_e2e_test, tests/chaos): the schema's SQL
// (user tables and indexes) and, per user table, its row count, column
// count and an FNV-1a hash of its rows sorted as text. The caller supplies
// how to run a statement on the tablet (ExecuteFetchAsDba). Pure functions;
// any thread.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "tablet_data.pb.h"

namespace shale::e2e {

// A value as unambiguous text: its kind, then its contents.
inline std::string ValueString(const tablet::Value& v) {
  switch (v.kind_case()) {
    case tablet::Value::kNull:
      return "N";
    case tablet::Value::kInt64:
      return absl::StrCat("i", v.int64());
    case tablet::Value::kFloat64:
      return absl::StrFormat("f%a", v.float64());
    case tablet::Value::kText:
      return absl::StrCat("t", v.text().size(), ":", v.text());
    case tablet::Value::kBlob:
      return absl::StrCat("b", v.blob().size(), ":", absl::BytesToHexString(v.blob()));
    default:
      return "?";
  }
}

inline uint64_t Fnv1a(const std::string& s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

// Runs one statement on the tablet and returns its rows.
using DbaQuery = absl::FunctionRef<absl::StatusOr<tablet::QueryResult>(const std::string& sql)>;

// The schema (type, name, table and SQL of every user table and index) and
// "TABLE: N rows, C columns, fnv H" per user table. The first error of dba.
inline absl::StatusOr<std::string> TablesChecksum(DbaQuery dba) {
  constexpr char kUser[] = "name NOT GLOB '_shale_*' AND name NOT GLOB 'sqlite_*'";
  ASSIGN_OR_RETURN(tablet::QueryResult schema,
                   dba(absl::StrCat("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE ",
                                    kUser, " ORDER BY type, name")));
  std::string out = "schema:\n";
  std::vector<std::string> tables;
  for (const tablet::Row& row : schema.rows()) {
    for (const tablet::Value& v : row.values()) absl::StrAppend(&out, ValueString(v), " ");
    absl::StrAppend(&out, "\n");
    if (row.values(0).text() == "table") tables.push_back(row.values(1).text());
  }
  for (const std::string& table : tables) {
    ASSIGN_OR_RETURN(tablet::QueryResult rows, dba(absl::StrCat("SELECT * FROM \"", table, "\"")));
    std::vector<std::string> lines;
    for (const tablet::Row& row : rows.rows()) {
      std::string line;
      for (const tablet::Value& v : row.values()) absl::StrAppend(&line, ValueString(v), "|");
      lines.push_back(std::move(line));
    }
    std::sort(lines.begin(), lines.end());
    uint64_t h = Fnv1a("");
    for (const std::string& line : lines) h = Fnv1a(line + "\n", h);
    absl::StrAppend(&out, table, ": ", lines.size(), " rows, ", rows.fields_size(),
                    " columns, fnv ", absl::Hex(h, absl::kZeroPad16), "\n");
  }
  return out;
}

}  // namespace shale::e2e
