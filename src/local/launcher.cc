#include "local/launcher.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/wait_for.h"
#include "local/process_control.h"
#include "topo/etcd/etcd_server_command.h"
#include "topo/zk/zk_server_command.h"

namespace shale::local {
namespace {

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
    // clang-format off
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
    // clang-format on
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
                                 const std::function<bool(std::string* detail)>& cond) {
  std::string detail;
  absl::Status died;
  bool ok = WaitFor(timeout, [&] {
    for (const PlannedProcess* p : watch_) {
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
    const absl::Duration timeout =
        std::string(kind) == "tablet" ? absl::Seconds(30) : absl::Seconds(15);
    std::vector<std::string> l =
        StopAll(targets, timeout, [this](const std::string& line) { Say(line); });
    left.insert(left.end(), l.begin(), l.end());
  }
  if (!left.empty()) {
    return absl::InternalError(
        absl::StrCat("still running after SIGKILL: ", absl::StrJoin(left, ", ")));
  }
  *out_ << (any ? "stopped the cluster in " : "the cluster in ") << data_dir
        << (any ? "" : " is not running") << "; its data stays there (`shale local up "
        << "--data-dir " << data_dir << "` starts it again)" << std::endl;
  return absl::OkStatus();
}

}  // namespace shale::local
