#include "ctld/dashboard.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "google/protobuf/util/time_util.h"

namespace shale::ctld {
namespace {

std::string TimeString(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return "";
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(google::protobuf::util::TimeUtil::TimestampToNanoseconds(t));
}

const char* TabletStatus(const TabletView& t) {
  if (!t.stream_up) return "unreachable";
  return t.serving && t.health_error.empty() ? "serving" : "not serving";
}

nlohmann::json TabletJson(const TabletView& t, const std::string& primary) {
  return {{"alias", t.alias},
          {"keyspace", t.keyspace},
          {"shard", t.shard},
          {"type", t.type},
          {"status", TabletStatus(t)},
          {"serving", t.stream_up && t.serving && t.health_error.empty()},
          {"is_primary", !primary.empty() && t.alias == primary},
          {"lag_seconds", t.lag_seconds},
          {"log_position", t.log_position},
          {"primary_term", t.primary_term},
          {"health_error", t.health_error},
          {"last_error", t.last_error},
          {"address", t.address},
          {"last_message", TimeString(t.last_message)}};
}

nlohmann::json LeaderJson(const std::optional<topodata::CtldLeader>& leader) {
  if (!leader.has_value()) return nullptr;
  return {{"holder", leader->holder()},
          {"grpc_address", leader->grpc_address()},
          {"http_address", leader->http_address()},
          {"elected_at", leader->has_elected_at() ? TimeString(FromProto(leader->elected_at()))
                                                  : std::string()},
          {"term", leader->term()},
          {"resigned", leader->has_resigned_at()}};
}

nlohmann::json ChangeJson(const PrimaryChange& c) {
  return {{"time", TimeString(c.time)},       {"keyspace", c.keyspace},
          {"shard", c.shard},                 {"old_primary", c.old_primary},
          {"old_term", c.old_term},           {"new_primary", c.new_primary},
          {"new_term", c.new_term}};
}

}  // namespace

nlohmann::json BuildClusterJson(const ClusterView& view) {
  // Tablets by (keyspace, shard), primary first, then by alias.
  std::map<std::pair<std::string, std::string>, std::vector<const TabletView*>> by_shard;
  for (const TabletView& t : view.tablets) by_shard[{t.keyspace, t.shard}].push_back(&t);
  std::map<std::pair<std::string, std::string>, std::string> primaries;
  for (const ShardView& s : view.shards) primaries[{s.keyspace, s.name}] = s.primary;
  for (auto& [key, list] : by_shard) {
    const std::string& primary = primaries[key];
    std::sort(list.begin(), list.end(), [&primary](const TabletView* a, const TabletView* b) {
      return std::make_tuple(a->alias != primary, a->alias) <
             std::make_tuple(b->alias != primary, b->alias);
    });
  }

  // Keyspaces with a record, and those that only have shards.
  std::map<std::string, nlohmann::json> keyspaces;
  for (const KeyspaceView& k : view.keyspaces) {
    keyspaces[k.name] = {{"name", k.name},
                         {"sharding_column", k.sharding_column},
                         {"durability", k.durability},
                         {"shards", nlohmann::json::array()}};
  }
  std::vector<const ShardView*> shards;
  for (const ShardView& s : view.shards) shards.push_back(&s);
  std::sort(shards.begin(), shards.end(), [](const ShardView* a, const ShardView* b) {
    return std::tie(a->keyspace, a->range_start, a->name) <
           std::tie(b->keyspace, b->range_start, b->name);
  });
  std::set<std::pair<std::string, std::string>> placed;
  for (const ShardView* s : shards) {
    nlohmann::json& ks = keyspaces[s->keyspace];
    if (ks.is_null()) {
      ks = {{"name", s->keyspace},
            {"sharding_column", ""},
            {"durability", ""},
            {"shards", nlohmann::json::array()}};
    }
    nlohmann::json tablets = nlohmann::json::array();
    const std::pair<std::string, std::string> key(s->keyspace, s->name);
    for (const TabletView* t : by_shard[key]) tablets.push_back(TabletJson(*t, s->primary));
    placed.insert(key);
    ks["shards"].push_back({{"name", s->name},
                            {"primary", s->primary},
                            {"term", s->term},
                            {"term_start", TimeString(s->term_start)},
                            {"tablets", std::move(tablets)}});
  }
  nlohmann::json keyspace_list = nlohmann::json::array();
  for (auto& [name, ks] : keyspaces) keyspace_list.push_back(std::move(ks));

  nlohmann::json others = nlohmann::json::array();
  for (const auto& [key, list] : by_shard) {
    if (placed.contains(key)) continue;
    for (const TabletView* t : list) others.push_back(TabletJson(*t, ""));
  }
  nlohmann::json changes = nlohmann::json::array();
  for (const PrimaryChange& c : view.primary_changes) changes.push_back(ChangeJson(c));
  nlohmann::json failovers = nlohmann::json::array();
  for (const ReparentEvent& e : view.failovers) failovers.push_back(e.ToJson());

  return {{"generated_at", TimeString(view.now)},
          {"topology_error", view.topology_error},
          {"ctld", {{"holder", view.self_holder}, {"is_leader", view.self_is_leader}}},
          {"leader", LeaderJson(view.leader)},
          {"keyspaces", std::move(keyspace_list)},
          {"other_tablets", std::move(others)},
          {"primary_changes", std::move(changes)},
          {"failovers", std::move(failovers)},
          {"failovers_kept", view.self_is_leader}};
}

Dashboard::Dashboard(ClusterWatcher* cluster, LeaderElection* election,
                     const ReparentHistory* failovers)
    : cluster_(cluster), election_(election), failovers_(failovers) {}

ClusterView Dashboard::View() const {
  ClusterView view = cluster_->View();
  if (election_ != nullptr) {
    view.self_holder = election_->holder();
    view.self_is_leader = election_->IsLeader();
  }
  if (failovers_ != nullptr) view.failovers = failovers_->Recent();
  return view;
}

absl::Status Dashboard::Register(http::StatusServer& server) {
  server.ReplaceIndex([](const http::HttpRequest&) {
    return http::HttpResponse::Html(200, DashboardPageHtml());
  });
  return server.Handle("/api/cluster", [this](const http::HttpRequest&) {
    return http::HttpResponse::Json(
        200, BuildClusterJson(View()).dump(-1, ' ', false,
                                           nlohmann::json::error_handler_t::replace));
  });
}

}  // namespace shale::ctld
