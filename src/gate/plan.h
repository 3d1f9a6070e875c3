#pragma once

// A statement's plan (DESIGN §5, "Planning"): what the gateway does with it,
// decided once per prepared statement by the Planner (planner.h) and then
// completed per execution with the parameter values (Route, route.h).
// Immutable once built; shared by the threads that execute it.

#include <optional>
#include <string>
#include <vector>

#include "gate/merge/merge_spec.h"
#include "gate/sql/ast.h"

namespace shale::gate {

inline constexpr int kStarHiddenBase = 1 << 20;

enum class PlanKind {
  kQuery,     // runs on shards: see Routing
  kBegin,     // BEGIN / START TRANSACTION
  kCommit,    // COMMIT / END
  kRollback,  // ROLLBACK / ABORT
  kSet,       // SET / RESET: a session setting, answered by the gateway
  kShow,      // SHOW: gateway introspection or a setting
  kCopyIn,    // COPY t FROM STDIN
  kEmpty,     // nothing to run
};

// Where a kQuery statement goes.
struct Routing {
  enum class Mode {
    kByValues,   // the shards owning the sharding values in `values`
    kAllShards,  // every shard (scatter)
    kAnyShard,   // one shard, any (reference-table reads, SELECT without tables)
  };
  Mode mode = Mode::kAllShards;
  // kByValues: literal or $n expressions of the sharding column (pointers
  // into the plan's statement).
  std::vector<const sql::Expr*> values;
};

// A multi-row INSERT into a sharded table, to be split per shard: the rows
// of one shard are sent as prefix + rows joined by ", " + suffix.
struct InsertSplit {
  std::string prefix;             // "INSERT INTO t (a, b) VALUES "
  std::vector<std::string> rows;  // "(?1, 'x')", already with ?n parameters
  std::vector<const sql::Expr*> row_values;  // each row's sharding value
  std::string suffix;             // " ON CONFLICT ... RETURNING ..."
  std::vector<int> row_max_param; // the highest $n in each row (0: none)
  int fixed_max_param = 0;        // the highest $n outside the rows
};

struct Plan {
  PlanKind kind = PlanKind::kQuery;
  std::string verb;          // command tag verb: SELECT, INSERT, UPDATE, ...
  bool write = false;        // changes data (runs on primaries only)
  bool returns_rows = false;
  bool ddl = false;          // schema change: runs on every shard's primary
  Routing routing;
  // The text sent to one shard ($n already rewritten to ?n).
  std::string sql;
  // A scatter SELECT: the text sent to every shard (helper columns, LIMIT
  // widened) and how their results merge.
  std::string scatter_sql;
  std::optional<merge::MergeSpec> merge;
  // A scatter of `SELECT *, ...` with helper columns: the merge spec numbers
  // them from kStarHiddenBase + select items, as the number of columns `*`
  // stands for is known only from the results (ResolveStarColumns).
  int star_hidden_columns = 0;
  int select_items = 0;
  std::optional<InsertSplit> insert;
  // kCopyIn: the target table and columns (empty: every column, in order).
  std::string copy_table;
  std::vector<std::string> copy_columns;
  bool copy_csv = false;
  bool copy_header = false;
  std::string copy_delimiter;             // empty: the format's default
  std::optional<std::string> copy_null;   // unset: the format's default
  // kSet / kShow: the variable (lower case) and SET's value.
  std::string variable;
  std::string value;
  bool read_only_txn = false;  // kBegin: BEGIN READ ONLY
};

}  // namespace shale::gate
