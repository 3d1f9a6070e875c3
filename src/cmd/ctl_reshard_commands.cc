// `shale ctl` commands of the resharding workflows (docs/resharding.md):
// Reshard, MoveTables, ReshardStatus, SwitchTraffic, ReverseTraffic and
// Complete. The work is in ctl/reshard.h, ctl/move_tables.h and
// ctl/switch_traffic.h. Progress goes to stderr as it happens; the result is
// JSON on stdout.

#include <iostream>
#include <memory>

#include "base/status_macros.h"
#include "cmd/ctl_command.h"
#include "cmd/duration_flag.h"
#include "ctl/move_tables.h"
#include "ctl/reshard.h"
#include "ctl/reshard_workflow.h"
#include "ctl/switch_traffic.h"

namespace shale::cmd {
namespace {

constexpr char kWorkflowFooter[] = R"(
The resharding workflow, in order (docs/resharding.md):
  CreateShard KS/-40, KS/40-80 and start their tablets (new shards serve nothing)
  Reshard KS --source -80 --target -40,40-80     copy, then stream, filtered by key range
  ReshardStatus KS                               phase, rows copied, position, lag
  VDiff KS                                       compare the new shards with the old
  SwitchTraffic KS --tablet-types rdonly,replica
  SwitchTraffic KS --tablet-types primary        writes pause briefly; clients see no error
  ReverseTraffic KS                              optional: move traffic back
  Complete KS [--drop-data]                      end the workflow

Moving tables between keyspaces (the vertical split) uses the same commands on
the target keyspace:
  MoveTables --from KS1 --to KS2 --tables t1,t2   copy, then stream, the tables
  ReshardStatus KS2 | VDiff KS2 | SwitchTraffic KS2 ... | ReverseTraffic KS2 | Complete KS2)";

CLI::Validator ShardListValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        absl::StatusOr<std::vector<std::string>> l = ctl::ParseShardList(text);
        return l.ok() ? "" : std::string(l.status().message());
      },
      "SHARDS");
}

CLI::Validator TabletTypesValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        absl::StatusOr<std::vector<topodata::TabletType>> t = ctl::ParseTabletTypes(text);
        return t.ok() ? "" : std::string(t.status().message());
      },
      "TYPES");
}

void Stderr(const std::string& op, const std::string& line) {
  std::cerr << op << ": " << line << std::endl;
}

struct ReshardArgs {
  std::string keyspace, source, target;
  std::string lock_timeout = "30s";
  std::string wait_timeout = "24h";
  bool no_wait = false;
};

struct SwitchArgs {
  std::string keyspace;
  std::string tablet_types;
  std::string lock_timeout = "30s";
  std::string catch_up_timeout = "10s";
  std::string grace = "1s";
  bool drop_data = false;
};

void AddSwitchFlags(CLI::App* cmd, const std::shared_ptr<SwitchArgs>& a) {
  cmd->add_option("--lock-timeout", a->lock_timeout, "How long to wait for the keyspace lock")
      ->check(DurationValidator())
      ->capture_default_str();
  cmd->add_option("--catch-up-timeout", a->catch_up_timeout,
                  "Primary switch: how long the other side may take to apply the last writes "
                  "while writes are frozen; past it the switch is undone")
      ->check(DurationValidator())
      ->capture_default_str();
  cmd->add_option("--grace", a->grace,
                  "Primary switch: how long open write transactions may take to finish before "
                  "they are rolled back (40001)")
      ->check(DurationValidator())
      ->capture_default_str();
}

absl::StatusOr<ctl::SwitchOptions> MakeSwitchOptions(const SwitchArgs& a, const std::string& op) {
  ctl::SwitchOptions o;
  ASSIGN_OR_RETURN(o.lock_timeout, ParseDurationFlag(a.lock_timeout));
  ASSIGN_OR_RETURN(o.catch_up_timeout, ParseDurationFlag(a.catch_up_timeout));
  ASSIGN_OR_RETURN(o.grace, ParseDurationFlag(a.grace));
  o.progress = [op](const std::string& line) { Stderr(op, line); };
  return o;
}

struct MoveTablesArgs {
  std::string from, to, tables;
  std::string lock_timeout = "30s";
  std::string wait_timeout = "24h";
  bool no_wait = false;
};

