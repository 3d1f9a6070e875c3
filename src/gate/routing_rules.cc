#include "gate/routing_rules.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"

namespace shale::gate {
namespace {

void AddTable(absl::string_view name, std::vector<std::string>* out) {
  if (name.empty()) return;
  for (const std::string& t : *out) {
    if (absl::EqualsIgnoreCase(t, name)) return;
  }
  out->emplace_back(name);
}

void Collect(const sql::Statement& stmt, std::vector<std::string>* out) {
  if (const sql::InsertStmt* s = stmt.insert()) AddTable(s->table.name, out);
  if (const sql::UpdateStmt* s = stmt.update()) AddTable(s->table.name, out);
  if (const sql::DeleteStmt* s = stmt.del()) AddTable(s->table.name, out);
  if (const sql::CopyStmt* s = stmt.copy()) AddTable(s->table.name, out);
  if (const sql::DdlStmt* s = stmt.ddl()) AddTable(s->table.name, out);
  if (const sql::ExplainStmt* s = stmt.explain(); s != nullptr && s->inner != nullptr) {
    Collect(*s->inner, out);
  }
  for (const sql::TableName* t : sql::ReadTables(stmt)) AddTable(t->name, out);
}

}  // namespace

std::vector<std::string> NamedTables(const sql::Statement& stmt) {
  std::vector<std::string> out;
  Collect(stmt, &out);
  return out;
}

absl::StatusOr<std::string> RoutedKeyspace(absl::Span<const std::string> tables,
                                           const topodata::SrvKeyspace& srv,
                                           absl::string_view keyspace,
                                           topodata::TabletType type) {
  if (srv.routing_rules().empty()) return std::string(keyspace);
  // The first table (in statement order) and its keyspace; then the first
  // table that disagrees.
  std::string first_table, first_keyspace;
  for (const std::string& table : tables) {
    absl::string_view to = keyspace;
    for (const topodata::Keyspace::RoutingRule& rule : srv.routing_rules()) {
      if (rule.tablet_type() == type && !rule.to_keyspace().empty() &&
          absl::EqualsIgnoreCase(rule.table(), table)) {
        to = rule.to_keyspace();
        break;
      }
    }
    if (first_table.empty()) {
      first_table = table;
      first_keyspace = std::string(to);
      continue;
    }
    if (to != first_keyspace) {
      return SqlError(
          absl::StatusCode::kUnimplemented, sqlstate::kFeatureNotSupported,
          absl::StrCat("the Shale gateway does not support a statement over tables served by "
                       "different keyspaces: table ", first_table, " is served by keyspace ",
                       first_keyspace, " and table ", table, " by keyspace ", to,
                       " (routing rules of keyspace ", keyspace, " for ",
                       topodata::TabletType_Name(type),
                       ", a MoveTables in progress); run them as separate statements"));
    }
  }
  return first_keyspace.empty() ? std::string(keyspace) : first_keyspace;
}

}  // namespace shale::gate
