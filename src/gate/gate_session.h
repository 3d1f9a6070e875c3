#pragma once

// GateSession is one client connection's session on the gateway (DESIGN §5):
// the pgwire::Session the PostgreSQL front end drives, and the engine behind
// Gate.Execute. It parses each statement (gate/sql), plans it against the
// keyspace's schema (planner.h; plans are cached per prepared statement and
// redone when the schema changes), routes it to shards (route.h), runs it
// through its Executor, and merges scattered results (gate/merge).
//
// Transactions follow PostgreSQL: BEGIN opens a block; an error inside it
// rolls the shard transactions back and fails the block (25P02 for every
// statement but ROLLBACK/COMMIT, which then reports ROLLBACK).
//
// Owned by the pgwire server (one per connection) or a gRPC call; used by one
// thread at a time, except Cancel.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gate/copy_session.h"
#include "gate/executor.h"
#include "gate/gate_context.h"
#include "gate/pgwire/session.h"
#include "gate/plan.h"
#include "gate/sql/ast.h"
#include "gate/target.h"

namespace shale::gate {

// A parsed statement with its cached plan.
class GateStatement : public pgwire::Statement {
 public:
  explicit GateStatement(sql::Statement parsed) : parsed_(std::move(parsed)) {}
  int num_params() const override { return parsed_.max_param; }
  const sql::Statement& parsed() const { return parsed_; }

  // The plan for schema, reused while the schema's records are the same.
  absl::StatusOr<std::shared_ptr<const Plan>> PlanFor(const KeyspaceSchema& schema,
                                                      const SessionTarget& target) const;

 private:
  struct Cached {
    const topodata::SrvKeyspace* srv = nullptr;
    const topodata::VSchema* vschema = nullptr;
    std::shared_ptr<const Plan> plan;
  };
  const sql::Statement parsed_;
  mutable absl::Mutex mu_;
  mutable Cached cached_ ABSL_GUARDED_BY(mu_);
};

class GateSession : public pgwire::Session {
 public:
  GateSession(GateContext* ctx, SessionTarget target, std::string user);
  ~GateSession() override;

  absl::StatusOr<std::vector<std::shared_ptr<const pgwire::Statement>>> PrepareSimple(
      absl::string_view query) override;
  absl::StatusOr<std::shared_ptr<const pgwire::Statement>> Prepare(
      absl::string_view query, absl::Span<const uint32_t> param_oids) override;
  absl::StatusOr<pgwire::Result> Execute(const pgwire::Statement& stmt,
                                         absl::Span<const tablet::Value> params) override;
  absl::Status CopyData(absl::string_view chunk) override;
  absl::StatusOr<std::string> CopyDone() override;
  void CopyFail(absl::string_view reason) override;
  pgwire::TxnStatus txn_status() const override;
  void Cancel() override { executor_.Cancel(); }

  // Runs one statement given as text (Gate.Execute).
  absl::StatusOr<pgwire::Result> ExecuteText(absl::string_view sql,
                                             absl::Span<const tablet::Value> params);

  const SessionTarget& target() const { return target_; }

 private:
  // The keyspace's schema in the gateway's cell, or for replica traffic
  // that the RoutingPolicy sends to another cell, in that cell.
  absl::StatusOr<KeyspaceSchema> SchemaForTarget();
  absl::StatusOr<pgwire::Result> Run(const GateStatement& stmt,
                                     absl::Span<const tablet::Value> params);
  // applied (may be null): shard queries of this statement that already ran
  // before a reshard (Executor::TakeApplied); they are not run again and
  // their results are merged in. If the statement is refused as resharded
  // again, the parts that ran this time are added to it.
  absl::StatusOr<pgwire::Result> RunQuery(const Plan& plan, const sql::Statement& stmt,
                                          const KeyspaceSchema& schema,
                                          absl::Span<const tablet::Value> params,
                                          std::vector<Executor::Applied>* applied = nullptr);
  // A statement a resharded shard refused (tablet/client/resharded.h), none
  // of whose writes can have run twice: held in the PrimaryBuffer until the
  // keyspace's SrvKeyspace changes, then planned and run again, until it
  // runs or the buffer window ends.
  absl::StatusOr<pgwire::Result> RunResharded(const GateStatement& stmt,
                                              absl::Span<const tablet::Value> params,
                                              KeyspaceSchema schema, absl::Status failure);
  // Inside a transaction: 40001 if a shard it began on no longer serves
  // PRIMARY in schema (resharded away; the tablet rolled its part back).
  absl::Status CheckTransactionShards(const KeyspaceSchema& schema) const;
  // A schema change: through ctld (table_ddl.h), never inside a transaction.
  absl::StatusOr<pgwire::Result> RunDdl(const Plan& plan, const sql::Statement& stmt);
  absl::StatusOr<pgwire::Result> RunControl(const Plan& plan, const KeyspaceSchema& schema);
  absl::StatusOr<pgwire::Result> Show(const Plan& plan);
  // An error inside a transaction block fails the block.
  absl::Status Fail(absl::Status status);

  GateContext* const ctx_;
  const SessionTarget target_;
  const std::string user_;
  Executor executor_;
  bool failed_ = false;  // in a failed transaction block
  std::map<std::string, std::string> settings_;
  std::unique_ptr<CopySession> copy_;
};

}  // namespace shale::gate
