#include "gate/pgwire/test_session.h"

#include <sqlite3.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/fiber/io_wait.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"

namespace shale::gate::pgwire {
namespace {

using tablet::Value;

class TestStatement : public Statement {
 public:
  TestStatement(std::string sql, int num_params, std::vector<tablet::Field> columns,
                bool columns_known)
      : sql_(std::move(sql)),
        num_params_(num_params),
        columns_(std::move(columns)),
        columns_known_(columns_known) {}
  int num_params() const override { return num_params_; }
  const std::vector<tablet::Field>* columns() const override {
    return columns_known_ ? &columns_ : nullptr;
  }
  const std::string& sql() const { return sql_; }

 private:
  std::string sql_;
  int num_params_;
  std::vector<tablet::Field> columns_;
  bool columns_known_;
};

// The highest $n in sql.
int CountParams(absl::string_view sql) {
  int highest = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != '$') continue;
    size_t j = i + 1;
    while (j < sql.size() && absl::ascii_isdigit(sql[j])) ++j;
    int n = 0;
    if (j > i + 1 && absl::SimpleAtoi(sql.substr(i + 1, j - i - 1), &n)) {
      highest = std::max(highest, n);
    }
  }
  return highest;
}

std::string FirstWord(absl::string_view sql) {
  sql = absl::StripLeadingAsciiWhitespace(sql);
  size_t end = 0;
  while (end < sql.size() && absl::ascii_isalpha(sql[end])) ++end;
  return absl::AsciiStrToUpper(sql.substr(0, end));
}

absl::Status SqliteError(sqlite3* db) {
  std::string message = sqlite3_errmsg(db);
  absl::string_view state = sqlstate::kSyntaxError;
  if (absl::StrContains(message, "no such table")) state = sqlstate::kUndefinedTable;
  if (absl::StrContains(message, "UNIQUE")) state = sqlstate::kUniqueViolation;
  return SqlError(absl::StatusCode::kInvalidArgument, state, message);
}

Value ColumnValue(sqlite3_stmt* s, int i) {
  Value v;
  switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER:
      v.set_int64(sqlite3_column_int64(s, i));
      break;
    case SQLITE_FLOAT:
      v.set_float64(sqlite3_column_double(s, i));
      break;
    case SQLITE_TEXT:
      v.set_text(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                 sqlite3_column_bytes(s, i));
      break;
    case SQLITE_BLOB:
      v.set_blob(static_cast<const char*>(sqlite3_column_blob(s, i)), sqlite3_column_bytes(s, i));
      break;
    default:
      v.set_null(true);
  }
  return v;
}

void BindValue(sqlite3_stmt* s, int index, const Value& v) {
  switch (v.kind_case()) {
    case Value::kInt64:
      sqlite3_bind_int64(s, index, v.int64());
      break;
    case Value::kFloat64:
      sqlite3_bind_double(s, index, v.float64());
      break;
    case Value::kText:
      sqlite3_bind_text(s, index, v.text().data(), static_cast<int>(v.text().size()),
                        SQLITE_TRANSIENT);
      break;
    case Value::kBlob:
      sqlite3_bind_blob(s, index, v.blob().data(), static_cast<int>(v.blob().size()),
                        SQLITE_TRANSIENT);
      break;
    default:
      sqlite3_bind_null(s, index);
  }
}

std::vector<tablet::Field> Fields(sqlite3_stmt* s) {
  std::vector<tablet::Field> fields;
  for (int i = 0; i < sqlite3_column_count(s); ++i) {
    tablet::Field f;
    f.set_name(sqlite3_column_name(s, i));
    const char* decl = sqlite3_column_decltype(s, i);
    if (decl != nullptr) f.set_decl_type(decl);
    fields.push_back(std::move(f));
  }
  return fields;
}

class TestSession : public Session {
 public:
  explicit TestSession(sqlite3* db) : db_(db) {}
  ~TestSession() override { sqlite3_close(db_); }

  absl::StatusOr<std::vector<std::shared_ptr<const Statement>>> PrepareSimple(
      absl::string_view query) override {
    std::vector<std::shared_ptr<const Statement>> out;
    std::string current;
    for (char c : query) {
      current.push_back(c);
      if (c == ';' && sqlite3_complete(current.c_str())) {
        AddSimple(current, &out);
        current.clear();
      }
    }
    AddSimple(current, &out);
    return out;
  }

