#include "local/cluster_health.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "ctl/shard_tablets.h"
#include "nlohmann/json.hpp"

namespace shale::local {
namespace {

constexpr absl::Duration kProbeTimeout = absl::Seconds(2);

// GET http://127.0.0.1:port/path; the body, or the error in *error.
bool HttpGet(int port, const std::string& path, std::string* body, std::string* error) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(2);
  httplib::Result r = client.Get(path);
  if (!r) {
    *error = absl::StrCat("no answer on port ", port, " (", httplib::to_string(r.error()), ")");
    return false;
  }
  if (r->status != 200) {
    *error = absl::StrCat(path, " answers ", r->status, ": ", r->body);
    return false;
  }
  *body = r->body;
  return true;
}

}  // namespace

bool ShardHealth::has_serving_primary() const {
  for (const TabletHealth& t : tablets) {
    if (t.alias == primary && t.type == "PRIMARY" && t.serving) return true;
  }
  return false;
}

bool ShardHealth::all_serving() const {
  if (!has_serving_primary()) return false;
  for (const TabletHealth& t : tablets) {
    if (!t.serving) return false;
  }
  return true;
}

absl::StatusOr<ShardHealth> ProbeShard(topo::Server& ts, const std::string& keyspace,
                                       const std::string& shard) {
  ShardHealth health;
  health.shard = shard;
  absl::StatusOr<topo::ShardInfo> info = ts.GetShard(keyspace, shard);
  if (!info.ok()) return info.status();
  if (info->record.has_primary_alias()) {
    health.primary = topo::TabletAlias::FromProto(info->record.primary_alias()).ToString();
  }
  absl::StatusOr<std::vector<ctl::ShardTablet>> tablets =
      ctl::FindShardTablets(ts, keyspace, shard, nullptr);
  if (!tablets.ok()) return tablets.status();
  ctl::ProbeTablets(ctl::AllOf(*tablets), kProbeTimeout);
  for (const ctl::ShardTablet& t : *tablets) {
    TabletHealth h;
    h.alias = t.name();
    if (t.reachable()) {
      h.type = topodata::TabletType_Name(t.type);
      h.serving = t.serving;
    } else {
      h.error = t.client == nullptr ? "no client" : std::string(t.reach.message());
    }
    health.tablets.push_back(std::move(h));
  }
  return health;
}

GateHealth ProbeGate(int http_port) {
  GateHealth g;
  std::string body;
  if (!HttpGet(http_port, "/healthz", &body, &g.error)) return g;
  if (!HttpGet(http_port, "/debug/vars", &body, &g.error)) return g;
  g.answers = true;
  nlohmann::json vars = nlohmann::json::parse(body, nullptr, false);
  if (vars.is_discarded()) return g;
  const nlohmann::json& tablets = vars["vars"]["gate"]["tablets"];
  if (!tablets.is_array()) return g;
  for (const nlohmann::json& t : tablets) {
    ++g.tablets;
    if (t.value("serving", false)) ++g.serving;
  }
  return g;
}

CtldHealth ProbeCtld(int http_port) {
  CtldHealth c;
  std::string body;
  if (!HttpGet(http_port, "/debug/vars", &body, &c.error)) return c;
  c.answers = true;
  nlohmann::json vars = nlohmann::json::parse(body, nullptr, false);
  if (vars.is_discarded()) return c;
  const nlohmann::json& l = vars["vars"]["leadership"];
  c.leader = l.is_object() && l.value("is_leader", false);
  return c;
}

}  // namespace shale::local
