// `shale ctl` commands for primary changes (DESIGN §4): PlannedReparentShard,
// EmergencyReparentShard (the work is in ctl/reparent.h), and
// ReplicationStatus, StopReplication, StartReplication (one RPC to a tablet). The reparents print their progress
// on stderr as they go and their result as JSON on stdout.

#include <iostream>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "cmd/ctl_command.h"
#include "cmd/duration_flag.h"
#include "ctl/reparent.h"
#include "ctl/shard_tablets.h"
#include "tablet/client/tablet_client.h"

namespace shale::cmd {
namespace {

using Json = nlohmann::json;
using Result = absl::StatusOr<Json>;

// The flags of one reparent command.
struct ReparentArgs {
  std::string shard;  // KS/SHARD
  std::string new_primary;
  std::string wait_replicas_timeout = "30s";
  std::string lock_timeout = "30s";
  std::string grace = "500ms";
  std::string migrate_timeout = "10s";
};

absl::StatusOr<ctl::ReparentOptions> MakeOptions(const ReparentArgs& a, const std::string& op) {
  ctl::ReparentOptions o;
  if (!a.new_primary.empty()) {
    ASSIGN_OR_RETURN(topo::TabletAlias alias, topo::TabletAlias::Parse(a.new_primary));
    o.new_primary = alias;
  }
  ASSIGN_OR_RETURN(o.wait_replicas_timeout, ParseDurationFlag(a.wait_replicas_timeout));
  ASSIGN_OR_RETURN(o.lock_timeout, ParseDurationFlag(a.lock_timeout));
  ASSIGN_OR_RETURN(o.grace, ParseDurationFlag(a.grace));
  ASSIGN_OR_RETURN(o.migrate_timeout, ParseDurationFlag(a.migrate_timeout));
  // The operator watches a primary change happen: one stderr line per step.
  o.progress = [op](const std::string& line) { std::cerr << op << ": " << line << std::endl; };
  return o;
}

using ReparentFn = absl::StatusOr<ctl::ReparentResult> (*)(topo::Server&, absl::string_view,
                                                           absl::string_view,
                                                           const ctl::ReparentOptions&);

CLI::App* AddReparentCommand(CLI::App* ctl, CtlContext* ctx, const std::string& name,
                             const std::string& help, const std::string& new_primary_help,
                             ReparentFn fn, std::shared_ptr<ReparentArgs> a) {
  CLI::App* cmd = ctl->add_subcommand(name, help);
  cmd->add_option("KS/SHARD", a->shard, "The shard, e.g. app/-80")->required();
  cmd->add_option("--new-primary", a->new_primary, new_primary_help);
  cmd->add_option("--wait-replicas-timeout", a->wait_replicas_timeout,
                  "How long the new primary may take to catch up")
      ->check(DurationValidator())
      ->capture_default_str();
  cmd->add_option("--lock-timeout", a->lock_timeout,
                  "How long to wait for the shard lock (another reparent may hold it)")
      ->check(DurationValidator())
      ->capture_default_str();
  cmd->callback([ctx, a, name, fn] {
    ctx->action = [a, name, fn](topo::Server& ts) -> Result {
      ASSIGN_OR_RETURN(auto ks_shard, SplitKeyspaceShard(a->shard));
      ASSIGN_OR_RETURN(ctl::ReparentOptions o, MakeOptions(*a, name));
      ASSIGN_OR_RETURN(ctl::ReparentResult r, fn(ts, ks_shard.first, ks_shard.second, o));
      return r.ToJson();
    };
  });
  return cmd;
}

// A command CMD ALIAS that sends an empty Req to the tablet's Replication
// service and prints the ReplicationStatus in the response.
template <typename Req, typename Resp>
void AddReplicationCommand(CLI::App* ctl, CtlContext* ctx, const std::string& name,
                           const std::string& help,
                           grpc::Status (tablet::Replication::Stub::*method)(grpc::ClientContext*,
                                                                             const Req&, Resp*)) {
  auto alias = std::make_shared<std::string>();
  CLI::App* cmd = ctl->add_subcommand(name, help);
  cmd->add_option("CELL-UID", *alias, "Tablet alias, e.g. zone1-101")->required();
  cmd->callback([ctx, alias, method] {
    ctx->action = [alias, method](topo::Server& ts) -> Result {
      ASSIGN_OR_RETURN(topo::TabletAlias a, topo::TabletAlias::Parse(*alias));
      ASSIGN_OR_RETURN(topo::TabletInfo info, ts.GetTablet(a));
      ASSIGN_OR_RETURN(std::unique_ptr<tablet::TabletClient> c, ctl::DialTablet(info.record));
      absl::StatusOr<Resp> r = c->Call(c->replication(), method, Req(), absl::Seconds(30));
      if (!r.ok()) {
        return absl::Status(r.status().code(), absl::StrCat("tablet ", *alias, " (", c->address(),
                                                            "): ", r.status().message()));
      }
      return ctl::ReplicationStatusToJson(r->status());
    };
  });
}

}  // namespace

void AddReparentCommands(CLI::App* ctl, CtlContext* ctx) {
  {
    auto a = std::make_shared<ReparentArgs>();
    CLI::App* cmd = AddReparentCommand(
        ctl, ctx, "PlannedReparentShard",
        "Hand a shard's primary role to a healthy replica (or elect the first primary of a "
        "shard that has none); the old primary helps, so no acknowledged write is lost",
        "The tablet to promote (default: the most caught-up healthy REPLICA, preferring the "
        "primary's cell)",
        &ctl::PlannedReparentShard, a);
    cmd->add_option("--grace", a->grace,
                    "Open transactions on the old primary may finish within this; later "
                    "ones are rolled back (SQLSTATE 40001)")
        ->check(DurationValidator())
        ->capture_default_str();
    cmd->add_option("--migrate-timeout", a->migrate_timeout,
                    "Bound on the whole hand-over; on timeout the old primary stays primary")
        ->check(DurationValidator())
        ->capture_default_str();
  }
  AddReparentCommand(
      ctl, ctx, "EmergencyReparentShard",
      "Replace a shard's primary that is gone: promote the most advanced reachable replica "
      "with a new term and repoint the others",
      "The tablet to promote (default: the most advanced reachable REPLICA)",
      &ctl::EmergencyReparentShard, std::make_shared<ReparentArgs>());
  AddReplicationCommand(ctl, ctx, "ReplicationStatus",
                        "Print a tablet's replication status (one RPC to it)",
                        &tablet::Replication::Stub::ReplicationStatus);
  AddReplicationCommand(ctl, ctx, "StopReplication",
                        "Make a replica stop applying its source's log (one RPC to it)",
                        &tablet::Replication::Stub::StopReplication);
  AddReplicationCommand(ctl, ctx, "StartReplication",
                        "Make a replica apply its source's log again (one RPC to it)",
                        &tablet::Replication::Stub::StartReplication);
}

}  // namespace shale::cmd
