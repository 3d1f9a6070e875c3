// topo::Server methods for the global RoutingPolicy record.
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "topo/paths.h"
#include "topo/records.h"
#include "topo/server.h"

namespace shale::topo {

topodata::RoutingPolicy DefaultRoutingPolicy() {
  constexpr int64_t kLowLag = 30;         // seconds
  constexpr int64_t kHighLag = 2 * 3600;  // seconds
  constexpr int32_t kMinServing = 2;
  topodata::RoutingPolicy p;
  auto add = [&](topodata::RoutingPolicy::Scope scope, int64_t lag, int32_t min) {
    auto* r = p.add_rules();
    r->set_scope(scope);
    r->set_max_lag_seconds(lag);
    r->set_min_serving_tablets(min);
  };
  add(topodata::RoutingPolicy::LOCAL_CELL, kLowLag, kMinServing);
  add(topodata::RoutingPolicy::SAME_REGION, kLowLag, kMinServing);
  add(topodata::RoutingPolicy::LOCAL_CELL, kHighLag, 1);
  p.set_never_above_lag_seconds(kHighLag);
  return p;
}

absl::StatusOr<topodata::RoutingPolicy> Server::GetRoutingPolicy() {
  auto r = GetRecord<topodata::RoutingPolicy>(*global_, paths::RoutingPolicy());
  if (absl::IsNotFound(r.status())) return DefaultRoutingPolicy();
  return r;
}

absl::Status Server::SetRoutingPolicy(const topodata::RoutingPolicy& policy) {
  if (policy.rules().empty()) {
    return absl::InvalidArgumentError("routing policy needs at least one rule");
  }
  if (policy.never_above_lag_seconds() < 0) {
    return absl::InvalidArgumentError("routing policy: never_above_lag_seconds is negative");
  }
  for (int i = 0; i < policy.rules_size(); ++i) {
    const auto& r = policy.rules(i);
    if (r.max_lag_seconds() <= 0 || r.min_serving_tablets() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "routing policy rule ", i + 1, ": max_lag_seconds must be positive and "
          "min_serving_tablets not negative"));
    }
  }
  return PutRecord(*global_, paths::RoutingPolicy(), policy);
}

}  // namespace shale::topo
