#include "ctl/delete_tablet.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace shale::ctl {
namespace {

bool Lists(const topodata::ShardReplication& r, const topo::TabletAlias& alias) {
  return std::any_of(r.nodes().begin(), r.nodes().end(), [&](const auto& n) {
    return topo::TabletAlias::FromProto(n.tablet_alias()) == alias;
  });
}

bool NamesPrimary(const topodata::Shard& shard, const topo::TabletAlias& alias) {
  return !shard.primary_alias().cell().empty() &&
         topo::TabletAlias::FromProto(shard.primary_alias()) == alias;
}

// FailedPrecondition when shard names alias as primary and that is not allowed.
absl::Status CheckPrimary(const topo::ShardInfo& shard, const topo::TabletAlias& alias,
                          const DeleteTabletOptions& options, const DeleteTabletResult& result) {
  if (options.allow_primary || !NamesPrimary(shard.record, alias)) return absl::OkStatus();
  const std::string shard_name = absl::StrCat(result.keyspace, "/", result.shard);
  return absl::FailedPreconditionError(absl::StrCat(
      "tablet ", alias.ToString(), " is the primary of shard ", shard_name, " (term ",
      shard.record.primary_term(), "); move the primary first (shale ctl PlannedReparentShard ",
      shard_name, "), or pass --allow-primary to delete it anyway"));
}

// With the shard lock held (or no Shard record): refuses or clears the
// primary, then deletes the Tablet record and the ShardReplication entry.
absl::Status DeleteLocked(topo::Server& ts, const topo::TabletAlias& alias,
                          const DeleteTabletOptions& options, DeleteTabletResult* result) {
  absl::StatusOr<topo::ShardInfo> shard = ts.GetShard(result->keyspace, result->shard);
  if (!shard.ok() && !absl::IsNotFound(shard.status())) return shard.status();
  if (shard.ok()) {
    RETURN_IF_ERROR(CheckPrimary(*shard, alias, options, *result));
    if (NamesPrimary(shard->record, alias)) {
      RETURN_IF_ERROR(ts.UpdateShardFields(result->keyspace, result->shard,
                                           [&](topodata::Shard& s) -> absl::Status {
                                             if (NamesPrimary(s, alias)) s.clear_primary_alias();
                                             return absl::OkStatus();
                                           })
                          .status());
      result->cleared_shard_primary = true;
    }
  }
  RETURN_IF_ERROR(ts.DeleteTablet(alias));
  absl::StatusOr<topodata::ShardReplication> repl =
      ts.GetShardReplication(alias.cell, result->keyspace, result->shard);
  if (absl::IsNotFound(repl.status())) return absl::OkStatus();
  RETURN_IF_ERROR(repl.status());
  if (Lists(*repl, alias)) {
    RETURN_IF_ERROR(
        ts.UpdateShardReplication(alias.cell, result->keyspace, result->shard, alias, true));
    result->removed_from_shard_replication = true;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DeleteTabletResult> DeleteTablet(topo::Server& ts, const topo::TabletAlias& alias,
                                                const DeleteTabletOptions& options) {
  ASSIGN_OR_RETURN(topo::TabletInfo tablet, ts.GetTablet(alias));
  DeleteTabletResult result;
  result.alias = alias.ToString();
  result.keyspace = tablet.record.keyspace();
  result.shard = tablet.record.shard();
  if (result.keyspace.empty() || result.shard.empty()) {
    // Not in any shard: only the record itself.
    RETURN_IF_ERROR(ts.DeleteTablet(alias));
    return result;
  }
  // A refusal takes no lock; the check is repeated under the lock.
  absl::StatusOr<topo::ShardInfo> shard = ts.GetShard(result.keyspace, result.shard);
  if (shard.ok()) {
    RETURN_IF_ERROR(CheckPrimary(*shard, alias, options, result));
  }
  std::unique_ptr<topo::LockHandle> lock;
  absl::StatusOr<std::unique_ptr<topo::LockHandle>> locked =
      ts.LockShard(result.keyspace, result.shard, absl::StrCat("DeleteTablet ", result.alias),
                   options.lock_timeout);
  if (locked.ok()) {
    lock = *std::move(locked);
  } else if (!absl::IsNotFound(locked.status())) {
    return locked.status();  // a shard without a record has nothing to race with
  }
  RETURN_IF_ERROR(DeleteLocked(ts, alias, options, &result));
  // The records are written; a failed unlock leaves a lease that expires on its own.
  if (lock != nullptr) lock->Unlock().IgnoreError();
  return result;
}

}  // namespace shale::ctl
