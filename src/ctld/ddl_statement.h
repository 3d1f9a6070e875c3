#pragma once

// DdlStatement is a user's schema statement as ctld's meta service sees it
// (DESIGN §6): which call it belongs to, the table it is about, the layout a
// CREATE TABLE asks for (Shale's DISTRIBUTED clause, docs/sql.md), and the
// text to run on each shard's SQLite (the clause removed). A value type.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shale::ctld {

enum class DdlKind { kCreateTable, kDropTable, kAlterTable, kCreateIndex, kOther };

// "CreateTable", ... (the Meta RPC's name).
absl::string_view DdlKindName(DdlKind kind);

struct DdlStatement {
  DdlKind kind = DdlKind::kOther;
  std::string table;      // the table it is about (lower case unless quoted)
  std::string shard_sql;  // what each shard runs
  // CREATE TABLE layout: a column, "replicated", or neither (the keyspace's default).
  std::string distributed_by;
  bool replicated = false;
  std::vector<std::string> columns;  // CREATE TABLE's column names, when listed
  std::vector<std::string> primary_key;  // CREATE TABLE's primary key columns, in key order
  std::string renamed_to;            // ALTER TABLE ... RENAME TO x
  bool if_exists = false;            // DROP ... IF EXISTS
  bool if_not_exists = false;        // CREATE ... IF NOT EXISTS
};

// Parses one schema statement. InvalidArgument (42601 and friends from the
// parser) for SQL that does not parse, more than one statement, or a
// statement that is not a schema change (0A000 names it); FeatureNotSupported
// for TEMPORARY objects and a DISTRIBUTED clause on anything but CREATE TABLE.
absl::StatusOr<DdlStatement> ParseDdl(absl::string_view sql);

}  // namespace shale::ctld
