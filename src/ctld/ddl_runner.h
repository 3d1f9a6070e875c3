#pragma once

// DdlRunner is the "from meta" path of a schema change (DESIGN §6): it
// locks the keyspace, allocates the table id (CREATE TABLE), applies the
// statement on every shard's primary (where the tablet logs it and its
// replicas apply it), and then publishes the new VSchema, which gateways
// watch. A shard whose primary is changing is waited for and retried, not
// skipped. Every step is idempotent: a statement that failed part-way
// reports which shards have it, and running it again completes it.
//
// Owned by the meta service; borrows the topo::Server. Thread-safe: the
// keyspace lock serialises concurrent changes of one keyspace.

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ctld/ddl_statement.h"
#include "meta_service.pb.h"
#include "topo/server.h"

namespace shale::ctld {

struct DdlRunnerOptions {
  absl::Duration lock_timeout = absl::Seconds(30);  // waiting for another change of the keyspace
  absl::Duration shard_wait = absl::Seconds(30);    // default wait for a shard's primary
  absl::Duration call_timeout = absl::Seconds(30);  // one statement on one primary
};

class DdlRunner {
 public:
  explicit DdlRunner(topo::Server* ts, DdlRunnerOptions options = {})
      : ts_(ts), options_(options) {}

  // Runs request as a call of kind `call`. Errors: InvalidArgument when the
  // statement does not parse or belongs to another call; NotFound for an
  // unknown keyspace; the keyspace lock's DeadlineExceeded; a shard's error
  // (with its SQLSTATE), its message naming the shards that have the change.
  absl::StatusOr<meta::DdlResponse> Run(DdlKind call, const meta::DdlRequest& request);

 private:
  // The VSchema entry a CREATE TABLE gets (id not yet set).
  absl::StatusOr<topodata::VSchema::Table> Layout(const DdlStatement& ddl,
                                                  const topodata::Keyspace& keyspace,
                                                  bool sharded) const;
  // Runs the statement on one shard's current primary, retrying while the
  // primary changes, until deadline.
  absl::StatusOr<meta::ShardOutcome> ApplyOnShard(const std::string& keyspace,
                                                  const std::string& shard,
                                                  const DdlStatement& ddl, absl::Time deadline);

  topo::Server* const ts_;
  const DdlRunnerOptions options_;
};

}  // namespace shale::ctld
