// Launcher::Up and its steps: what `shale local up` does, in order.

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "ctl/rebuild.h"
#include "ctl/reparent.h"
#include "local/cluster_health.h"
#include "local/cluster_setup.h"
#include "local/launcher.h"
#include "local/process_control.h"

namespace shale::local {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(60);
// How long a shard that has a primary may take to serve with it again after
// a restart before up replaces it (EmergencyReparentShard).
constexpr absl::Duration kPrimaryGrace = absl::Seconds(20);

const char* kLayoutFlags[] = {"shards", "replicas", "cells", "topo", "keyspace", "base-port"};

std::string FlagValue(const LocalOptions& o, const std::string& flag) {
  if (flag == "shards") return absl::StrCat(o.shards);
  if (flag == "replicas") return absl::StrCat(o.replicas);
  if (flag == "cells") return absl::StrCat(o.cells);
  if (flag == "topo") return o.topo;
  if (flag == "keyspace") return o.keyspace;
  return absl::StrCat(o.base_port);
}

}  // namespace

absl::Status Launcher::Up(const LocalOptions& flags, const std::set<std::string>& given) {
  RETURN_IF_ERROR(ValidateOptions(flags));
  const std::string& dir = flags.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir + "/logs", ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, "/logs: ", ec.message()));
  ASSIGN_OR_RETURN(std::unique_ptr<DirLock> lock, DirLock::Acquire(dir));
  RETURN_IF_ERROR(LoadPlan(flags, given));

  bool all_running = true;
  for (const PlannedProcess& p : plan_.processes) all_running = all_running && Running(p.name);
  if (all_running) {
    Say(absl::StrCat("the cluster in ", dir, " is already running"));
    PrintSummary();
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(CheckPorts());
  Say(absl::StrCat(state_.processes.empty() ? "creating" : "starting", " the cluster in ", dir,
                   " (", plan_.shards.size(), " shards x ", plan_.options.replicas + 1,
                   " tablets, topology ", plan_.topo_address, ")"));
  ASSIGN_OR_RETURN(std::unique_ptr<topo::Server> ts, StartTopology());
  RETURN_IF_ERROR(EnsureRecords(*ts, plan_, [this](const std::string& l) { Say(l); }));
  RETURN_IF_ERROR(StartTablets(*ts));
  RETURN_IF_ERROR(ServePrimaries(*ts));
  RETURN_IF_ERROR(StartGate());
  RETURN_IF_ERROR(WaitCtldLeads());
  PrintSummary();
  return absl::OkStatus();
}

absl::Status Launcher::LoadPlan(const LocalOptions& flags, const std::set<std::string>& given) {
  LocalOptions options = flags;
  absl::StatusOr<LocalState> recorded = ReadState(flags.data_dir);
  if (recorded.ok()) {
    for (const char* flag : kLayoutFlags) {
      if (given.count(flag) && FlagValue(options, flag) != FlagValue(recorded->options, flag)) {
        return absl::InvalidArgumentError(
            absl::StrCat(flags.data_dir, " holds a cluster made with --", flag, " ",
                         FlagValue(recorded->options, flag), ", not ", FlagValue(options, flag),
                         ": leave the flag out to restart it, or use another --data-dir"));
      }
    }
    options = recorded->options;
    options.data_dir = flags.data_dir;
    state_ = *std::move(recorded);
  } else if (!absl::IsNotFound(recorded.status())) {
    return recorded.status();
  }
  ASSIGN_OR_RETURN(plan_, MakePlan(options));
  state_.options = options;
  state_.topo_address = plan_.topo_address;
  return absl::OkStatus();
}

