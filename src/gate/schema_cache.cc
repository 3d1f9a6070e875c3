#include "gate/schema_cache.h"

#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "topo/paths.h"

namespace shale::gate {

SchemaCache::SchemaCache(topo::Server* ts, discovery::SrvKeyspaceWatcher* serving,
                         std::string cell)
    : ts_(ts), serving_(serving), cell_(std::move(cell)) {
  serving_subscription_ = serving_->Subscribe([this](const discovery::ServingChange& change) {
    if (change.kind != discovery::ServingChange::Kind::kSrvKeyspace) return;
    absl::MutexLock lock(&mu_);
    ++serving_changes_;
  });
}

SchemaCache::~SchemaCache() { serving_->Unsubscribe(serving_subscription_); }

bool SchemaCache::WaitForSrvKeyspaceChange(const std::string& keyspace,
                                           const topodata::SrvKeyspace* seen,
                                           absl::Time deadline) {
  while (true) {
    int64_t changes;
    {
      absl::MutexLock lock(&mu_);
      changes = serving_changes_;
    }
    absl::StatusOr<std::shared_ptr<const topodata::SrvKeyspace>> now =
        serving_->GetSrvKeyspace(cell_, keyspace);
    if (now.ok() && now->get() != seen) return true;
    absl::MutexLock lock(&mu_);
    auto changed = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return serving_changes_ != changes; };
    if (!mu_.AwaitWithDeadline(absl::Condition(&changed), deadline)) return false;
  }
}

absl::StatusOr<KeyspaceSchema> SchemaCache::Get(absl::string_view keyspace) {
  return Get(keyspace, cell_);
}

absl::StatusOr<KeyspaceSchema> SchemaCache::Get(absl::string_view keyspace,
                                                absl::string_view cell) {
  absl::StatusOr<std::shared_ptr<const topodata::SrvKeyspace>> srv =
      serving_->GetSrvKeyspace(cell, keyspace);
  if (!srv.ok()) {
    if (absl::IsNotFound(srv.status())) {
      return SqlError(absl::StatusCode::kNotFound, sqlstate::kInvalidCatalogName,
                      absl::StrCat("keyspace \"", keyspace, "\" is not served in cell ", cell,
                                   " (no SrvKeyspace: does it exist? RebuildKeyspaceGraph "
                                   "publishes it)"));
    }
    return srv.status();
  }
  absl::StatusOr<std::shared_ptr<const topodata::VSchema>> vschema =
      VSchema(std::string(keyspace));
  if (!vschema.ok()) return vschema.status();
  return KeyspaceSchema(std::string(keyspace), *std::move(srv), *std::move(vschema));
}

void SchemaCache::Reload(const std::string& keyspace) {
  absl::MutexLock lock(&mu_);
  auto it = keyspaces_.find(keyspace);
  if (it == keyspaces_.end() || it->second.watch == nullptr) return;
  auto parsed = std::make_shared<topodata::VSchema>();
  if (std::optional<std::string> value = it->second.watch->value(); value.has_value()) {
    if (!parsed->ParseFromString(*value)) return;  // keep the last good one
  }
  it->second.vschema = std::move(parsed);
}

bool SchemaCache::WaitForVSchema(const std::string& keyspace,
                                 const std::function<bool(const topodata::VSchema&)>& done,
                                 absl::Duration timeout) {
  if (!VSchema(keyspace).ok()) return false;  // starts the watch
  auto ready = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    auto it = keyspaces_.find(keyspace);
    return it != keyspaces_.end() && it->second.vschema != nullptr && done(*it->second.vschema);
  };
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
}

absl::StatusOr<std::shared_ptr<const topodata::VSchema>> SchemaCache::VSchema(
    const std::string& keyspace) {
  {
    absl::MutexLock lock(&mu_);
    auto it = keyspaces_.find(keyspace);
    if (it != keyspaces_.end()) return it->second.vschema;
  }
  absl::MutexLock start(&start_mu_);
  {
    absl::MutexLock lock(&mu_);
    auto it = keyspaces_.find(keyspace);
    if (it != keyspaces_.end()) return it->second.vschema;
  }
  absl::StatusOr<std::unique_ptr<discovery::RecordWatch>> watch = discovery::RecordWatch::Start(
      ts_->global(),
      {topo::paths::VSchema(keyspace), topo::paths::KeyspaceDir(keyspace)},
      [this, keyspace](const std::string&) { Reload(keyspace); });
  if (!watch.ok()) return watch.status();
  {
    absl::MutexLock lock(&mu_);
    Entry& e = keyspaces_[keyspace];
    e.watch = *std::move(watch);
    e.vschema = std::make_shared<topodata::VSchema>();
  }
  Reload(keyspace);
  absl::MutexLock lock(&mu_);
  return keyspaces_[keyspace].vschema;
}

}  // namespace shale::gate
