#include "tests/chaos/primary_sampler.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tablet/client/tablet_client.h"
#include "topo/open/open.h"
#include "topo/server.h"

namespace shale::chaos {

PrimarySampler::PrimarySampler(std::string topo_address,
                               std::map<std::string, std::vector<std::string>> shards,
                               absl::Duration period)
    : topo_address_(std::move(topo_address)), shards_(std::move(shards)), period_(period) {
  thread_ = std::thread([this] { Run(); });
}

PrimarySampler::~PrimarySampler() { Stop(); }

void PrimarySampler::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

int64_t PrimarySampler::rounds() const {
  absl::MutexLock l(&mu_);
  return rounds_;
}

std::vector<PrimaryOverlap> PrimarySampler::overlaps() const {
  absl::MutexLock l(&mu_);
  return overlaps_;
}

absl::Duration PrimarySampler::LongestOverlap() const {
  absl::MutexLock l(&mu_);
  return longest_;
}

void PrimarySampler::Run() {
  std::unique_ptr<topo::Server> ts;
  std::map<std::string, std::unique_ptr<tablet::TabletClient>> clients;
  while (!stop_.WaitForNotificationWithTimeout(period_)) {
    if (ts == nullptr) {
      topo::ConnOptions options;
      options.create_if_missing = false;
      auto conn = topo::OpenConn(topo_address_, options);
      if (!conn.ok()) continue;
      ts = std::make_unique<topo::Server>(*std::move(conn));
    }
    for (const auto& [shard, aliases] : shards_) {
      std::vector<std::pair<std::string, int64_t>> claims;
      for (const std::string& alias : aliases) {
        std::unique_ptr<tablet::TabletClient>& c = clients[alias];
        if (c == nullptr) {
          auto a = topo::TabletAlias::Parse(alias);
          auto found = a.ok() ? tablet::TabletClient::ForTablet(*ts, *a)
                              : absl::StatusOr<std::unique_ptr<tablet::TabletClient>>(a.status());
          if (!found.ok()) continue;
          c = *std::move(found);
        }
        auto r = c->Call(c->manager(), &tablet::TabletManager::Stub::GetState,
                         tablet::GetStateRequest(), absl::Milliseconds(300));
        if (!r.ok()) {
          c.reset();  // re-resolved next round: a restarted tablet has a new port
          continue;
        }
        const tablet::TabletState& s = r->state();
        if (s.target().tablet_type() == topodata::PRIMARY && s.serving() && !s.read_only()) {
          claims.emplace_back(alias, s.primary_term());
        }
      }
      const absl::Time now = absl::Now();
      absl::MutexLock l(&mu_);
      if (claims.size() < 2) {
        run_start_.erase(shard);
        continue;
      }
      PrimaryOverlap o;
      o.at = now;
      o.shard = shard;
      for (size_t i = 0; i < claims.size(); ++i) {
        o.claims.push_back(absl::StrCat(claims[i].first, " term ", claims[i].second));
        for (size_t j = 0; j < i; ++j) o.same_term |= claims[i].second == claims[j].second;
      }
      overlaps_.push_back(std::move(o));
      auto [it, fresh] = run_start_.emplace(shard, now);
      longest_ = std::max(longest_, now - it->second);
    }
    absl::MutexLock l(&mu_);
    ++rounds_;
  }
}

}  // namespace shale::chaos
