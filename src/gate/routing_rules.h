#pragma once

// Routing rules (MoveTables, docs/resharding.md; proto Keyspace.RoutingRule):
// a keyspace's SrvKeyspace may say that one of its tables is served by
// another keyspace for one tablet type. A GateSession bound to the keyspace
// then plans and runs statements on that table in the other keyspace
// (gate_session.h). A statement whose tables route to different keyspaces
// is refused: it cannot run in one place.
//
// Stateless functions; safe from any thread.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "gate/sql/ast.h"
#include "topodata.pb.h"

namespace shale::gate {

// Every table the statement names, each once, as written (unquoted names
// are lower case): the DML target, the tables it reads (sql::ReadTables),
// COPY's table, the table of a DDL statement, and those of EXPLAIN's
// statement.
std::vector<std::string> NamedTables(const sql::Statement& stmt);

// The keyspace serving `tables` for a session on `keyspace` with tablet
// type `type`, by the routing rules of srv (that keyspace's SrvKeyspace):
// `keyspace` itself when no rule for `type` names one of them. Table names
// compare case-insensitively, as SQLite's do. 0A000 naming the tables and
// the keyspaces when they route to different keyspaces.
absl::StatusOr<std::string> RoutedKeyspace(absl::Span<const std::string> tables,
                                           const topodata::SrvKeyspace& srv,
                                           absl::string_view keyspace,
                                           topodata::TabletType type);

}  // namespace shale::gate
