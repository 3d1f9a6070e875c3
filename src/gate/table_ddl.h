#pragma once

// The gateway's side of a user's schema change (DESIGN §6, "from user"):
// the statement goes to ctld through the MetaClient, and the client gets
// its answer only once this gateway's own catalog (the SchemaCache, fed by
// the VSchema watch) shows the change, so the next statement on the same
// connection already routes with it.
//   - TableCreator: CREATE TABLE / INDEX / VIEW / TRIGGER and ALTER TABLE;
//     waits until the table is in the VSchema with the id ctld gave it.
//   - TableDropper: DROP TABLE / INDEX / VIEW / TRIGGER; waits until a
//     dropped table has left the VSchema.
// Owned by the Gateway; borrows the MetaClient and SchemaCache. Thread-safe.

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gate/meta_client.h"
#include "gate/schema_cache.h"
#include "gate/sql/ast.h"

namespace shale::gate {

class TableCreator {
 public:
  TableCreator(MetaClient* meta, SchemaCache* schemas) : meta_(meta), schemas_(schemas) {}
  absl::Status Run(const std::string& keyspace, const sql::Statement& stmt);

 private:
  MetaClient* const meta_;
  SchemaCache* const schemas_;
};

class TableDropper {
 public:
  TableDropper(MetaClient* meta, SchemaCache* schemas) : meta_(meta), schemas_(schemas) {}
  absl::Status Run(const std::string& keyspace, const sql::Statement& stmt);

 private:
  MetaClient* const meta_;
  SchemaCache* const schemas_;
};

// Whether stmt removes something (TableDropper) rather than creating or
// changing it (TableCreator).
bool IsDrop(sql::StatementKind kind);

}  // namespace shale::gate
