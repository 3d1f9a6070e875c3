#include "local/launcher.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/wait_for.h"
#include "ctl/rebuild.h"
#include "ctl/reparent.h"
#include "local/cluster_health.h"
#include "local/cluster_setup.h"
#include "local/process_control.h"
#include "topo/etcd/etcd_server_command.h"
#include "topo/zk/zk_server_command.h"

namespace shale::local {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(60);
constexpr absl::Duration kPrimaryGrace = absl::Seconds(20);

// The last lines of a log file, indented, for error messages.
std::string LogTail(const std::string& path, int lines = 8) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  size_t from = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
  std::string out;
  for (size_t i = from; i < all.size(); ++i) absl::StrAppend(&out, "\n    ", all[i]);
  return out;
}

std::string PortList(const std::map<std::string, int>& ports) {
  std::vector<std::string> parts;
  for (const auto& [name, port] : ports) parts.push_back(absl::StrCat(name, " ", port));
  return absl::StrJoin(parts, ", ");
}

// The ZooKeeper server's configuration, written once under DIR/zookeeper.
absl::Status WriteZkConfig(const std::string& dir, int port) {
  std::filesystem::create_directories(dir + "/data");
  std::ofstream cfg(dir + "/zoo.cfg", std::ios::trunc);
  cfg << "tickTime=500\ninitLimit=10\nsyncLimit=5\n"
      << "dataDir=" << dir << "/data\n"
      << "clientPort=" << port << "\n"
      << "clientPortAddress=127.0.0.1\n"
      << "admin.enableServer=false\n"
      << "4lw.commands.whitelist=srvr,stat,ruok\n"
      << "maxClientCnxns=0\n";
  cfg.close();
  if (!cfg) return absl::InternalError(absl::StrCat("cannot write ", dir, "/zoo.cfg"));
  return absl::OkStatus();
}

const char* kGivenFlagOrder[] = {"shards", "replicas", "cells", "topo", "keyspace", "base-port"};

std::string FlagValue(const LocalOptions& o, const std::string& flag) {
  if (flag == "shards") return absl::StrCat(o.shards);
  if (flag == "replicas") return absl::StrCat(o.replicas);
  if (flag == "cells") return absl::StrCat(o.cells);
  if (flag == "topo") return o.topo;
  if (flag == "keyspace") return o.keyspace;
  return absl::StrCat(o.base_port);
}

}  // namespace

Launcher::Launcher(std::string shale_binary, std::ostream* out)
    : shale_binary_(std::move(shale_binary)), out_(out), started_(absl::Now()) {}

void Launcher::Say(const std::string& line) {
  *out_ << absl::StrFormat("[%5.1fs] ", absl::ToDoubleSeconds(absl::Now() - started_)) << line
        << std::endl;
}

bool Launcher::Running(const std::string& name) const {
  const ProcessRecord* r = state_.Find(name);
  return r != nullptr && IsAlive(r->pid, r->argv);
}

absl::StatusOr<std::vector<std::string>> Launcher::CommandLine(const PlannedProcess& p) {
  const std::string& dir = plan_.options.data_dir;
  if (p.name == "etcd") {
    std::string etcd = topo::FindEtcdBinary();
    if (etcd.empty()) {
      return absl::NotFoundError(
          "--topo etcd: no etcd binary; install Debian's etcd-server (scripts/install-deps)");
    }
    const std::string client = absl::StrCat("http://127.0.0.1:", p.ports.at("client"));
    const std::string peer = absl::StrCat("http://127.0.0.1:", p.ports.at("peer"));
    return std::vector<std::string>{etcd,
                                    "--name", "local",
                                    "--data-dir", dir + "/etcd",
                                    "--listen-client-urls", client,
                                    "--advertise-client-urls", client,
                                    "--listen-peer-urls", peer,
                                    "--initial-advertise-peer-urls", peer,
                                    "--initial-cluster", "local=" + peer,
                                    "--initial-cluster-state", "new",
                                    "--initial-cluster-token", "shale-local",
                                    "--logger", "zap",
                                    "--log-outputs", "stderr",
                                    "--log-level", "warn"};
  }
  if (p.name == "zookeeper") {
    const std::string zk_dir = dir + "/zookeeper";
    if (absl::Status s = WriteZkConfig(zk_dir, p.ports.at("client")); !s.ok()) return s;
    return topo::ZkServerArgv(zk_dir + "/zoo.cfg");
  }
  std::vector<std::string> argv = {shale_binary_};
  argv.insert(argv.end(), p.args.begin(), p.args.end());
  return argv;
}

