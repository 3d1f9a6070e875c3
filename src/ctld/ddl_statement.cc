#include "ctld/ddl_statement.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "gate/sql/parser.h"

namespace shale::ctld {
namespace {

namespace sql = gate::sql;

absl::Status NotDdl(absl::string_view what) {
  return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kFeatureNotSupported,
                  absl::StrCat(what, " is not a schema change the meta service runs"));
}

// The new name of ALTER TABLE t RENAME TO x ("" for other actions).
std::string RenamedTo(const sql::Statement& stmt, const sql::DdlStmt& ddl) {
  if (!absl::StartsWith(ddl.alter_action, "rename to")) return "";
  std::vector<absl::string_view> words =
      absl::StrSplit(absl::StripAsciiWhitespace(stmt.Text(ddl.body)), ' ', absl::SkipEmpty());
  if (words.empty()) return "";
  std::string name(absl::StripSuffix(words.back(), ";"));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    return name.substr(1, name.size() - 2);
  }
  return absl::AsciiStrToLower(name);
}

}  // namespace

absl::string_view DdlKindName(DdlKind kind) {
  switch (kind) {
    case DdlKind::kCreateTable:
      return "CreateTable";
    case DdlKind::kDropTable:
      return "DropTable";
    case DdlKind::kAlterTable:
      return "AlterTable";
    case DdlKind::kCreateIndex:
      return "CreateIndex";
    case DdlKind::kOther:
      break;
  }
  return "OtherDdl";
}

absl::StatusOr<DdlStatement> ParseDdl(absl::string_view text) {
  ASSIGN_OR_RETURN(sql::Statement stmt, sql::Parse(text));
  const sql::DdlStmt* ddl = stmt.ddl();
  DdlStatement out;
  switch (stmt.kind) {
    case sql::StatementKind::kCreateTable:
      out.kind = DdlKind::kCreateTable;
      break;
    case sql::StatementKind::kDropTable:
      out.kind = DdlKind::kDropTable;
      break;
    case sql::StatementKind::kAlterTable:
      out.kind = DdlKind::kAlterTable;
      break;
    case sql::StatementKind::kCreateIndex:
      out.kind = DdlKind::kCreateIndex;
      break;
    case sql::StatementKind::kDropIndex:
    case sql::StatementKind::kCreateView:
    case sql::StatementKind::kDropView:
    case sql::StatementKind::kCreateTrigger:
    case sql::StatementKind::kDropTrigger:
      out.kind = DdlKind::kOther;
      break;
    default:
      return NotDdl(absl::AsciiStrToUpper(sql::StatementKindName(stmt.kind)));
  }
  if (ddl == nullptr) return NotDdl(absl::AsciiStrToUpper(sql::StatementKindName(stmt.kind)));
  if (ddl->temporary) {
    return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kFeatureNotSupported,
                    "temporary objects are per connection; a cluster-wide schema change cannot "
                    "create one");
  }
  if (ddl->objects.size() > 1) {
    return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kFeatureNotSupported,
                    "DROP of several objects in one statement: drop them one at a time");
  }
  out.table = ddl->table.name;
  out.if_exists = ddl->if_exists;
  out.if_not_exists = ddl->if_not_exists;
  std::string shard_sql(stmt.Text(stmt.span));
  if (!ddl->distributed_span.empty()) {
    if (out.kind != DdlKind::kCreateTable) {
      return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kFeatureNotSupported,
                      "DISTRIBUTED applies to CREATE TABLE only");
    }
    const size_t begin = ddl->distributed_span.begin - stmt.span.begin;
    shard_sql.erase(begin, ddl->distributed_span.size());
    out.distributed_by = ddl->distributed_by.value;
    out.replicated = ddl->distributed_replicated;
  }
  out.shard_sql = std::string(absl::StripAsciiWhitespace(shard_sql));
  for (const sql::ColumnDef& c : ddl->columns) out.columns.push_back(c.name.value);
  for (const sql::Name& n : ddl->primary_key) out.primary_key.push_back(n.value);
  if (out.kind == DdlKind::kAlterTable) out.renamed_to = RenamedTo(stmt, *ddl);
  return out;
}

}  // namespace shale::ctld
