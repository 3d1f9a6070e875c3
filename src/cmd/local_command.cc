#include "cmd/local_command.h"

#include <limits.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "local/launcher.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace shale::cmd {
namespace {

constexpr char kUpFooter[] = R"(
Starts a whole cluster on this machine: the topology (the sqlite file
DIR/topo.db, or an etcd / ZooKeeper server with its data under DIR), cells
zone1..zoneN, the keyspace (hash-sharded by column `id`, semi_sync durability
when it has replicas) with --shards equal key ranges, ctld (failover, DDL,
the dashboard), 1 + --replicas tablets per shard spread over the cells, the
first primaries, the serving graph, and a gateway. Every process runs
detached, logs to DIR/logs/NAME.log, and is recorded in DIR/local.json.
It waits until every tablet serves and the gateway answers, then prints the
psql command line, the topology address and the dashboard URL.

Ports, from --base-port B (default 15000): ctld B (dashboard) and B+1,
etcd/ZooKeeper B+2 and B+3, the gateway's HTTP B+10, gRPC B+11 and PostgreSQL
B+432 (15432), tablet i B+100+3i..B+102+3i. They are checked before anything
starts.

Running it again is safe: a running cluster is reported as is; a stopped one
is started again with the same processes and data (its records are kept and
each shard resumes its primary). A recorded cluster keeps its layout: leave
the layout flags out, or use another --data-dir.)";

constexpr char kStatusFooter[] = R"(
Prints every process of the cluster in DIR: name, pid, alive, ports, and its
health (tablets: live type and serving; ctld: leader; the gateway: answers
and how many tablets it serves). Exit code 0 when all are healthy, 1 if not.)";

constexpr char kDownFooter[] = R"(
Stops the cluster in DIR: the gateway, then ctld, the tablets, and the
topology server, each with SIGTERM and, if it has not exited after a
deadline (15 s; tablets 30 s), SIGKILL with a message. The data stays in DIR
for the next `shale local up`. Safe to run when nothing runs.)";

void AddDataDir(CLI::App* cmd, LocalFlags* f) {
  cmd->add_option("--data-dir", f->options.data_dir,
                  "Directory of the cluster's data, logs and local.json")
      ->required();
  cmd->add_flag("-v,--verbose", f->verbose, "Also show the libraries' logs on stderr");
}

// The running binary, for the children.
std::string SelfPath() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "shale";
  return std::string(buf, n);
}

int Fail(const absl::Status& s) {
  std::string message(s.message());
  std::cerr << "error: " << message << std::endl;
  return 1;
}

}  // namespace

void AddLocalCommand(CLI::App& app, LocalFlags* f) {
  CLI::App* local = app.add_subcommand(
      "local", "A whole cluster on this machine: up, status, down (zero configuration)");
  local->require_subcommand(1);

  CLI::App* up =
      local->add_subcommand("up", "Start (or restart) a local cluster and wait until it serves");
  up->footer(kUpFooter);
  AddDataDir(up, f);
  local::LocalOptions& o = f->options;
  CLI::Option* shards = up->add_option("--shards", o.shards, "Shards (equal key ranges)")
                            ->check(CLI::Range(1, 64))
                            ->capture_default_str();
  CLI::Option* replicas =
      up->add_option("--replicas", o.replicas, "Replicas per shard, besides its primary")
          ->check(CLI::Range(0, 8))
          ->capture_default_str();
  CLI::Option* cells = up->add_option("--cells", o.cells, "Cells zone1..zoneN")
                           ->check(CLI::Range(1, 9))
                           ->capture_default_str();
  CLI::Option* topo = up->add_option("--topo", o.topo, "Topology: sqlite, etcd or zk")
                          ->check(CLI::IsMember({"sqlite", "etcd", "zk"}))
                          ->capture_default_str();
  CLI::Option* keyspace =
      up->add_option("--keyspace", o.keyspace, "Keyspace name (the psql database)")
          ->capture_default_str();
  CLI::Option* base_port =
      up->add_option("--base-port", o.base_port, "First port of the cluster's range")
          ->check(CLI::Range(1024, 65535 - local::kPgPortOffset))
          ->capture_default_str();
  up->callback([f, shards, replicas, cells, topo, keyspace, base_port] {
    f->action = "up";
    const std::pair<const char*, CLI::Option*> flags[] = {
        {"shards", shards}, {"replicas", replicas}, {"cells", cells},
        {"topo", topo},     {"keyspace", keyspace}, {"base-port", base_port}};
    for (const auto& [name, option] : flags) {
      if (option->count() > 0) f->given.insert(name);
    }
  });

  CLI::App* status =
      local->add_subcommand("status", "Show the local cluster's processes and health");
  status->footer(kStatusFooter);
  AddDataDir(status, f);
  status->callback([f] { f->action = "status"; });

  CLI::App* down = local->add_subcommand("down", "Stop the local cluster (its data stays)");
  down->footer(kDownFooter);
  AddDataDir(down, f);
  down->callback([f] { f->action = "down"; });
}

int RunLocal(const LocalFlags& f) {
  auto logger = spdlog::stderr_color_mt("local");
  spdlog::set_default_logger(logger);
  spdlog::set_level(f.verbose ? spdlog::level::info : spdlog::level::off);
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::absolute(f.options.data_dir, ec);
  if (ec) return Fail(absl::InvalidArgumentError("--data-dir: " + ec.message()));
  dir = dir.lexically_normal();
  std::string data_dir = dir.string();
  while (data_dir.size() > 1 && data_dir.back() == '/') data_dir.pop_back();

  local::Launcher launcher(SelfPath(), &std::cout);
  if (f.action == "up") {
    local::LocalOptions options = f.options;
    options.data_dir = data_dir;
    absl::Status s = launcher.Up(options, f.given);
    if (s.ok()) return 0;
    Fail(s);
    if (!absl::IsInvalidArgument(s) && !absl::IsFailedPrecondition(s)) {
      std::cerr << "What started keeps running: `shale local status --data-dir " << data_dir
                << "` shows it, `shale local down --data-dir " << data_dir << "` stops it."
                << std::endl;
    }
    return 1;
  }
  if (f.action == "status") {
    absl::StatusOr<bool> healthy = launcher.Status(data_dir);
    if (!healthy.ok()) return Fail(healthy.status());
    return *healthy ? 0 : 1;
  }
  absl::Status s = launcher.Down(data_dir);
  return s.ok() ? 0 : Fail(s);
}

}  // namespace shale::cmd