  absl::StatusOr<std::shared_ptr<const Statement>> Prepare(
      absl::string_view query, absl::Span<const uint32_t> param_oids) override {
    std::string sql(absl::StripAsciiWhitespace(query));
    if (sql.empty()) return nullptr;
    if (IsSpecial(sql)) return std::make_shared<TestStatement>(sql, 0, std::vector<tablet::Field>{}, false);
    sqlite3_stmt* s = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, &tail) != SQLITE_OK) return SqliteError(db_);
    std::vector<tablet::Field> fields = Fields(s);
    sqlite3_finalize(s);
    return std::make_shared<TestStatement>(sql, CountParams(sql), std::move(fields), true);
  }

  absl::StatusOr<Result> Execute(const Statement& stmt,
                                 absl::Span<const Value> params) override {
    const std::string& sql = static_cast<const TestStatement&>(stmt).sql();
    std::string word = FirstWord(sql);
    if (failed_ && word != "ROLLBACK" && word != "COMMIT") {
      return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kInFailedTransaction,
                      "current transaction is aborted, commands ignored until end of "
                      "transaction block");
    }
    absl::StatusOr<Result> result = Run(sql, word, params);
    if (!result.ok() && !sqlite3_get_autocommit(db_)) failed_ = true;
    return result;
  }

  absl::Status CopyData(absl::string_view chunk) override {
    copy_buffer_.append(chunk.data(), chunk.size());
    size_t newline;
    while ((newline = copy_buffer_.find('\n')) != std::string::npos) {
      std::string line = copy_buffer_.substr(0, newline);
      copy_buffer_.erase(0, newline + 1);
      RETURN_IF_ERROR(InsertCopyRow(line));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> CopyDone() override {
    if (!copy_buffer_.empty() && copy_buffer_ != "\\.") RETURN_IF_ERROR(InsertCopyRow(copy_buffer_));
    copy_buffer_.clear();
    return absl::StrCat("COPY ", copy_rows_);
  }

  void CopyFail(absl::string_view reason) override {
    copy_buffer_.clear();
    copy_failures_.push_back(std::string(reason));
  }

  TxnStatus txn_status() const override {
    if (failed_) return TxnStatus::kFailed;
    return sqlite3_get_autocommit(db_) ? TxnStatus::kIdle : TxnStatus::kInBlock;
  }

  void Cancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }

 private:
  static bool IsSpecial(absl::string_view sql) {
    return absl::EqualsIgnoreCase(sql, "SELECT wait_for_cancel()") ||
           absl::StartsWithIgnoreCase(sql, "COPY ");
  }

  void AddSimple(absl::string_view text, std::vector<std::shared_ptr<const Statement>>* out) {
    std::string sql(absl::StripAsciiWhitespace(absl::StripSuffix(
        absl::StripAsciiWhitespace(text), ";")));
    if (sql.empty()) return;
    out->push_back(std::make_shared<TestStatement>(sql, CountParams(sql),
                                                   std::vector<tablet::Field>{}, false));
  }

  absl::StatusOr<Result> Run(const std::string& sql, const std::string& word,
                             absl::Span<const Value> params) {
    if (absl::EqualsIgnoreCase(sql, "SELECT wait_for_cancel()")) return WaitForCancel();
    if (word == "COPY") return StartCopy(sql);
    if (word == "COMMIT" && failed_) {
      failed_ = false;
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return Result{false, {}, "ROLLBACK", std::nullopt};
    }
    if (word == "ROLLBACK") failed_ = false;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) return SqliteError(db_);
    for (size_t i = 0; i < params.size(); ++i) {
      int index = sqlite3_bind_parameter_index(s, absl::StrCat("$", i + 1).c_str());
      if (index > 0) BindValue(s, index, params[i]);
    }
    Result result;
    result.returns_rows = sqlite3_column_count(s) > 0;
    for (tablet::Field& f : Fields(s)) *result.data.add_fields() = std::move(f);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      tablet::Row* row = result.data.add_rows();
      for (int i = 0; i < sqlite3_column_count(s); ++i) *row->add_values() = ColumnValue(s, i);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return SqliteError(db_);
    result.command_tag = Tag(word, result);
    return result;
  }

  std::string Tag(const std::string& word, const Result& result) {
    int changes = sqlite3_changes(db_);
    if (word == "SELECT" || word == "VALUES" || word == "WITH" || word == "PRAGMA") {
      return absl::StrCat("SELECT ", result.data.rows_size());
    }
    if (word == "INSERT") return absl::StrCat("INSERT 0 ", changes);
    if (word == "UPDATE" || word == "DELETE") return absl::StrCat(word, " ", changes);
    if (word == "CREATE" || word == "DROP") return absl::StrCat(word, " TABLE");
    return word;
  }

  absl::StatusOr<Result> WaitForCancel() {
    // Off the fiber: the CancelRequest may come on a fiber of the same worker.
    fiber::RunBlocking([this] {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(&cancelled_));
      cancelled_ = false;
    });
    return SqlError(absl::StatusCode::kCancelled, sqlstate::kQueryCanceled,
                    "canceling statement due to user request");
  }

  absl::StatusOr<Result> StartCopy(const std::string& sql) {
    std::vector<std::string> words = absl::StrSplit(sql, ' ', absl::SkipEmpty());
    if (words.size() != 4 || !absl::EqualsIgnoreCase(words[2], "FROM") ||
        !absl::EqualsIgnoreCase(words[3], "STDIN")) {
      return SqlError(absl::StatusCode::kUnimplemented, sqlstate::kFeatureNotSupported,
                      "only COPY <table> FROM STDIN");
    }
    copy_table_ = words[1];
    copy_columns_ = 0;
    copy_rows_ = 0;
    sqlite3_stmt* s = nullptr;
    std::string info = absl::StrCat("SELECT count(*) FROM pragma_table_info('", copy_table_, "')");
    if (sqlite3_prepare_v2(db_, info.c_str(), -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
      copy_columns_ = sqlite3_column_int(s, 0);
    }
    sqlite3_finalize(s);
    if (copy_columns_ == 0) {
      return SqlError(absl::StatusCode::kNotFound, sqlstate::kUndefinedTable,
                      absl::StrCat("relation \"", copy_table_, "\" does not exist"));
    }
    Result result;
    result.copy_in = CopyIn{copy_columns_, false};
    return result;
  }

  absl::Status InsertCopyRow(absl::string_view line) {
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (static_cast<int>(fields.size()) != copy_columns_) {
      return SqlError(absl::StatusCode::kInvalidArgument, "22P04",
                      absl::StrCat("COPY row has ", fields.size(), " fields, table ",
                                   copy_table_, " has ", copy_columns_, " columns"));
    }
    std::string sql = absl::StrCat("INSERT INTO ", copy_table_, " VALUES (?");
    for (int i = 1; i < copy_columns_; ++i) sql += ",?";
    sql += ")";
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) return SqliteError(db_);
    for (int i = 0; i < copy_columns_; ++i) {
      if (fields[i] == "\\N") {
        sqlite3_bind_null(s, i + 1);
      } else {
        sqlite3_bind_text(s, i + 1, fields[i].c_str(), -1, SQLITE_TRANSIENT);
      }
    }
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return SqliteError(db_);
    ++copy_rows_;
    return absl::OkStatus();
  }

  sqlite3* db_;
  bool failed_ = false;
  std::string copy_table_;
  int copy_columns_ = 0;
  int copy_rows_ = 0;
  std::string copy_buffer_;
  std::vector<std::string> copy_failures_;

  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Session>> TestSessionFactory::Open(const StartupInfo& info) {
  {
    absl::MutexLock lock(&mu_);
    opened_.push_back(info);
  }
  if (info.database == "nosuchdb") {
    return SqlError(absl::StatusCode::kNotFound, sqlstate::kInvalidCatalogName,
                    absl::StrCat("database \"", info.database, "\" does not exist"));
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
    sqlite3_close(db);
    return absl::InternalError("cannot open an in-memory SQLite database");
  }
  return std::make_unique<TestSession>(db);
}

std::vector<StartupInfo> TestSessionFactory::opened() const {
  absl::MutexLock lock(&mu_);
  return opened_;
}

}  // namespace shale::gate::pgwire
