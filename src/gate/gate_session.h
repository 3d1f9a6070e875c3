#pragma once

// GateSession is one client connection's session on the gateway (DESIGN §5):
// the pgwire::Session the PostgreSQL front end drives, and the engine behind
// Gate.Execute. It parses each statement (gate/sql), plans it against the
// keyspace's schema (planner.h; plans are cached per prepared statement and
// redone when the schema changes), routes it to shards (route.h), runs it
// through its Executor, and merges scattered results (gate/merge).
//
// Routing rules (routing_rules.h, MoveTables): a statement whose tables the
// session keyspace's SrvKeyspace routes to another keyspace is planned
// against that keyspace's schema and run by the session's executor for that
// keyspace (one per keyspace used; the session keyspace's is the main one).
// Sessions on one shard (`ks:-80`) ignore the rules.
//
// Transactions follow PostgreSQL: BEGIN opens a block; an error inside it
// rolls the shard transactions back and fails the block (25P02 for every
// statement but ROLLBACK/COMMIT, which then reports ROLLBACK). A block spans
// the keyspaces it uses: an executor first used inside it begins there, and
// COMMIT / ROLLBACK end every executor's transaction.
//
// Owned by the pgwire server (one per connection) or a gRPC call; used by one
// thread at a time, except Cancel.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gate/copy_session.h"
#include "gate/executor.h"
#include "gate/gate_context.h"
#include "gate/keyspace_schema.h"
#include "gate/pgwire/session.h"
#include "gate/plan.h"
#include "gate/sql/ast.h"
#include "gate/target.h"

namespace shale::gate {

// A parsed statement with its cached plan.
class GateStatement : public pgwire::Statement {
 public:
  explicit GateStatement(sql::Statement parsed);
  int num_params() const override { return parsed_.max_param; }
  const sql::Statement& parsed() const { return parsed_; }
  // The tables it names (routing_rules.h NamedTables), found on first use:
  // only sessions whose keyspace has routing rules ask.
  const std::vector<std::string>& tables() const;

  // The plan for schema (of the keyspace the statement runs in), reused
  // while that keyspace and its records are the same.
  absl::StatusOr<std::shared_ptr<const Plan>> PlanFor(const KeyspaceSchema& schema,
                                                      const SessionTarget& target) const;

 private:
  struct Cached {
    std::optional<KeyspaceSchema> schema;  // holds the records the plan was made from
    std::shared_ptr<const Plan> plan;
  };
  const sql::Statement parsed_;
  mutable std::once_flag tables_once_;
  mutable std::vector<std::string> tables_;
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
  void Cancel() override;

  // Runs one statement given as text (Gate.Execute).
  absl::StatusOr<pgwire::Result> ExecuteText(absl::string_view sql,
                                             absl::Span<const tablet::Value> params);

  const SessionTarget& target() const { return target_; }

 private:
  // Where a statement runs: the session keyspace, or the keyspace a routing
  // rule sends its tables to. Resolved once per statement (and again after
  // a resharded hold).
  struct KeyspaceRoute {
    KeyspaceSchema schema;  // of the keyspace the statement runs in
    SessionTarget target;   // the session's, with that keyspace
    Executor* executor;     // the session's executor for that keyspace
  };

  // A keyspace's schema in the gateway's cell, or for replica traffic that
  // the RoutingPolicy sends to another cell, in that cell.
  absl::StatusOr<KeyspaceSchema> SchemaFor(const SessionTarget& target);
  // stmt's route by the routing rules of session (the session keyspace's
  // schema); 0A000 when its tables route to different keyspaces.
  absl::StatusOr<KeyspaceRoute> ResolveRoute(const GateStatement& stmt,
                                             const KeyspaceSchema& session);
  // The executor for target's keyspace, created on first use; inside a
  // transaction block it begins there.
  Executor* ExecutorFor(const SessionTarget& target);
  // The main executor, then the others in the order they were created.
  std::vector<Executor*> Executors();

  absl::StatusOr<pgwire::Result> Run(const GateStatement& stmt,
                                     absl::Span<const tablet::Value> params);
  // applied (may be null): shard queries of this statement that already ran
  // before a reshard (Executor::TakeApplied); they are not run again and
  // their results are merged in. If the statement is refused as resharded
  // again, the parts that ran this time are added to it.
  absl::StatusOr<pgwire::Result> RunQuery(const Plan& plan, const sql::Statement& stmt,
                                          const KeyspaceRoute& route,
                                          absl::Span<const tablet::Value> params,
                                          std::vector<Executor::Applied>* applied = nullptr);
  // A statement a resharded shard refused (tablet/client/resharded.h), none
  // of whose writes can have run twice: held in the PrimaryBuffer until the
  // session keyspace's SrvKeyspace (which holds the routing rules) changes,
  // or for growing pauses (a change of a routed keyspace), then routed,
  // planned and run again, until it runs or the buffer window ends. route:
  // where it was refused.
  absl::StatusOr<pgwire::Result> RunResharded(const GateStatement& stmt,
                                              absl::Span<const tablet::Value> params,
                                              KeyspaceSchema session, const KeyspaceRoute& route,
                                              absl::Status failure);
  // Inside a transaction: 40001 if a shard of route's keyspace it began on
  // no longer serves PRIMARY there (resharded away; the tablet rolled its
  // part back). With --transaction-mode single, 0A000 if the block already
  // uses another keyspace.
  absl::Status CheckTransactionShards(const KeyspaceRoute& route);
  // A schema change: through ctld (table_ddl.h), never inside a transaction,
  // never on a routed table.
  absl::StatusOr<pgwire::Result> RunDdl(const Plan& plan, const sql::Statement& stmt,
                                        const KeyspaceRoute& route);
  absl::StatusOr<pgwire::Result> RunControl(const Plan& plan, const KeyspaceRoute& route);
  absl::StatusOr<pgwire::Result> Show(const Plan& plan);
  // Ends the transaction block in every executor: commits each (in the
  // order of Executors(), each committing its shards in order); if one fails
  // after another committed, the error (XX000) says which keyspaces did.
  absl::Status CommitAll();
  void RollbackAll();
  // An error inside a transaction block fails the block.
  absl::Status Fail(absl::Status status);

  GateContext* const ctx_;
  const SessionTarget target_;
  const std::string user_;
  Executor executor_;  // the session keyspace's
  // The executors of routed keyspaces, by keyspace. Changed by the session's
  // thread; cancel_mu_ guards them against Cancel (any thread).
  absl::Mutex cancel_mu_;
  std::vector<std::unique_ptr<Executor>> routed_executors_ ABSL_GUARDED_BY(cancel_mu_);
  bool failed_ = false;  // in a failed transaction block
  std::map<std::string, std::string> settings_;
  std::unique_ptr<CopySession> copy_;
};

}  // namespace shale::gate
