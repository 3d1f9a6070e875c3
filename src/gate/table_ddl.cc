#include "gate/table_ddl.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace shale::gate {
namespace {

// How long a gateway waits for its VSchema watch to show a change ctld has
// published (normally milliseconds).
constexpr absl::Duration kCatalogWait = absl::Seconds(10);

absl::Status CatalogLag(const std::string& keyspace, const std::string& table) {
  return absl::DeadlineExceededError(absl::StrCat(
      "the schema change of ", keyspace, ".", table,
      " is done, but this gateway's catalog did not show it within ",
      absl::FormatDuration(kCatalogWait), " (is the topology reachable?)"));
}

}  // namespace

bool IsDrop(sql::StatementKind kind) {
  return kind == sql::StatementKind::kDropTable || kind == sql::StatementKind::kDropIndex ||
         kind == sql::StatementKind::kDropView || kind == sql::StatementKind::kDropTrigger;
}

absl::Status TableCreator::Run(const std::string& keyspace, const sql::Statement& stmt) {
  ASSIGN_OR_RETURN(meta::DdlResponse r,
                   meta_->Run(stmt.kind, keyspace, std::string(stmt.Text(stmt.span))));
  if (r.table_id() == 0) return absl::OkStatus();  // not a table of the VSchema
  std::string table = r.table();
  for (const auto& [name, entry] : r.vschema().tables()) {
    if (entry.table_id() == r.table_id()) table = name;  // ALTER TABLE ... RENAME TO
  }
  const int64_t id = r.table_id();
  if (!schemas_->WaitForVSchema(
          keyspace,
          [&](const topodata::VSchema& v) {
            auto it = v.tables().find(table);
            return it != v.tables().end() && it->second.table_id() == id;
          },
          kCatalogWait)) {
    return CatalogLag(keyspace, table);
  }
  return absl::OkStatus();
}

absl::Status TableDropper::Run(const std::string& keyspace, const sql::Statement& stmt) {
  ASSIGN_OR_RETURN(meta::DdlResponse r,
                   meta_->Run(stmt.kind, keyspace, std::string(stmt.Text(stmt.span))));
  if (stmt.kind != sql::StatementKind::kDropTable) return absl::OkStatus();
  const std::string table = r.table();
  if (!schemas_->WaitForVSchema(
          keyspace, [&](const topodata::VSchema& v) { return !v.tables().contains(table); },
          kCatalogWait)) {
    return CatalogLag(keyspace, table);
  }
  return absl::OkStatus();
}

}  // namespace shale::gate
