// `shale ctl` commands for schema changes (DESIGN §6): CreateTable,
// DropTable, AlterTable and CreateIndex send one statement to the leading
// ctld's meta service, exactly as a gateway does for a user's DDL
// (gate::MetaClient finds the leader and follows a change of leader), and
// print the outcome per shard and the table's id.

#include <memory>

#include "base/status_macros.h"
#include "cmd/ctl_command.h"
#include "ctl/record_json.h"
#include "gate/meta_client.h"

namespace shale::cmd {
namespace {

using Result = absl::StatusOr<nlohmann::json>;

constexpr char kDdlFooter[] = R"(
The statement runs through ctld (start `shale ctld` first): the keyspace is locked,
CREATE TABLE gets a cluster-wide table id, the statement runs on every shard's primary
(a shard whose primary is changing is waited for), then the VSchema is published.
A statement that failed part-way says which shards have it; run it again to complete it.
CREATE TABLE takes Shale's layout clause after the column list:
  DISTRIBUTED BY (column)   shard the rows by column
  DISTRIBUTED REPLICATED    a reference table, copied to every shard
Without it a sharded keyspace shards the table by the keyspace's sharding column.)";

void AddDdlCommand(CLI::App* ctl, CtlContext* ctx, const char* name, const char* what,
                   gate::sql::StatementKind kind) {
  struct Args {
    std::string keyspace, sql;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = ctl->add_subcommand(name, what);
  cmd->add_option("KEYSPACE", a->keyspace, "Keyspace name")->required();
  cmd->add_option("--sql", a->sql, "The statement, e.g. \"CREATE TABLE t (id INTEGER PRIMARY KEY)\"")
      ->required();
  cmd->footer(kDdlFooter);
  cmd->callback([ctx, a, kind] {
    ctx->action = [a, kind](topo::Server& ts) -> Result {
      gate::MetaClient meta(&ts);
      ASSIGN_OR_RETURN(meta::DdlResponse r, meta.Run(kind, a->keyspace, a->sql));
      r.clear_vschema();  // GetVSchema prints it
      return ctl::RecordToJson(r);
    };
  });
}

}  // namespace

void AddDdlCommands(CLI::App* ctl, CtlContext* ctx) {
  using gate::sql::StatementKind;
  AddDdlCommand(ctl, ctx, "CreateTable",
                "CREATE TABLE through ctld: a new table id, the table on every shard",
                StatementKind::kCreateTable);
  AddDdlCommand(ctl, ctx, "DropTable", "DROP TABLE through ctld, on every shard",
                StatementKind::kDropTable);
  AddDdlCommand(ctl, ctx, "AlterTable", "ALTER TABLE through ctld, on every shard",
                StatementKind::kAlterTable);
  AddDdlCommand(ctl, ctx, "CreateIndex", "CREATE INDEX through ctld, on every shard",
                StatementKind::kCreateIndex);
}

}  // namespace shale::cmd
