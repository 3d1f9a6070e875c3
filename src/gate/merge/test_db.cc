#include "gate/merge/test_db.h"

#include <sqlite3.h>

#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"

namespace shale::gate::merge {
namespace {

struct StmtCloser {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtCloser>;

int Bind(sqlite3_stmt* stmt, int index, const tablet::Value& value) {
  switch (value.kind_case()) {
    case tablet::Value::kInt64:
      return sqlite3_bind_int64(stmt, index, value.int64());
    case tablet::Value::kFloat64:
      return sqlite3_bind_double(stmt, index, value.float64());
    case tablet::Value::kText:
      return sqlite3_bind_text(stmt, index, value.text().data(), value.text().size(),
                               SQLITE_TRANSIENT);
    case tablet::Value::kBlob:
      return sqlite3_bind_blob(stmt, index, value.blob().data(), value.blob().size(),
                               SQLITE_TRANSIENT);
    case tablet::Value::kNull:
    case tablet::Value::KIND_NOT_SET:
      break;
  }
  return sqlite3_bind_null(stmt, index);
}

void ReadColumn(sqlite3_stmt* stmt, int column, tablet::Value* value) {
  switch (sqlite3_column_type(stmt, column)) {
    case SQLITE_INTEGER:
      value->set_int64(sqlite3_column_int64(stmt, column));
      return;
    case SQLITE_FLOAT:
      value->set_float64(sqlite3_column_double(stmt, column));
      return;
    case SQLITE_TEXT:
      value->set_text(reinterpret_cast<const char*>(sqlite3_column_text(stmt, column)),
                      sqlite3_column_bytes(stmt, column));
      return;
    case SQLITE_BLOB: {
      const void* data = sqlite3_column_blob(stmt, column);
      const int size = sqlite3_column_bytes(stmt, column);
      value->set_blob(size > 0 ? std::string(static_cast<const char*>(data), size) : "");
      return;
    }
    default:
      value->set_null(true);
  }
}

}  // namespace

TestDb::TestDb() {
  if (sqlite3_open(":memory:", &db_) != SQLITE_OK) std::abort();
}

TestDb::~TestDb() { sqlite3_close(db_); }

absl::StatusOr<tablet::QueryResult> TestDb::Query(const std::string& sql,
                                                  const std::vector<tablet::Value>& binds) {
  auto error = [this](absl::string_view what) {
    return absl::UnknownError(absl::StrCat(what, ": ", sqlite3_errmsg(db_)));
  };
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) return error(sql);
  Stmt stmt(raw);
  for (size_t i = 0; i < binds.size(); ++i) {
    if (Bind(raw, i + 1, binds[i]) != SQLITE_OK) return error("bind");
  }
  tablet::QueryResult result;
  const int columns = sqlite3_column_count(raw);
  for (int c = 0; c < columns; ++c) {
    tablet::Field* field = result.add_fields();
    field->set_name(sqlite3_column_name(raw, c));
    const char* decl = sqlite3_column_decltype(raw, c);
    if (decl != nullptr) field->set_decl_type(decl);
  }
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    tablet::Row* row = result.add_rows();
    for (int c = 0; c < columns; ++c) ReadColumn(raw, c, row->add_values());
  }
  if (rc != SQLITE_DONE) return error(sql);
  if (!sqlite3_stmt_readonly(raw)) result.set_rows_affected(sqlite3_changes(db_));
  return result;
}

}  // namespace shale::gate::merge
