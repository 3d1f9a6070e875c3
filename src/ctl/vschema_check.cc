#include "ctl/vschema_check.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shale::ctl {
namespace {

using VSchema = topodata::VSchema;

// The problems of one table, each prefixed with the table's name.
void CheckTable(const VSchema& vschema, const std::string& name, const VSchema::Table& table,
                std::vector<std::string>* problems) {
  const std::string what = absl::StrCat("table \"", name, "\"");
  if (name.empty()) problems->push_back("a table has an empty name");
  if (table.table_id() < 0) {
    problems->push_back(absl::StrCat(what, ": negative table_id ", table.table_id()));
  }
  if (table.type() == VSchema::REFERENCE) {
    if (table.column_vindexes_size() > 0) {
      problems->push_back(absl::StrCat(
          what, ": a REFERENCE table is copied to every shard and has no column_vindexes"));
    }
    return;
  }
  if (vschema.sharded() && table.column_vindexes_size() == 0) {
    problems->push_back(
        absl::StrCat(what, ": a SHARDED table of a sharded VSchema needs a column vindex"));
  }
  for (const VSchema::ColumnVindex& cv : table.column_vindexes()) {
    if (cv.column().empty()) {
      problems->push_back(absl::StrCat(what, ": a column vindex has no column"));
    }
    if (vschema.vindexes().count(cv.name()) == 0) {
      problems->push_back(absl::StrCat(what, ": column vindex \"", cv.name(),
                                       "\" is not one of the VSchema's vindexes"));
    }
  }
}

}  // namespace

bool IsKnownVindexType(const std::string& type) { return type == "hash"; }

absl::Status ValidateVSchema(const VSchema& vschema) {
  std::vector<std::string> problems;
  for (const auto& [name, vindex] : vschema.vindexes()) {
    if (name.empty()) problems.push_back("a vindex has an empty name");
    if (!IsKnownVindexType(vindex.type())) {
      problems.push_back(absl::StrCat("vindex \"", name, "\": unknown type \"", vindex.type(),
                                      "\" (known: hash)"));
    }
  }
  std::map<int64_t, std::vector<std::string>> tables_by_id;
  for (const auto& [name, table] : vschema.tables()) {
    CheckTable(vschema, name, table, &problems);
    if (table.table_id() > 0) tables_by_id[table.table_id()].push_back(name);
  }
  for (auto& [id, names] : tables_by_id) {
    if (names.size() < 2) continue;
    std::sort(names.begin(), names.end());
    problems.push_back(absl::StrCat("tables \"", absl::StrJoin(names, "\", \""),
                                    "\" share table_id ", id));
  }
  if (problems.empty()) return absl::OkStatus();
  std::sort(problems.begin(), problems.end());  // protobuf maps iterate in no fixed order
  return absl::InvalidArgumentError(
      absl::StrCat("invalid VSchema: ", absl::StrJoin(problems, "; ")));
}

}  // namespace shale::ctl
