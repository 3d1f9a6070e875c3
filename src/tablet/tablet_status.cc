// TabletServer's status port: /healthz, /metrics (callback gauges beside the
// query counters of QueryStats), /debug/vars and the /debug/status section.

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/http/html.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"
#include "tablet/proto_time.h"
#include "tablet/tablet_server.h"

namespace shale::tablet {

absl::Status TabletServer::StartHttp() {
  if (!options_.enable_http) return absl::OkStatus();
  http::StatusServerOptions ho;
  ho.bind_address = options_.bind_address;
  ho.port = options_.http_port;
  ho.process_name = "tablet";
  ho.title = absl::StrCat("shale tablet ", options_.alias.ToString());
  http_ = std::make_unique<http::StatusServer>(ho, &metrics_);
  http_->SetHealthCallback([this]() -> absl::Status {
    absl::Status ready = ctx_.CheckReady();
    if (!ready.ok()) return ready;
    const std::string error = ctx_.state->health_error();
    if (!error.empty()) return absl::UnavailableError(error);
    return absl::OkStatus();
  });
  return http_->Start();
}

void TabletServer::ExportStatus() {
  auto add_gauge = [this](const char* name, const char* help, std::function<double()> fn) {
    absl::Status s = metrics_.AddCallbackGauge(name, help, [this, fn]() -> double {
      return ctx_.ready.load(std::memory_order_acquire) ? fn() : 0;
    });
    if (!s.ok()) spdlog::warn("metric {}: {}", name, s.ToString());
  };
  add_gauge("shale_tablet_open_transactions", "Interactive transactions open now.",
            [this] { return static_cast<double>(engine_->Stats().open_transactions); });
  add_gauge("shale_tablet_queries_in_flight", "Query-path calls being served now.",
            [this] { return static_cast<double>(admission_->in_flight()); });
  add_gauge("shale_tablet_serving", "1 if the tablet serves queries.",
            [this] { return state_->Snapshot().serving ? 1.0 : 0.0; });
  add_gauge("shale_tablet_read_only", "1 if the tablet refuses writes.",
            [this] { return RefusesWrites(ctx_, state_->Snapshot()) ? 1.0 : 0.0; });
  add_gauge("shale_tablet_type", "The tablet type (topodata.TabletType number).",
            [this] { return static_cast<double>(state_->type()); });
  add_gauge("shale_tablet_record_in_sync", "1 if the topology record matches the state.",
            [this] { return publisher_->Status().in_sync ? 1.0 : 0.0; });
  auto add_counter = [this](const char* name, const char* help, std::function<int64_t()> fn) {
    absl::Status s = metrics_.AddCallbackCounter(name, help, [this, fn]() -> double {
      return ctx_.ready.load(std::memory_order_acquire) ? static_cast<double>(fn()) : 0.0;
    });
    if (!s.ok()) spdlog::warn("metric {}: {}", name, s.ToString());
  };
  add_counter("shale_tablet_overload_rejections_total",
              "Calls turned away with RESOURCE_EXHAUSTED because too many were in flight.",
              [this] { return admission_->rejected(); });
  add_counter("shale_tablet_transactions_reaped_total",
              "Idle transactions rolled back by the reaper.",
              [this] { return engine_->Stats().transactions_reaped; });
  add_counter("shale_tablet_primary_pauses_total",
              "Pauses of this process as primary long enough to confirm its role with the "
              "topology before committing again (primary fence).",
              [this] { return replication_->fence().pauses(); });
  add_counter("shale_tablet_fence_refusals_total",
              "Commits refused or left unreleased by the primary fence after a pause.",
              [this] { return replication_->fence().refusals(); });

  if (http_ == nullptr) return;
  http_->AddVars("tablet", [this]() -> nlohmann::json {
    if (!ctx_.ready.load(std::memory_order_acquire)) return nullptr;
    std::string json;
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = true;
    o.always_print_primitive_fields = true;
    if (!google::protobuf::util::MessageToJsonString(MakeTabletState(ctx_), &json, o).ok()) {
      return nullptr;
    }
    return nlohmann::json::parse(json, nullptr, false);
  });
  http_->AddStatusSection("Tablet", [this]() -> std::string {
    if (!ctx_.ready.load(std::memory_order_acquire)) return "<p>starting</p>";
    const TabletState st = MakeTabletState(ctx_);
    const PublishStatus ps = publisher_->Status();
    auto yes = [](bool b) { return std::string(b ? "yes" : "no"); };
    std::vector<std::vector<std::string>> rows = {
        {"alias", topo::TabletAlias::FromProto(st.alias()).ToString()},
        {"keyspace/shard", absl::StrCat(st.target().keyspace(), "/", st.target().shard())},
        {"type", topodata::TabletType_Name(st.target().tablet_type())},
        {"serving", yes(st.serving())},
        {"read-only", yes(st.read_only())},
        {"primary term", absl::StrCat(st.primary_term())},
        {"term start",
         st.primary_term() > 0
             ? absl::FormatTime(FromProtoTime(st.primary_term_start_time()), absl::UTCTimeZone())
             : "-"},
        {"database", st.db_path()},
        {"open transactions", absl::StrCat(st.open_transactions())},
        {"queries in flight",
         absl::StrCat(admission_->in_flight(), " / ", admission_->max_in_flight())},
        {"gRPC port", absl::StrCat(grpc_port_)},
        {"record in sync", yes(ps.in_sync)},
        {"record error", ps.last_error.empty() ? "-" : ps.last_error},
        {"startup", absl::StrJoin(notes_, "; ")},
    };
    return http::HtmlTable({"field", "value"}, rows);
  });
}

}  // namespace shale::tablet