absl::Status Launcher::Start(const PlannedProcess& p) {
  absl::StatusOr<std::vector<std::string>> argv = CommandLine(p);
  if (!argv.ok()) return argv.status();
  absl::StatusOr<pid_t> pid = StartDetached(*argv, p.log);
  if (!pid.ok()) return pid.status();
  state_.Put({p.name, p.kind, *pid, *argv, p.ports, p.log});
  Say(absl::StrFormat("started %s (pid %d; %s)", p.name, *pid, PortList(p.ports)));
  return WriteState(plan_.options.data_dir, state_);
}

absl::Status Launcher::CheckStillRunning(const PlannedProcess& p) const {
  if (Running(p.name)) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat(p.name, " exited; the end of its log ", p.log, ":", LogTail(p.log)));
}

absl::Status Launcher::WaitUntil(const std::string& what, absl::Duration timeout,
                                 const std::vector<const PlannedProcess*>& watch,
                                 const std::function<bool(std::string* detail)>& cond) {
  std::string detail;
  absl::Status died;
  bool ok = WaitFor(timeout, [&] {
    for (const PlannedProcess* p : watch) {
      died = CheckStillRunning(*p);
      if (!died.ok()) return true;
    }
    return cond(&detail);
  });
  if (!died.ok()) return died;
  if (ok) return absl::OkStatus();
  return absl::DeadlineExceededError(absl::StrCat(what, " within ", absl::FormatDuration(timeout),
                                                  detail.empty() ? "" : ": ", detail,
                                                  " (logs: ", plan_.options.data_dir, "/logs/)"));
}

