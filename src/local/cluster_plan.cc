#include "local/cluster_plan.h"

#include "absl/strings/str_cat.h"
#include "key/key_range.h"

namespace shale::local {
namespace {

std::string Port(int p) { return absl::StrCat(p); }

PlannedProcess Process(const LocalOptions& o, std::string name, std::string kind) {
  PlannedProcess p;
  p.log = absl::StrCat(o.data_dir, "/logs/", name, ".log");
  p.name = std::move(name);
  p.kind = std::move(kind);
  return p;
}

}  // namespace

const PlannedProcess* ClusterPlan::Find(const std::string& name) const {
  for (const PlannedProcess& p : processes) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<const PlannedProcess*> ClusterPlan::TabletsOf(const std::string& shard) const {
  std::vector<const PlannedProcess*> out;
  for (const PlannedProcess& p : processes) {
    if (p.kind == "tablet" && p.shard == shard) out.push_back(&p);
  }
  return out;
}

std::string ClusterPlan::dashboard_url() const {
  return absl::StrCat("http://127.0.0.1:", ctld_http_port(), "/");
}

std::string ClusterPlan::psql_command() const {
  return absl::StrCat("psql -h 127.0.0.1 -p ", pg_port(), " -U shale -d ", options.keyspace);
}

absl::Status ValidateOptions(const LocalOptions& o) {
  if (o.data_dir.empty()) return absl::InvalidArgumentError("--data-dir is required");
  if (o.shards < 1 || o.shards > 64) {
    return absl::InvalidArgumentError(absl::StrCat("--shards ", o.shards, ": use 1 to 64"));
  }
  if (o.replicas < 0 || o.replicas > 8) {
    return absl::InvalidArgumentError(absl::StrCat("--replicas ", o.replicas, ": use 0 to 8"));
  }
  if (o.cells < 1 || o.cells > 9) {
    return absl::InvalidArgumentError(absl::StrCat("--cells ", o.cells, ": use 1 to 9"));
  }
  if (o.shards * (o.replicas + 1) > kMaxTablets) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shards ", o.shards, " --replicas ", o.replicas, " make ",
                     o.shards * (o.replicas + 1), " tablets; at most ", kMaxTablets));
  }
  if (o.topo != "sqlite" && o.topo != "etcd" && o.topo != "zk") {
    return absl::InvalidArgumentError(absl::StrCat("--topo ", o.topo, ": use sqlite, etcd or zk"));
  }
  if (o.keyspace.empty() || o.keyspace.find_first_of("/ @:") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--keyspace \"", o.keyspace, "\": a plain name, e.g. app"));
  }
  if (o.base_port < 1024 || o.base_port + kPgPortOffset > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--base-port ", o.base_port, ": use 1024 to ", 65535 - kPgPortOffset));
  }
  return absl::OkStatus();
}

std::vector<std::string> ShardNames(int n) {
  if (n <= 1) return {"0"};
  std::vector<std::string> names;
  const unsigned __int128 space = static_cast<unsigned __int128>(1) << 64;
  auto bound = [&](int i) { return static_cast<uint64_t>(space * i / n); };
  for (int i = 0; i < n; ++i) {
    key::KeyRange r =
        i + 1 < n ? key::KeyRange::Bounded(bound(i), bound(i + 1)) : key::KeyRange::From(bound(i));
    names.push_back(r.ToString());
  }
  return names;
}

absl::StatusOr<ClusterPlan> MakePlan(const LocalOptions& o) {
  if (absl::Status s = ValidateOptions(o); !s.ok()) return s;
  ClusterPlan plan;
  plan.options = o;
  const int b = o.base_port;
  for (int c = 1; c <= o.cells; ++c) plan.cells.push_back(absl::StrCat("zone", c));
  plan.shards = ShardNames(o.shards);

  if (o.topo == "sqlite") {
    plan.topo_address = absl::StrCat("sqlite:", o.data_dir, "/topo.db");
  } else if (o.topo == "etcd") {
    PlannedProcess p = Process(o, "etcd", "topo");
    p.ports = {{"client", b + 2}, {"peer", b + 3}};
    plan.processes.push_back(std::move(p));
    plan.topo_address = absl::StrCat("etcd://127.0.0.1:", b + 2, "/shale");
  } else {
    PlannedProcess p = Process(o, "zookeeper", "topo");
    p.ports = {{"client", b + 2}};
    plan.processes.push_back(std::move(p));
    plan.topo_address = absl::StrCat("zk://127.0.0.1:", b + 2, "/shale");
  }

  PlannedProcess ctld = Process(o, "ctld", "ctld");
  ctld.ports = {{"http", b}, {"grpc", b + 1}};
  ctld.args = {"ctld",  "--topo",      plan.topo_address, "--http-port",
               Port(b), "--grpc-port", Port(b + 1)};
  plan.processes.push_back(std::move(ctld));

  int i = 0;
  for (size_t s = 0; s < plan.shards.size(); ++s) {
    for (int n = 0; n <= o.replicas; ++n, ++i) {
      const std::string cell = plan.cells[n % o.cells];
      const std::string alias = absl::StrCat(cell, "-", 100 * (s + 1) + n);
      PlannedProcess t = Process(o, absl::StrCat("tablet-", alias), "tablet");
      t.alias = alias;
      t.cell = cell;
      t.shard = plan.shards[s];
      const int port = b + 100 + 3 * i;
      t.ports = {{"grpc", port}, {"session", port + 1}, {"http", port + 2}};
      t.args = {"tablet",
                "--topo",
                plan.topo_address,
                "--alias",
                alias,
                "--keyspace",
                o.keyspace,
                "--shard",
                t.shard,
                "--init-type",
                "replica",
                "--data-dir",
                absl::StrCat(o.data_dir, "/tablets/", alias),
                "--grpc-port",
                Port(port),
                "--session-port",
                Port(port + 1),
                "--http-port",
                Port(port + 2),
                "--health-interval",
                "1"};
      plan.processes.push_back(std::move(t));
    }
  }

  PlannedProcess gate = Process(o, "gate", "gate");
  gate.ports = {{"pg", b + kPgPortOffset}, {"http", b + 10}, {"grpc", b + 11}};
  gate.args = {"gate",
               "--topo",
               plan.topo_address,
               "--cell",
               plan.cells[0],
               "--pg-port",
               Port(b + kPgPortOffset),
               "--http-port",
               Port(b + 10),
               "--grpc-port",
               Port(b + 11)};
  plan.processes.push_back(std::move(gate));
  return plan;
}

}  // namespace shale::local
