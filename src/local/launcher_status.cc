// Launcher::Status: the table `shale local status` prints.

#include <iomanip>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "local/cluster_health.h"
#include "local/cluster_setup.h"
#include "local/launcher.h"
#include "local/process_control.h"

namespace shale::local {
namespace {

struct Row {
  std::string name, pid, alive, ports, health;
};

void PrintTable(std::ostream& out, const std::vector<Row>& rows) {
  Row header{"NAME", "PID", "ALIVE", "PORTS", "HEALTH"};
  size_t w[4] = {header.name.size(), header.pid.size(), header.alive.size(), header.ports.size()};
  for (const Row& r : rows) {
    w[0] = std::max(w[0], r.name.size());
    w[1] = std::max(w[1], r.pid.size());
    w[2] = std::max(w[2], r.alive.size());
    w[3] = std::max(w[3], r.ports.size());
  }
  auto line = [&](const Row& r) {
    out << std::left << std::setw(w[0] + 2) << r.name << std::setw(w[1] + 2) << r.pid
        << std::setw(w[2] + 2) << r.alive << std::setw(w[3] + 2) << r.ports << r.health << "\n";
  };
  line(header);
  for (const Row& r : rows) line(r);
}

std::string Ports(const std::map<std::string, int>& ports) {
  std::vector<std::string> parts;
  for (const auto& [name, port] : ports) parts.push_back(absl::StrCat(name, "=", port));
  return absl::StrJoin(parts, ",");
}

}  // namespace

absl::StatusOr<bool> Launcher::Status(const std::string& data_dir) {
  absl::StatusOr<LocalState> state = ReadState(data_dir);
  if (absl::IsNotFound(state.status())) {
    return absl::NotFoundError(absl::StrCat("no cluster in ", data_dir,
                                            " (start one with `shale local up --data-dir ",
                                            data_dir, "`)"));
  }
  if (!state.ok()) return state.status();
  absl::StatusOr<ClusterPlan> plan = MakePlan(state->options);
  if (!plan.ok()) return plan.status();
  bool healthy = true;
  std::vector<Row> rows;

  // The topology: a server process, or the sqlite file.
  absl::StatusOr<std::unique_ptr<topo::Server>> ts =
      OpenTopology(state->topo_address, absl::Now() + absl::Seconds(2), false);
  const std::string topo_health =
      ts.ok() ? std::string("answers") : absl::StrCat("down: ", ts.status().message());
  if (!ts.ok()) healthy = false;
  if (state->options.topo == "sqlite") {
    rows.push_back(
        {"topology", "-", "-", "-", absl::StrCat(state->topo_address, " ", topo_health)});
  }

  // Tablet health, shard by shard.
  std::map<std::string, std::string> tablet_health;  // alias -> text
  if (ts.ok()) {
    for (const std::string& shard : plan->shards) {
      absl::StatusOr<ShardHealth> h = ProbeShard(**ts, state->options.keyspace, shard);
      if (!h.ok()) {
        healthy = false;
        continue;
      }
      if (!h->all_serving()) healthy = false;
      for (const TabletHealth& t : h->tablets) {
        const std::string where = absl::StrCat(state->options.keyspace, "/", shard, " ");
        tablet_health[t.alias] =
            t.error.empty() ? absl::StrCat(where, t.type, t.serving ? " serving" : " not serving")
                            : absl::StrCat(where, "no answer: ", t.error);
      }
    }
  }

  const int tablets = state->options.shards * (state->options.replicas + 1);
  for (const PlannedProcess& p : plan->processes) {
    const ProcessRecord* r = state->Find(p.name);
    Row row{p.name, "-", "no", Ports(p.ports), "not started"};
    bool alive = r != nullptr && IsAlive(r->pid, r->argv);
    if (r != nullptr) row.pid = absl::StrCat(r->pid);
    if (!alive) {
      healthy = false;
      if (r != nullptr) row.health = "stopped";
      rows.push_back(row);
      continue;
    }
    row.alive = "yes";
    if (p.kind == "topo") {
      row.health = topo_health;
    } else if (p.kind == "ctld") {
      CtldHealth c = ProbeCtld(p.ports.at("http"));
      row.health = !c.answers ? absl::StrCat("no answer: ", c.error)
                              : (c.leader ? "leader" : "standby (no leader?)");
      if (!c.leader) healthy = false;
    } else if (p.kind == "tablet") {
      auto it = tablet_health.find(p.alias);
      row.health = it == tablet_health.end() ? "unknown" : it->second;
      if (it == tablet_health.end()) healthy = false;
    } else if (p.kind == "gate") {
      GateHealth g = ProbeGate(p.ports.at("http"));
      row.health = g.answers
                       ? absl::StrCat("answers; serves ", g.serving, " of ", tablets, " tablets")
                       : absl::StrCat("no answer: ", g.error);
      if (!g.answers || g.serving < tablets) healthy = false;
    }
    rows.push_back(row);
  }
  PrintTable(*out_, rows);
  *out_ << (healthy ? "healthy" : "NOT healthy") << " (" << plan->psql_command() << "; dashboard "
        << plan->dashboard_url() << ")" << std::endl;
  return healthy;
}

}  // namespace shale::local
