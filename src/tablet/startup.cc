#include "tablet/startup.h"

#include "absl/strings/str_cat.h"
#include "tablet/proto_time.h"
#include "base/status_macros.h"

namespace shale::tablet {
namespace {

absl::Status Mismatch(const topo::TabletAlias& alias, absl::string_view field,
                      absl::string_view recorded, absl::string_view flag) {
  return absl::FailedPreconditionError(absl::StrCat(
      "tablet ", alias.ToString(), " is recorded with ", field, " \"", recorded, "\" but --",
      field, " is \"", flag, "\"; the topology is authoritative: drop the flag, or delete the ",
      "tablet record (shale ctl DeleteTablet) to start afresh"));
}

// Creates the keyspace and shard records if they are missing.
absl::Status EnsureShard(topo::Server& ts, const std::string& keyspace, const std::string& shard,
                         std::vector<std::string>* notes) {
  absl::StatusOr<topo::KeyspaceInfo> ks = ts.GetKeyspace(keyspace);
  if (absl::IsNotFound(ks.status())) {
    absl::Status s = ts.CreateKeyspace(keyspace, topodata::Keyspace());
    if (!s.ok() && !absl::IsAlreadyExists(s)) return s;
    notes->push_back(absl::StrCat("created keyspace ", keyspace));
  } else if (!ks.ok()) {
    return ks.status();
  }
  absl::StatusOr<topo::ShardInfo> sh = ts.GetShard(keyspace, shard);
  if (absl::IsNotFound(sh.status())) {
    absl::Status s = ts.CreateShard(keyspace, shard);
    if (!s.ok() && !absl::IsAlreadyExists(s)) return s;
    notes->push_back(absl::StrCat("created shard ", keyspace, "/", shard));
    return absl::OkStatus();
  }
  return sh.status();
}

// Settles a PRIMARY record against the Shard record (see the header).
absl::Status SettlePrimary(topo::Server& ts, absl::Time now, topodata::Tablet* record,
                           std::vector<std::string>* notes) {
  const topo::TabletAlias self = topo::TabletAlias::FromProto(record->alias());
  std::string other;  // another primary that wins, if any
  int64_t other_term = 0;
  absl::StatusOr<topodata::Shard> updated = ts.UpdateShardFields(
      record->keyspace(), record->shard(), [&](topodata::Shard& shard) -> absl::Status {
        other.clear();
        const bool named = !shard.primary_alias().cell().empty();
        if (named && topo::TabletAlias::FromProto(shard.primary_alias()) == self) {
          return absl::CancelledError("named");  // nothing to write
        }
        if (named && shard.primary_term() >= record->primary_term()) {
          other = topo::TabletAlias::FromProto(shard.primary_alias()).ToString();
          other_term = shard.primary_term();
          return absl::CancelledError("other");
        }
        *shard.mutable_primary_alias() = record->alias();
        shard.set_primary_term(std::max(shard.primary_term(), record->primary_term()) + 1);
        *shard.mutable_primary_term_start_time() = ToProtoTime(now);
        return absl::OkStatus();
      });
  if (updated.ok()) {
    record->set_primary_term(updated->primary_term());
    *record->mutable_primary_term_start_time() = updated->primary_term_start_time();
    notes->push_back(absl::StrCat("claimed shard ", record->keyspace(), "/", record->shard(),
                                  " as primary with term ", updated->primary_term()));
    return absl::OkStatus();
  }
  if (!absl::IsCancelled(updated.status())) return updated.status();
  if (!other.empty()) {
    record->set_type(topodata::REPLICA);
    notes->push_back(absl::StrCat("shard record names primary ", other, " with term ", other_term,
                                  " (ours: ", record->primary_term(), "); starting as REPLICA"));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(topo::ShardInfo shard, ts.GetShard(record->keyspace(), record->shard()));
  record->set_primary_term(shard.record.primary_term());
  *record->mutable_primary_term_start_time() = shard.record.primary_term_start_time();
  notes->push_back(absl::StrCat("resuming as primary with term ", shard.record.primary_term()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<StartupResult> ResolveStartup(topo::Server& ts, const StartupOptions& options,
                                             absl::Time now) {
  StartupResult result;
  const topo::TabletAlias& alias = options.alias;
  absl::StatusOr<topo::CellConn> cell = ts.ForCell(alias.cell);
  if (absl::IsNotFound(cell.status())) {
    return absl::NotFoundError(absl::StrCat("cell ", alias.cell,
                                            " is not registered: run shale ctl AddCellInfo ",
                                            alias.cell, " first"));
  }
  RETURN_IF_ERROR(cell.status());

  absl::StatusOr<topo::TabletInfo> existing = ts.GetTablet(alias);
  topodata::Tablet& record = result.record;
  if (existing.ok()) {
    record = existing->record;
    if (!options.keyspace.empty() && options.keyspace != record.keyspace()) {
      return Mismatch(alias, "keyspace", record.keyspace(), options.keyspace);
    }
    if (!options.shard.empty() && options.shard != record.shard()) {
      return Mismatch(alias, "shard", record.shard(), options.shard);
    }
    if (!options.db_name.empty() && options.db_name != record.db_name()) {
      return Mismatch(alias, "db-name", record.db_name(), options.db_name);
    }
    if (options.init_type != topodata::UNKNOWN && options.init_type != record.type()) {
      result.notes.push_back(absl::StrCat(
          "--init-type ", topodata::TabletType_Name(options.init_type),
          " not used: resuming the recorded type ", topodata::TabletType_Name(record.type())));
    } else {
      result.notes.push_back(
          absl::StrCat("resuming the recorded type ", topodata::TabletType_Name(record.type())));
    }
  } else if (absl::IsNotFound(existing.status())) {
    if (options.keyspace.empty() || options.shard.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tablet ", alias.ToString(), " has no record yet: --keyspace and --shard are required"));
    }
    RETURN_IF_ERROR(EnsureShard(ts, options.keyspace, options.shard, &result.notes));
    result.created = true;
    *record.mutable_alias() = alias.ToProto();
    record.set_keyspace(options.keyspace);
    record.set_shard(options.shard);
    record.set_db_name(options.db_name.empty() ? options.keyspace : options.db_name);
    record.set_type(options.init_type == topodata::UNKNOWN ? topodata::REPLICA
                                                           : options.init_type);
    result.notes.push_back(absl::StrCat("new tablet record with type ",
                                        topodata::TabletType_Name(record.type())));
  } else {
    return existing.status();
  }

  ASSIGN_OR_RETURN(topo::ShardInfo shard, ts.GetShard(record.keyspace(), record.shard()));
  *record.mutable_key_range() = shard.record.key_range();
  if (record.type() == topodata::PRIMARY) {
    RETURN_IF_ERROR(SettlePrimary(ts, now, &record, &result.notes));
  }
  record.set_hostname(options.hostname);
  record.clear_port_map();
  for (const auto& [name, port] : options.port_map) (*record.mutable_port_map())[name] = port;

  if (result.created) {
    absl::Status s = ts.CreateTablet(record);
    if (absl::IsAlreadyExists(s)) s = ts.PutTablet(record);
    RETURN_IF_ERROR(s);
  } else {
    RETURN_IF_ERROR(ts.PutTablet(record));
  }
  RETURN_IF_ERROR(
      ts.UpdateShardReplication(alias.cell, record.keyspace(), record.shard(), alias, false));
  return result;
}

}  // namespace shale::tablet