absl::Status Launcher::Up(const LocalOptions& flags, const std::set<std::string>& given) {
  LocalOptions options = flags;
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  const std::string& dir = options.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir + "/logs", ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, "/logs: ", ec.message()));
  absl::StatusOr<std::unique_ptr<DirLock>> lock = DirLock::Acquire(dir);
  if (!lock.ok()) return lock.status();

  absl::StatusOr<LocalState> recorded = ReadState(dir);
  if (recorded.ok()) {
    for (const char* flag : kGivenFlagOrder) {
      if (given.count(flag) && FlagValue(options, flag) != FlagValue(recorded->options, flag)) {
        return absl::InvalidArgumentError(absl::StrCat(
            dir, " holds a cluster made with --", flag, " ", FlagValue(recorded->options, flag),
            ", not ", FlagValue(options, flag),
            ": leave the flag out to restart it, or use another --data-dir"));
      }
    }
    options = recorded->options;
    options.data_dir = dir;
    state_ = *std::move(recorded);
  } else if (!absl::IsNotFound(recorded.status())) {
    return recorded.status();
  }
  absl::StatusOr<ClusterPlan> plan = MakePlan(options);
  if (!plan.ok()) return plan.status();
  plan_ = *std::move(plan);
  state_.options = options;
  state_.topo_address = plan_.topo_address;

  std::vector<const PlannedProcess*> to_start;
  for (const PlannedProcess& p : plan_.processes) {
    if (!Running(p.name)) to_start.push_back(&p);
  }
  if (to_start.empty()) {
    Say(absl::StrCat("the cluster in ", dir, " is already running"));
    PrintSummary();
    return absl::OkStatus();
  }
  for (const PlannedProcess* p : to_start) {
    for (const auto& [what, port] : p->ports) {
      absl::Status s = CheckPortFree(port);
      if (!s.ok()) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "port %d (%s %s) is in use (%s): stop what listens there (`ss -ltnp 'sport = :%d'`) "
            "or choose other ports with --base-port (this cluster uses %d to %d)",
            port, p->name, what, s.message(), port, options.base_port,
            options.base_port + kPgPortOffset));
      }
    }
  }
  Say(absl::StrCat(state_.processes.empty() ? "creating" : "starting", " the cluster in ", dir,
                   " (", plan_.shards.size(), " shards x ", options.replicas + 1,
                   " tablets, topology ", plan_.topo_address, ")"));

  // The topology.
  std::vector<const PlannedProcess*> topo_server;
  for (const PlannedProcess& p : plan_.processes) {
    if (p.kind != "topo") continue;
    topo_server.push_back(&p);
    if (!Running(p.name)) {
      if (absl::Status s = Start(p); !s.ok()) return s;
    }
  }
  std::unique_ptr<topo::Server> ts;
  absl::Status opened = WaitUntil("the topology did not answer", kStartTimeout, topo_server,
                                  [&](std::string* detail) {
                                    auto t = OpenTopology(plan_.topo_address, absl::Now());
                                    if (!t.ok()) {
                                      *detail = std::string(t.status().message());
                                      return false;
                                    }
                                    ts = *std::move(t);
                                    return true;
                                  });
  if (!opened.ok()) return opened;
  Say(absl::StrCat("topology ", plan_.topo_address, " ready"));
  if (absl::Status s = EnsureRecords(*ts, plan_, [this](const std::string& l) { Say(l); });
      !s.ok()) {
    return s;
  }

  // ctld, then the tablets.
  std::vector<const PlannedProcess*> tablets;
  for (const PlannedProcess& p : plan_.processes) {
    if (p.kind == "tablet") tablets.push_back(&p);
    if (p.kind != "ctld" && p.kind != "tablet") continue;
    if (!Running(p.name)) {
      if (absl::Status s = Start(p); !s.ok()) return s;
    }
  }
  std::vector<const PlannedProcess*> watch = topo_server;
  watch.insert(watch.end(), tablets.begin(), tablets.end());
  absl::Status up = WaitUntil("the tablets did not all answer", kStartTimeout, watch,
                              [&](std::string* detail) {
                                for (const std::string& shard : plan_.shards) {
                                  auto h = ProbeShard(*ts, options.keyspace, shard);
                                  if (!h.ok()) {
                                    *detail = std::string(h.status().message());
                                    return false;
                                  }
                                  if (h->tablets.size() < plan_.TabletsOf(shard).size()) {
                                    *detail = absl::StrCat("shard ", shard, " has ",
                                                           h->tablets.size(), " tablets");
                                    return false;
                                  }
                                  for (const TabletHealth& t : h->tablets) {
                                    if (!t.error.empty()) {
                                      *detail = absl::StrCat(t.alias, ": ", t.error);
                                      return false;
                                    }
                                  }
                                }
                                return true;
                              });
  if (!up.ok()) return up;
  Say(absl::StrCat("all ", tablets.size(), " tablets answer"));

  // Primaries: elect the first ones; a restarted shard resumes its own.
  for (const std::string& shard : plan_.shards) {
    absl::StatusOr<bool> elected = ElectIfNoPrimary(*ts, plan_, shard);
    if (!elected.ok()) return elected.status();
    if (*elected) {
      Say(absl::StrCat("elected ", plan_.TabletsOf(shard).front()->alias, " primary of ",
                       options.keyspace, "/", shard));
      continue;
    }
    absl::Status serving =
        WaitUntil("", kPrimaryGrace, watch, [&](std::string*) {
          auto h = ProbeShard(*ts, options.keyspace, shard);
          return h.ok() && h->has_serving_primary();
        });
    if (serving.ok()) continue;
    if (!absl::IsDeadlineExceeded(serving)) return serving;
    Say(absl::StrCat("shard ", shard, " has no serving primary after ",
                     absl::FormatDuration(kPrimaryGrace), ": EmergencyReparentShard"));
    ctl::ReparentOptions ro;
    ro.reason = "shale local up: no serving primary";
    absl::StatusOr<ctl::ReparentResult> r =
        ctl::EmergencyReparentShard(*ts, options.keyspace, shard, ro);
    if (!r.ok()) return r.status();
    Say(r->message);
  }
  if (absl::Status s = ctl::RebuildKeyspaceGraph(*ts, options.keyspace, {}, false); !s.ok()) {
    return s;
  }
  absl::Status serving = WaitUntil(
      "the tablets did not all serve", kStartTimeout, watch, [&](std::string* detail) {
        for (const std::string& shard : plan_.shards) {
          auto h = ProbeShard(*ts, options.keyspace, shard);
          if (!h.ok() || !h->all_serving()) {
            *detail = absl::StrCat("shard ", shard, " is not serving yet");
            return false;
          }
        }
        return true;
      });
  if (!serving.ok()) return serving;
  Say(absl::StrCat("every shard has a serving primary; serving graph of ", options.keyspace,
                   " rebuilt"));

  // The gateway.
  const PlannedProcess* gate = plan_.Find("gate");
  if (!Running(gate->name)) {
    if (absl::Status s = Start(*gate); !s.ok()) return s;
  }
  watch.push_back(gate);
  absl::Status gate_up = WaitUntil(
      "the gateway did not serve every tablet", kStartTimeout, watch, [&](std::string* detail) {
        GateHealth g = ProbeGate(gate->ports.at("http"));
        *detail = g.answers ? absl::StrCat("it serves ", g.serving, " of ", tablets.size())
                            : g.error;
        return g.answers && g.serving >= static_cast<int>(tablets.size());
      });
  if (!gate_up.ok()) return gate_up;
  Say(absl::StrCat("gateway serves all ", tablets.size(), " tablets"));

  // ctld leads (DDL and failover need it); after a crash the old leader's
  // lock expires first (its lease, 10 s).
  const PlannedProcess* ctld = plan_.Find("ctld");
  if (!ProbeCtld(ctld->ports.at("http")).leader) {
    Say("waiting for ctld to lead (a crashed leader's lock expires within 10 s)");
    absl::Status leads =
        WaitUntil("ctld did not become the leader", kStartTimeout, {ctld},
                  [&](std::string* detail) {
                    CtldHealth c = ProbeCtld(ctld->ports.at("http"));
                    *detail = c.answers ? "it stands by" : c.error;
                    return c.leader;
                  });
    if (!leads.ok()) return leads;
  }
  Say("ctld leads");
  PrintSummary();
  return absl::OkStatus();
}