absl::Status Launcher::CheckPorts() const {
  for (const PlannedProcess& p : plan_.processes) {
    if (Running(p.name)) continue;
    for (const auto& [what, port] : p.ports) {
      absl::Status s = CheckPortFree(port);
      if (s.ok()) continue;
      return absl::FailedPreconditionError(absl::StrFormat(
          "port %d (%s %s) is in use (%s): stop what listens there (`ss -ltnp 'sport = :%d'`) "
          "or choose other ports with --base-port (this cluster uses %d to %d)",
          port, p.name, what, s.message(), port, plan_.options.base_port, plan_.pg_port()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<topo::Server>> Launcher::StartTopology() {
  for (const PlannedProcess& p : plan_.processes) {
    if (p.kind != "topo") continue;
    watch_.push_back(&p);
    if (!Running(p.name)) RETURN_IF_ERROR(Start(p));
  }
  std::unique_ptr<topo::Server> ts;
  RETURN_IF_ERROR(WaitUntil("the topology did not answer", kStartTimeout, [&](std::string* detail) {
    auto t = OpenTopology(plan_.topo_address, absl::Now());
    if (!t.ok()) {
      *detail = std::string(t.status().message());
      return false;
    }
    ts = *std::move(t);
    return true;
  }));
  Say(absl::StrCat("topology ", plan_.topo_address, " ready"));
  return ts;
}

absl::Status Launcher::StartTablets(topo::Server& ts) {
  int tablets = 0;
  for (const PlannedProcess& p : plan_.processes) {
    if (p.kind != "ctld" && p.kind != "tablet") continue;
    if (p.kind == "tablet") {
      ++tablets;
      watch_.push_back(&p);
    }
    if (!Running(p.name)) RETURN_IF_ERROR(Start(p));
  }
  RETURN_IF_ERROR(
      WaitForShards(ts, "the tablets did not all answer", [&](const ShardHealth& h) -> std::string {
        if (h.tablets.size() < plan_.TabletsOf(h.shard).size()) {
          return absl::StrCat("shard ", h.shard, " has ", h.tablets.size(), " tablets");
        }
        for (const TabletHealth& t : h.tablets) {
          if (!t.error.empty()) return t.alias + ": " + t.error;
        }
        return "";
      }));
  Say(absl::StrCat("all ", tablets, " tablets answer"));
  return absl::OkStatus();
}

absl::Status Launcher::ServePrimaries(topo::Server& ts) {
  const std::string& ks = plan_.options.keyspace;
  for (const std::string& shard : plan_.shards) {
    // A new shard gets its first primary; a restarted one resumes its own.
    ASSIGN_OR_RETURN(bool elected, ElectIfNoPrimary(ts, plan_, shard));
    if (elected) {
      Say(absl::StrCat("elected ", plan_.TabletsOf(shard).front()->alias, " primary of ", ks, "/",
                       shard));
      continue;
    }
    absl::Status serving = WaitUntil("", kPrimaryGrace, [&](std::string*) {
      absl::StatusOr<ShardHealth> h = ProbeShard(ts, ks, shard);
      return h.ok() && h->has_serving_primary();
    });
    if (serving.ok()) continue;
    if (!absl::IsDeadlineExceeded(serving)) return serving;
    Say(absl::StrCat("shard ", shard, " has no serving primary after ",
                     absl::FormatDuration(kPrimaryGrace), ": EmergencyReparentShard"));
    ctl::ReparentOptions ro;
    ro.reason = "shale local up: no serving primary";
    ASSIGN_OR_RETURN(ctl::ReparentResult r, ctl::EmergencyReparentShard(ts, ks, shard, ro));
    Say(r.message);
  }
  RETURN_IF_ERROR(ctl::RebuildKeyspaceGraph(ts, ks, {}, false));
  RETURN_IF_ERROR(
      WaitForShards(ts, "the tablets did not all serve", [](const ShardHealth& h) -> std::string {
        if (h.all_serving()) return "";
        return absl::StrCat("shard ", h.shard, " is not serving yet");
      }));
  Say(absl::StrCat("every shard has a serving primary; serving graph of ", ks, " rebuilt"));
  return absl::OkStatus();
}

absl::Status Launcher::StartGate() {
  const PlannedProcess* gate = plan_.Find("gate");
  if (!Running(gate->name)) RETURN_IF_ERROR(Start(*gate));
  watch_.push_back(gate);
  const int tablets = plan_.options.shards * (plan_.options.replicas + 1);
  RETURN_IF_ERROR(
      WaitUntil("the gateway did not serve every tablet", kStartTimeout, [&](std::string* detail) {
        GateHealth g = ProbeGate(gate->ports.at("http"));
        *detail = g.answers ? absl::StrCat("it serves ", g.serving, " of ", tablets) : g.error;
        return g.answers && g.serving >= tablets;
      }));
  Say(absl::StrCat("gateway serves all ", tablets, " tablets"));
  return absl::OkStatus();
}

absl::Status Launcher::WaitCtldLeads() {
  // DDL and failover need a leader; after a crash the old leader's lock
  // expires first (its lease, 10 s).
  const PlannedProcess* ctld = plan_.Find("ctld");
  watch_.push_back(ctld);
  if (!ProbeCtld(ctld->ports.at("http")).leader) {
    Say("waiting for ctld to lead (a crashed leader's lock expires within 10 s)");
    RETURN_IF_ERROR(
        WaitUntil("ctld did not become the leader", kStartTimeout, [&](std::string* detail) {
          CtldHealth c = ProbeCtld(ctld->ports.at("http"));
          *detail = c.answers ? "it stands by" : c.error;
          return c.leader;
        }));
  }
  Say("ctld leads");
  return absl::OkStatus();
}

absl::Status Launcher::WaitForShards(
    topo::Server& ts, const std::string& what,
    const std::function<std::string(const ShardHealth&)>& problem) {
  return WaitUntil(what, kStartTimeout, [&](std::string* detail) {
    for (const std::string& shard : plan_.shards) {
      absl::StatusOr<ShardHealth> h = ProbeShard(ts, plan_.options.keyspace, shard);
      *detail = h.ok() ? problem(*h) : std::string(h.status().message());
      if (!detail->empty()) return false;
    }
    return true;
  });
}

}  // namespace shale::local
