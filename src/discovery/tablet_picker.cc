#include "discovery/tablet_picker.h"

#include <functional>
#include <memory>

#include "absl/strings/str_cat.h"
#include "topo/server.h"

namespace shale::discovery {
namespace {

using Scope = topodata::RoutingPolicy::Scope;

bool UnderLimit(double lag_seconds, int64_t limit_seconds) {
  return limit_seconds <= 0 || lag_seconds <= static_cast<double>(limit_seconds);
}

std::string RegionOf(const RoutingView& view, const std::string& cell) {
  if (view.cells == nullptr) return "";
  auto it = view.cells->find(cell);
  return it == view.cells->end() ? "" : it->second.region();
}

bool InScope(const RoutingView& view, Scope scope, const std::string& local_region,
             const std::string& cell) {
  switch (scope) {
    case topodata::RoutingPolicy::LOCAL_CELL:
      return cell == view.local_cell;
    case topodata::RoutingPolicy::SAME_REGION:
      // A cell without a region shares one with no other cell.
      return cell == view.local_cell || (!local_region.empty() && RegionOf(view, cell) == local_region);
    default:
      return true;
  }
}

std::vector<TabletHealthPtr> Filter(const std::vector<TabletHealthPtr>& tablets,
                                    const std::function<bool(const TabletHealth&)>& keep) {
  std::vector<TabletHealthPtr> out;
  for (const TabletHealthPtr& t : tablets) {
    if (keep(*t)) out.push_back(t);
  }
  return out;
}

std::string Seconds(double s) { return absl::FormatDuration(absl::Seconds(s)); }

}  // namespace

Candidates SelectCandidates(const std::vector<TabletHealthPtr>& tablets, const RoutingView& view) {
  const topodata::RoutingPolicy& policy = *view.policy;
  const int64_t never_above = policy.never_above_lag_seconds();
  const std::vector<TabletHealthPtr> usable = Filter(tablets, [never_above](const TabletHealth& t) {
    return t.IsServing() && UnderLimit(t.replication_lag_seconds, never_above);
  });
  const std::string local_region = RegionOf(view, view.local_cell);
  for (int i = 0; i < policy.rules_size(); ++i) {
    const topodata::RoutingPolicy::Rule& rule = policy.rules(i);
    Candidates c{Filter(usable,
                        [&](const TabletHealth& t) {
                          return InScope(view, rule.scope(), local_region, t.alias.cell) &&
                                 UnderLimit(t.replication_lag_seconds, rule.max_lag_seconds());
                        }),
                 i};
    if (!c.tablets.empty() && static_cast<int>(c.tablets.size()) >= rule.min_serving_tablets()) {
      return c;
    }
  }
  Candidates fallback{Filter(usable,
                             [&view](const TabletHealth& t) {
                               return t.alias.cell == view.local_cell;
                             }),
                      -1};
  if (fallback.tablets.empty()) fallback.tablets = usable;
  return fallback;
}

std::string DescribeNoTablet(const TargetKey& target, const std::vector<TabletHealthPtr>& tablets,
                             const topodata::RoutingPolicy& policy) {
  const std::string head = absl::StrCat("no serving ", TabletTypeName(target.type),
                                        " tablet for ", target.keyspace, "/", target.shard);
  if (tablets.empty()) return absl::StrCat(head, ": none known");
  int not_serving = 0, lagging = 0;
  double max_lag = 0;
  for (const TabletHealthPtr& t : tablets) {
    if (!t->IsServing()) {
      ++not_serving;
    } else if (!UnderLimit(t->replication_lag_seconds, policy.never_above_lag_seconds())) {
      ++lagging;
      max_lag = std::max(max_lag, t->replication_lag_seconds);
    }
  }
  std::string s = absl::StrCat(head, ": ", tablets.size(), " known");
  if (lagging > 0) {
    absl::StrAppend(&s, ", ", lagging, " lagging ", lagging > 1 ? "up to " : "", Seconds(max_lag),
                    " (over ", Seconds(static_cast<double>(policy.never_above_lag_seconds())),
                    ")");
  }
  if (not_serving > 0) absl::StrAppend(&s, ", ", not_serving, " not serving");
  return s;
}

TabletPicker::TabletPicker(std::string local_cell, const HealthCheck* health_check,
                           const SrvKeyspaceWatcher* serving_graph)
    : local_cell_(std::move(local_cell)),
      health_check_(health_check),
      serving_graph_(serving_graph),
      default_policy_(
          std::make_shared<const topodata::RoutingPolicy>(topo::DefaultRoutingPolicy())) {}

absl::StatusOr<PickedTablet> TabletPicker::Pick(absl::string_view keyspace,
                                                absl::string_view shard,
                                                topodata::TabletType type) {
  if (type == topodata::PRIMARY) {
    absl::StatusOr<TabletHealthPtr> primary = health_check_->GetPrimary(keyspace, shard);
    if (!primary.ok()) return primary.status();
    return PickedTablet{*primary, (*primary)->alias.cell};
  }
  if (type != topodata::REPLICA && type != topodata::RDONLY) {
    return absl::InvalidArgumentError(
        absl::StrCat("tablet type ", TabletTypeName(type), " serves no queries"));
  }
  const TargetKey target{std::string(keyspace), std::string(shard), type};
  std::shared_ptr<const topodata::RoutingPolicy> policy =
      serving_graph_ != nullptr ? serving_graph_->GetRoutingPolicy() : default_policy_;
  std::shared_ptr<const CellInfoMap> cells =
      serving_graph_ != nullptr ? serving_graph_->GetCells() : nullptr;
  const RoutingView view{local_cell_, cells.get(), policy.get()};
  // Every tablet of the target, so the error can say what was seen.
  TabletList all = health_check_->cache().All(target);
  Candidates c = SelectCandidates(*all, view);
  if (c.tablets.empty()) return absl::UnavailableError(DescribeNoTablet(target, *all, *policy));
  size_t i = 0;
  if (c.tablets.size() > 1) {
    absl::MutexLock l(&gen_mu_);
    i = absl::Uniform<size_t>(gen_, 0, c.tablets.size());
  }
  return PickedTablet{c.tablets[i], c.tablets[i]->alias.cell};
}

}  // namespace shale::discovery