CLI::Validator TableListValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        absl::StatusOr<std::vector<std::string>> l = ctl::ParseTableList(text);
        return l.ok() ? "" : std::string(l.status().message());
      },
      "TABLES");
}

// The options Reshard and MoveTables share: waiting for the copy and the lock.
template <typename Args>
void AddCopyWaitFlags(CLI::App* cmd, const std::shared_ptr<Args>& a) {
  cmd->add_flag("--no-wait", a->no_wait, "Return once the streams started; follow them with ReshardStatus");
  cmd->add_option("--wait-timeout", a->wait_timeout,
                  "Stop waiting for the copy after this long (the copy goes on)")
      ->check(DurationValidator())
      ->capture_default_str();
  cmd->add_option("--lock-timeout", a->lock_timeout, "How long to wait for the keyspace lock")
      ->check(DurationValidator())
      ->capture_default_str();
}

template <typename Args>
absl::StatusOr<ctl::ReshardOptions> MakeCopyOptions(const Args& a, const std::string& op) {
  ctl::ReshardOptions o;
  ASSIGN_OR_RETURN(o.lock_timeout, ParseDurationFlag(a.lock_timeout));
  ASSIGN_OR_RETURN(o.wait_timeout, ParseDurationFlag(a.wait_timeout));
  o.wait = !a.no_wait;
  o.progress = [op](const std::string& line) { Stderr(op, line); };
  return o;
}

void AddReshard(CLI::App* ctl, CtlContext* ctx) {
  auto a = std::make_shared<ReshardArgs>();
  CLI::App* cmd = ctl->add_subcommand(
      "Reshard",
      "Start filling new shards from old ones: each target shard's primary copies a consistent "
      "snapshot of the rows in its key range from every overlapping source shard, then follows "
      "their changes. Waits for the copy, printing progress");
  cmd->footer(kWorkflowFooter);
  cmd->add_option("KEYSPACE", a->keyspace, "Keyspace name")->required();
  cmd->add_option("--source", a->source, "The shards to split or merge, e.g. -80")
      ->required()
      ->check(ShardListValidator());
  cmd->add_option("--target", a->target,
                  "The new shards, covering the same key range, e.g. -40,40-80; they must exist, "
                  "serve nothing, and have a primary")
      ->required()
      ->check(ShardListValidator());
  AddCopyWaitFlags(cmd, a);
  cmd->callback([ctx, a] {
    ctx->action = [a](topo::Server& ts) -> absl::StatusOr<nlohmann::json> {
      ASSIGN_OR_RETURN(ctl::ReshardOptions o, MakeCopyOptions(*a, "Reshard"));
      ASSIGN_OR_RETURN(std::vector<std::string> sources, ctl::ParseShardList(a->source));
      ASSIGN_OR_RETURN(std::vector<std::string> targets, ctl::ParseShardList(a->target));
      return ctl::Reshard(ts, a->keyspace, sources, targets, o);
    };
  });
}

void AddMoveTables(CLI::App* ctl, CtlContext* ctx) {
  auto a = std::make_shared<MoveTablesArgs>();
  CLI::App* cmd = ctl->add_subcommand(
      "MoveTables",
      "Start moving tables from one keyspace to another (the vertical split): each shard of the "
      "target keyspace copies a consistent snapshot of the tables' rows in its key range from "
      "the source keyspace's shards, then follows their changes. Sessions on either keyspace "
      "reach the tables where they are served until SwitchTraffic on the target keyspace. Waits "
      "for the copy, printing progress");
  cmd->footer(kWorkflowFooter);
  cmd->add_option("--from", a->from, "The keyspace that has the tables")->required();
  cmd->add_option("--to", a->to,
                  "The keyspace to move them to; it must exist with primaries, and must not have "
                  "tables of these names")
      ->required();
  cmd->add_option("--tables", a->tables, "The tables to move, e.g. t1,t2")
      ->required()
      ->check(TableListValidator());
  AddCopyWaitFlags(cmd, a);
  cmd->callback([ctx, a] {
    ctx->action = [a](topo::Server& ts) -> absl::StatusOr<nlohmann::json> {
      ASSIGN_OR_RETURN(ctl::ReshardOptions o, MakeCopyOptions(*a, "MoveTables"));
      ASSIGN_OR_RETURN(std::vector<std::string> tables, ctl::ParseTableList(a->tables));
      return ctl::MoveTables(ts, a->from, a->to, tables, o);
    };
  });
}