void Launcher::PrintSummary() {
  *out_ << "\nShale is running (data in " << plan_.options.data_dir << "):\n"
        << "  SQL:        " << plan_.psql_command() << "\n"
        << "  topology:   shale ctl --topo " << plan_.topo_address << " ...\n"
        << "  dashboard:  " << plan_.dashboard_url() << "\n"
        << "  status:     shale local status --data-dir " << plan_.options.data_dir << "\n"
        << "  stop:       shale local down --data-dir " << plan_.options.data_dir << "\n";
  out_->flush();
}

absl::Status Launcher::Down(const std::string& data_dir) {
  absl::StatusOr<std::unique_ptr<DirLock>> lock = DirLock::Acquire(data_dir);
  if (!lock.ok()) {
    if (!std::filesystem::exists(data_dir)) {
      *out_ << "nothing to stop: " << data_dir << " does not exist" << std::endl;
      return absl::OkStatus();
    }
    return lock.status();
  }
  absl::StatusOr<LocalState> state = ReadState(data_dir);
  if (absl::IsNotFound(state.status())) {
    *out_ << "nothing to stop: no cluster in " << data_dir << std::endl;
    return absl::OkStatus();
  }
  if (!state.ok()) return state.status();
  std::vector<std::string> left;
  bool any = false;
  for (const char* kind : {"gate", "ctld", "tablet", "topo"}) {
    std::vector<StopTarget> targets;
    for (const ProcessRecord& p : state->processes) {
      if (p.kind == kind && IsAlive(p.pid, p.argv)) targets.push_back({p.name, p.pid, p.argv});
    }
    if (targets.empty()) continue;
    any = true;
    const absl::Duration timeout = std::string(kind) == "tablet" ? absl::Seconds(30)
                                                                 : absl::Seconds(15);
    std::vector<std::string> l =
        StopAll(targets, timeout, [this](const std::string& line) { Say(line); });
    left.insert(left.end(), l.begin(), l.end());
  }
  if (!left.empty()) {
    return absl::InternalError(absl::StrCat("still running after SIGKILL: ",
                                            absl::StrJoin(left, ", ")));
  }
  *out_ << (any ? "stopped the cluster in " : "the cluster in ") << data_dir
        << (any ? "" : " is not running") << "; its data stays there (`shale local up "
        << "--data-dir " << data_dir << "` starts it again)" << std::endl;
  return absl::OkStatus();
}

}  // namespace shale::local
