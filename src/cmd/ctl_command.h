#pragma once

// `shale ctl`: the admin CLI over the topology (DESIGN §1, issue "Foundation").
// Registration is split by topic: ctl_record_commands.cc (keyspaces, shards,
// cells, tablets) and ctl_graph_commands.cc (serving graph, routing policy,
// raw topology browsing). Confined to the main thread.

#include <functional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "base/grpc_tls/tls_options.h"
#include "nlohmann/json.hpp"
#include "topo/server.h"

namespace shale::cmd {

// One parsed `shale ctl` invocation: its global flags and the chosen action.
struct CtlContext {
  std::string topo;              // --topo
  std::string format = "json";   // --format
  bool verbose = false;          // -v: show library logs (topology clients) on stderr
  bool writes = false;           // the action may create the topology store
  grpc_tls::TlsOptions grpc_tls;  // --grpc-tls-*: how to dial tablets and ctld
  // Runs the chosen command; a null result prints nothing.
  std::function<absl::StatusOr<nlohmann::json>(topo::Server&)> action;
};

// The topology address used when --topo is not given: $SHALE_TOPO, else the
// local cluster's file, sqlite:$HOME/.shale/local/topo.db.
std::string DefaultTopoAddress();

// Adds `ctl` and its commands to app; the chosen command fills *ctx.
void AddCtlCommand(CLI::App& app, CtlContext* ctx);
void AddRecordCommands(CLI::App* ctl, CtlContext* ctx);
void AddGraphCommands(CLI::App* ctl, CtlContext* ctx);
// ctl_tablet_commands.cc: one RPC to a running tablet each.
void AddTabletRpcCommands(CLI::App* ctl, CtlContext* ctx);
// ctl_reparent_commands.cc: PlannedReparentShard, EmergencyReparentShard, replication RPCs.
void AddReparentCommands(CLI::App* ctl, CtlContext* ctx);
// ctl_vschema_commands.cc: GetVSchema, ApplyVSchema.
void AddVSchemaCommands(CLI::App* ctl, CtlContext* ctx);
// ctl_ddl_commands.cc: CreateTable, DropTable, AlterTable, CreateIndex via ctld.
void AddDdlCommands(CLI::App* ctl, CtlContext* ctx);
// ctl_subscribe_command.cc: Subscribe (change subscriptions as JSON lines).
void AddSubscribeCommand(CLI::App* ctl, CtlContext* ctx);
// ctl_vdiff_command.cc: VDiff (compare resharding targets with their sources).
void AddVDiffCommand(CLI::App* ctl, CtlContext* ctx);
// ctl_reshard_commands.cc: Reshard, ReshardStatus, SwitchTraffic, ReverseTraffic, Complete.
void AddReshardCommands(CLI::App* ctl, CtlContext* ctx);

// Opens the topology and runs ctx.action, printing its result to stdout or
// one line "error: ..." to stderr. Returns the process exit code.
int RunCtl(const CtlContext& ctx);

// Splits "KS/SHARD". InvalidArgument naming the input otherwise.
absl::StatusOr<std::pair<std::string, std::string>> SplitKeyspaceShard(const std::string& arg);

}  // namespace shale::cmd
