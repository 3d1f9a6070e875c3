#pragma once

// Values that go into and come out of the tablet's SQLite engine.
//
// Value is one bind parameter or one result cell: NULL, a 64-bit integer, a
// 64-bit float, UTF-8 text or a blob: SQLite's five storage classes. Text and
// blob are kept apart because SQLite keeps them apart (typeof() differs, and
// they compare differently). ResultSet is the outcome of one statement.
//
// Plain value types: copyable, no shared state, safe to move between threads.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace shale::tablet::engine {

class Value {
 public:
  enum class Type { kNull, kInt64, kFloat64, kText, kBlob };

  // NULL.
  Value() = default;
  Value(std::nullptr_t) {}  // NOLINT: implicit, so {nullptr, 1, "a"} reads well
  // Integers and floats; int and long both become kInt64.
  Value(int v) : v_(static_cast<int64_t>(v)) {}  // NOLINT
  Value(int64_t v) : v_(v) {}                    // NOLINT
  Value(double v) : v_(v) {}                     // NOLINT
  // Strings become kText; use Blob() for bytes.
  Value(const char* text) : v_(std::string(text)) {}        // NOLINT
  Value(std::string text) : v_(std::move(text)) {}          // NOLINT
  Value(absl::string_view text) : v_(std::string(text)) {}  // NOLINT

  static Value Null() { return Value(); }
  static Value Int64(int64_t v) { return Value(v); }
  static Value Float64(double v) { return Value(v); }
  static Value Text(absl::string_view text) { return Value(text); }
  static Value Blob(absl::string_view bytes);

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::kNull; }

  // Typed accessors. Calling one on a value of another type is a programmer
  // error and aborts with a message naming both types; check type() first.
  int64_t int64() const;
  double float64() const;
  const std::string& text() const;
  const std::string& blob() const;  // the bytes; may contain NULs

  // "NULL", "42", "1.5", "'it''s'" (SQL-quoted), "x'00ff'": for logs and tests.
  std::string DebugString() const;

  // Same type and same contents (floats compare with ==, so NaN != NaN).
  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  struct BlobBytes {
    std::string bytes;
    friend bool operator==(const BlobBytes& a, const BlobBytes& b) { return a.bytes == b.bytes; }
  };
  // Alternative order matches Type.
  std::variant<std::monostate, int64_t, double, std::string, BlobBytes> v_;
};

// "NULL", "INTEGER", "REAL", "TEXT", "BLOB" (SQLite's typeof() names).
absl::string_view TypeName(Value::Type type);

// One result column: its name as SQLite reports it (alias, column name or the
// expression text) and its declared type as written in CREATE TABLE
// ("INTEGER", "TEXT", "VARCHAR(10)"), or "" for expressions.
struct Column {
  std::string name;
  std::string decl_type;
  friend bool operator==(const Column& a, const Column& b) {
    return a.name == b.name && a.decl_type == b.decl_type;
  }
};

using Row = std::vector<Value>;

// The result of one statement. rows_affected counts the rows the statement
// inserted, updated or deleted (sqlite3_changes; 0 for reads and DDL).
// last_insert_rowid is the rowid of the last row an INSERT put in a rowid
// table, 0 for other statements.
struct ResultSet {
  std::vector<Column> columns;
  std::vector<Row> rows;
  int64_t rows_affected = 0;
  int64_t last_insert_rowid = 0;
};

// Receives a streamed result one row at a time. columns is the same for every
// row of one statement; row is valid only during the call. A non-OK status
// stops the statement (a write is then rolled back) and is returned as is.
using RowCallback =
    absl::FunctionRef<absl::Status(absl::Span<const Column> columns, absl::Span<const Value> row)>;

// A RowCallback that appends every row to *rows (borrowed; must outlive it).
class RowCollector {
 public:
  explicit RowCollector(std::vector<Row>* rows) : rows_(rows) {}
  absl::Status operator()(absl::Span<const Column>, absl::Span<const Value> row) const {
    rows_->emplace_back(row.begin(), row.end());
    return absl::OkStatus();
  }

 private:
  std::vector<Row>* rows_;
};

}  // namespace shale::tablet::engine
