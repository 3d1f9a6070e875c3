#pragma once

// CopySession runs one COPY table FROM STDIN (DESIGN §5: bulk load, split
// per shard). The data is decoded as it streams in (gate/copy), and every
// few hundred rows the rows are sent as one multi-row INSERT per shard.
// The whole copy is one transaction: the session's own if it is in a block,
// else one begun for the copy and committed by Done(), so a failed copy
// leaves nothing behind.
//
// Owned by the GateSession for the duration of the copy; its thread only.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gate/copy/copy_decoder.h"
#include "gate/executor.h"
#include "gate/gate_context.h"
#include "gate/keyspace_schema.h"
#include "gate/pgwire/session.h"
#include "gate/plan.h"
#include "gate/target.h"

namespace shale::gate {

class CopySession {
 public:
  // Looks up the table's columns (when the COPY names none) and its
  // routing. Errors: an unknown table or column, a sharded table whose
  // sharding column is not copied.
  static absl::StatusOr<std::unique_ptr<CopySession>> Start(GateContext* ctx, Executor* executor,
                                                            const KeyspaceSchema& schema,
                                                            const SessionTarget& target,
                                                            const Plan& plan);

  pgwire::CopyIn copy_in() const;
  absl::Status Data(absl::string_view chunk);
  // Sends what is left and commits; the number of rows copied.
  absl::StatusOr<int64_t> Done();
  // Rolls back the copy's own transaction.
  void Abort();

 private:
  CopySession(Executor* executor, KeyspaceSchema schema, SessionTarget target,
              copy::CopyOptions options);
  absl::Status Flush();

  Executor* const executor_;
  const KeyspaceSchema schema_;
  const SessionTarget target_;
  const copy::CopyOptions options_;
  copy::CopyDecoder decoder_;
  std::string table_;
  std::vector<std::string> columns_;
  TableRouting routing_;
  int shard_column_ = -1;
  bool own_txn_ = false;
  int batch_rows_ = 500;
  std::vector<std::vector<tablet::Value>> pending_;
  int64_t copied_ = 0;
};

}  // namespace shale::gate
