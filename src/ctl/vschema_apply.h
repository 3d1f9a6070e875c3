#pragma once

// ApplyVSchema replaces a keyspace's VSchema (its catalog, DESIGN §6) with an
// operator's, for `shale ctl ApplyVSchema`. Table ids are allocated by ctld's
// allocator (topo::Server::AllocateTableId), never by an operator:
//   - a table already in the stored VSchema keeps its stored id (0 in the
//     input means "keep"); any other id is refused;
//   - a table new in the input gets a fresh id when its table_id is 0; a
//     non-zero id is refused.
// The functions are stateless; thread-safe as the topo::Server they are given.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "topo/server.h"
#include "topodata.pb.h"

namespace shale::ctl {

struct ApplyVSchemaOptions {
  // Validate and diff only: no lock, no id allocation, no write. New tables
  // then show table_id 0 ("to be allocated").
  bool dry_run = false;
  // How long to wait for the keyspace lock (ctld's DDL may hold it).
  absl::Duration lock_timeout = absl::Seconds(30);
};

struct ApplyVSchemaResult {
  bool dry_run = false;
  std::vector<std::string> changes;  // DiffVSchema(stored, vschema)
  topodata::VSchema vschema;         // as saved (or as it would be saved)

  // {"dry_run": ..., "changes": [...], "vschema": {record}}.
  nlohmann::json ToJson() const;
};

// Copies the ids of stored's tables into applied by the rules above. Returns
// the names (sorted) of applied's tables that still need an id: those new
// in applied with table_id 0. InvalidArgument, naming the table and both ids,
// when applied gives a table an id the allocator did not give it; applied may
// then be partly updated.
absl::StatusOr<std::vector<std::string>> CarryTableIds(const topodata::VSchema& stored,
                                                       topodata::VSchema* applied);

// What changes from before to after, one line each: "sharded: A -> B", then
// "added|removed|changed vindex NAME ..." and "added|removed|changed table
// NAME ...", each by name. Empty when they are equal.
std::vector<std::string> DiffVSchema(const topodata::VSchema& before,
                                     const topodata::VSchema& after);

// Validates vschema (ValidateVSchema), takes the keyspace lock (reason
// "ApplyVSchema"), carries the stored ids over (CarryTableIds), allocates ids
// for new tables and saves the record. Errors: InvalidArgument for a record
// that breaks a rule (nothing is saved or allocated); NotFound naming an
// unknown keyspace; DeadlineExceeded when the lock stays taken for
// options.lock_timeout; Aborted if the lock was lost before the save; any
// topology error. A failure after some ids were allocated wastes those ids
// (ids are never reused) and saves nothing.
absl::StatusOr<ApplyVSchemaResult> ApplyVSchema(topo::Server& ts, absl::string_view keyspace,
                                                topodata::VSchema vschema,
                                                const ApplyVSchemaOptions& options);

}  // namespace shale::ctl
