#pragma once

// Checks a keyspace's VSchema (its catalog, DESIGN §6) before it is saved:
// the rules every writer of /global/keyspaces/<ks>/VSchema keeps (ApplyVSchema
// here, and ctld's DDL). Pure functions; thread-safe.

#include <string>

#include "absl/status/status.h"
#include "topodata.pb.h"

namespace shale::ctl {

// The vindex types the gateway knows (DESIGN §5): "hash" only, for now.
bool IsKnownVindexType(const std::string& type);

// OK when vschema keeps these rules, else InvalidArgument listing every
// broken one (sorted, joined with "; "):
//   - vindex names are non-empty and their types known (IsKnownVindexType);
//   - table names are non-empty;
//   - every column vindex names a column and a key of `vindexes`;
//   - in a sharded VSchema, every SHARDED table has at least one column vindex;
//   - REFERENCE tables have no column vindexes;
//   - table ids are not negative, and no two tables share a positive id.
// A table_id of 0 means "not allocated yet": ApplyVSchema allocates it
// before saving, so a saved record only holds positive ids.
absl::Status ValidateVSchema(const topodata::VSchema& vschema);

}  // namespace shale::ctl