void AddStatus(CLI::App* ctl, CtlContext* ctx) {
  auto ks = std::make_shared<std::string>();
  CLI::App* cmd = ctl->add_subcommand(
      "ReshardStatus",
      "Show a keyspace's resharding workflow: which shards serve which tablet types, and each "
      "stream's phase, rows copied, source position, lag and last error");
  cmd->footer(kWorkflowFooter);
  cmd->add_option("KEYSPACE", *ks, "Keyspace name")->required();
  cmd->callback([ctx, ks] {
    ctx->action = [ks](topo::Server& ts) { return ctl::ReshardStatus(ts, *ks); };
  });
}

void AddSwitch(CLI::App* ctl, CtlContext* ctx, bool reverse) {
  auto a = std::make_shared<SwitchArgs>();
  const std::string name = reverse ? "ReverseTraffic" : "SwitchTraffic";
  CLI::App* cmd = ctl->add_subcommand(
      name, reverse ? "Move switched traffic back to the old shards (after a primary switch the "
                      "reverse streams kept them up to date)"
                    : "Move tablet types' traffic from the old shards to the new ones: rdonly "
                      "and replica first, then primary (writes freeze briefly while the new "
                      "shards catch up; gateways hold them, clients see no error)");
  cmd->footer(kWorkflowFooter);
  cmd->add_option("KEYSPACE", a->keyspace, "Keyspace name")->required();
  auto* types = cmd->add_option("--tablet-types", a->tablet_types,
                                reverse ? "Types to move back, e.g. primary or rdonly,replica "
                                          "(default: every type the new shards serve)"
                                        : "Types to move: rdonly,replica or primary (or all)")
                    ->check(TabletTypesValidator());
  if (!reverse) types->required();
  AddSwitchFlags(cmd, a);
  cmd->callback([ctx, a, name, reverse] {
    ctx->action = [a, name, reverse](topo::Server& ts) -> absl::StatusOr<nlohmann::json> {
      ASSIGN_OR_RETURN(ctl::SwitchOptions o, MakeSwitchOptions(*a, name));
      std::vector<topodata::TabletType> types;
      if (!a->tablet_types.empty()) {
        ASSIGN_OR_RETURN(types, ctl::ParseTabletTypes(a->tablet_types));
      }
      if (reverse) return ctl::ReverseTraffic(ts, a->keyspace, types, o);
      return ctl::SwitchTraffic(ts, a->keyspace, types, o);
    };
  });
}

void AddComplete(CLI::App* ctl, CtlContext* ctx) {
  auto a = std::make_shared<SwitchArgs>();
  CLI::App* cmd = ctl->add_subcommand(
      "Complete",
      "End a resharding workflow whose every tablet type was switched: remove the reverse "
      "streams; the old shards then serve nothing");
  cmd->footer(kWorkflowFooter);
  cmd->add_option("KEYSPACE", a->keyspace, "Keyspace name")->required();
  cmd->add_flag("--drop-data", a->drop_data, "Also delete every row of the old shards' tables");
  cmd->add_option("--lock-timeout", a->lock_timeout, "How long to wait for the keyspace lock")
      ->check(DurationValidator())
      ->capture_default_str();
  cmd->callback([ctx, a] {
    ctx->action = [a](topo::Server& ts) -> absl::StatusOr<nlohmann::json> {
      ASSIGN_OR_RETURN(ctl::SwitchOptions o, MakeSwitchOptions(*a, "Complete"));
      return ctl::Complete(ts, a->keyspace, a->drop_data, o);
    };
  });
}

}  // namespace

void AddReshardCommands(CLI::App* ctl, CtlContext* ctx) {
  AddReshard(ctl, ctx);
  AddMoveTables(ctl, ctx);
  AddStatus(ctl, ctx);
  AddSwitch(ctl, ctx, /*reverse=*/false);
  AddSwitch(ctl, ctx, /*reverse=*/true);
  AddComplete(ctl, ctx);
}

}  // namespace shale::cmd
