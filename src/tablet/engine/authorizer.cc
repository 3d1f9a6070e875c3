// Connection::Authorize: the sqlite3_set_authorizer callback that decides what
// user statements may do (see Access in connection.h) and records what a
// statement being compiled does (StatementInfo).

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tablet/engine/connection.h"
#include "tablet/engine/sqlite_errors.h"

namespace shale::tablet::engine {
namespace {

// PRAGMAs a user statement may run: introspection of a named object (with an
// argument), and reads of settings (only without "= value").
bool PragmaTakesObject(absl::string_view name) {
  static const auto* set = new absl::flat_hash_set<std::string>{
      "table_info",       "table_xinfo",       "index_list",      "index_info",  "index_xinfo",
      "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check", "table_list"};
  return set->contains(name);
}

bool PragmaIsReadableSetting(absl::string_view name) {
  static const auto* set = new absl::flat_hash_set<std::string>{
      "user_version",  "schema_version", "data_version",    "application_id", "page_count",
      "page_size",     "freelist_count", "compile_options", "database_list",  "collation_list",
      "function_list", "module_list",    "pragma_list",     "encoding",       "journal_mode",
      "foreign_keys",  "synchronous",    "auto_vacuum"};
  return set->contains(name);
}

absl::string_view Str(const char* s) { return s == nullptr ? absl::string_view() : s; }

absl::Status Reserved(absl::string_view what, absl::string_view name) {
  return SqlError(
      absl::StatusCode::kPermissionDenied, sqlstate::kInsufficientPrivilege,
      absl::StrCat("permission denied: cannot ", what, " ", name, ": names starting with ",
                   kReservedPrefix, " are reserved for Shale's internal tables"));
}

absl::Status NotSupported(absl::string_view message) {
  return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kFeatureNotSupported, message);
}

// Records that the statement reads or writes table (of database db). A table
// referenced without reading a column (SELECT count(*) FROM t) comes as an
// SQLITE_READ with an empty column and no database, spelled as in the
// statement; TEMP objects are refused, so that is a main table.
void NoteTable(StatementInfo* info, absl::string_view db, absl::string_view table) {
  if (info == nullptr || !(db == "main" || db.empty()) || table.empty() ||
      absl::StartsWithIgnoreCase(table, "sqlite_")) {
    return;
  }
  for (const std::string& t : info->tables) {
    if (absl::EqualsIgnoreCase(t, table)) return;
  }
  info->tables.emplace_back(table);
}


}  // namespace

int Connection::Authorize(int action, const char* a1, const char* a2, const char* a3,
                          const char* a4) {
  absl::string_view arg1 = Str(a1);
  absl::string_view arg2 = Str(a2);
  absl::string_view db = Str(a3);
  // kUser and kDba: the same rules (connection.h).
  bool user = access_ != Access::kInternal;
  StatementInfo* info = collecting_;

  switch (action) {
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_VTABLE:
      if (user && IsReservedName(arg1)) return Deny(Reserved("create table", arg1));
      if (info != nullptr) {
        info->is_ddl = true;
        if (db == "main") info->created_tables.emplace_back(arg1);
      }
      return SQLITE_OK;
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_VTABLE:
      if (user && IsReservedName(arg1)) return Deny(Reserved("drop table", arg1));
      if (info != nullptr) info->is_ddl = true;
      return SQLITE_OK;
    case SQLITE_CREATE_INDEX:
    case SQLITE_DROP_INDEX:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_DROP_TRIGGER: {
      if (user && (IsReservedName(arg1) || IsReservedName(arg2))) {
        bool index = action == SQLITE_CREATE_INDEX || action == SQLITE_DROP_INDEX;
        bool create = action == SQLITE_CREATE_INDEX || action == SQLITE_CREATE_TRIGGER;
        return Deny(Reserved(
            absl::StrCat(create ? "create " : "drop ", index ? "index " : "trigger ", arg1, " on"),
            arg2));
      }
      if (info != nullptr) info->is_ddl = true;
      return SQLITE_OK;
    }
    case SQLITE_CREATE_VIEW:
    case SQLITE_DROP_VIEW:
      if (user && IsReservedName(arg1)) return Deny(Reserved("create or drop view", arg1));
      if (info != nullptr) info->is_ddl = true;
      return SQLITE_OK;
    case SQLITE_ALTER_TABLE:
      if (user && IsReservedName(arg2)) return Deny(Reserved("alter table", arg2));
      if (info != nullptr) info->is_ddl = true;
      return SQLITE_OK;
    case SQLITE_READ:
      NoteTable(info, db, arg1);
      break;
    case SQLITE_INSERT:
      if (user && IsReservedName(arg1)) return Deny(Reserved("insert into", arg1));
      NoteTable(info, db, arg1);
      if (info != nullptr && a4 == nullptr && !absl::StartsWithIgnoreCase(arg1, "sqlite_")) {
        info->is_insert = true;
      }
      return SQLITE_OK;
    case SQLITE_UPDATE:
      if (user && IsReservedName(arg1)) return Deny(Reserved("update", arg1));
      NoteTable(info, db, arg1);
      return SQLITE_OK;
    case SQLITE_DELETE:
      if (user && IsReservedName(arg1)) return Deny(Reserved("delete from", arg1));
      NoteTable(info, db, arg1);
      return SQLITE_OK;
    default:
      break;
  }
  if (!user) return SQLITE_OK;

  switch (action) {
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
      return Deny(NotSupported(
          "transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) is not allowed in "
          "a statement: use the engine's Begin, Commit and Rollback"));
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
      return Deny(SqlError(absl::StatusCode::kPermissionDenied, sqlstate::kInsufficientPrivilege,
                           "permission denied: ATTACH and DETACH are not allowed"));
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
      return Deny(
          NotSupported("TEMP tables, indexes, views and triggers are not supported: the engine's "
                       "connections are shared between clients"));
    case SQLITE_PRAGMA: {
      std::string name = absl::AsciiStrToLower(arg1);
      bool allowed = PragmaTakesObject(name) || (a2 == nullptr && PragmaIsReadableSetting(name));
      if (allowed) return SQLITE_OK;
      return Deny(SqlError(
          absl::StatusCode::kPermissionDenied, sqlstate::kInsufficientPrivilege,
          absl::StrCat("permission denied: PRAGMA ", arg1, a2 == nullptr ? "" : " = ", arg2,
                       " is not allowed; only read-only introspection pragmas are")));
    }
    default:
      return SQLITE_OK;
  }
}

}  // namespace shale::tablet::engine
