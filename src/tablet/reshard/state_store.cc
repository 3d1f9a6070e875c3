#include "tablet/reshard/state_store.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/status_macros.h"

namespace shale::tablet::reshard {
namespace {

using engine::Value;

constexpr char kColumns[] =
    "uid, source_keyspace, source_shard, reverse, start_seq, start_term, phase, pos_seq, "
    "pos_term, pos_row, rows_copied, tables_copied, tables_total, copying_table, "
    "events_applied, last_error, updated_at";

int64_t Int(const Value& v) { return v.is_null() ? 0 : v.int64(); }
std::string Text(const Value& v) { return v.is_null() ? std::string() : v.text(); }

StreamRecord FromRow(const engine::Row& r) {
  StreamRecord rec;
  StreamState& s = rec.state;
  s.set_uid(static_cast<uint32_t>(Int(r[0])));
  s.set_source_keyspace(Text(r[1]));
  s.set_source_shard(Text(r[2]));
  s.set_reverse(Int(r[3]) != 0);
  rec.start_seq = Int(r[4]);
  rec.start_term = Int(r[5]);
  s.set_phase(static_cast<StreamPhase>(Int(r[6])));
  s.mutable_position()->set_seq(Int(r[7]));
  s.mutable_position()->set_term(Int(r[8]));
  s.mutable_position()->set_row(static_cast<int32_t>(Int(r[9])));
  s.set_rows_copied(Int(r[10]));
  s.set_tables_copied(Int(r[11]));
  s.set_tables_total(Int(r[12]));
  s.set_copying_table(Text(r[13]));
  s.set_events_applied(Int(r[14]));
  s.set_last_error(Text(r[15]));
  s.set_updated_at_us(Int(r[16]));
  s.set_lag_ms(-1);
  return rec;
}

}  // namespace

bool SameSource(const StreamRecord& record, const topodata::Shard::SourceShard& source) {
  return record.state.source_keyspace() == source.keyspace() &&
         record.state.source_shard() == source.shard() &&
         record.state.reverse() == source.reverse() && record.start_seq == source.start_seq() &&
         record.start_term == source.start_term();
}

StreamRecord NewRecord(const topodata::Shard::SourceShard& source) {
  StreamRecord rec;
  StreamState& s = rec.state;
  s.set_uid(source.uid());
  s.set_source_keyspace(source.keyspace());
  s.set_source_shard(source.shard());
  s.set_reverse(source.reverse());
  rec.start_seq = source.start_seq();
  rec.start_term = source.start_term();
  if (source.start_seq() > 0) {
    s.set_phase(RUNNING);
    s.mutable_position()->set_seq(source.start_seq());
    s.mutable_position()->set_term(source.start_term());
  } else {
    s.set_phase(COPYING);
  }
  s.set_lag_ms(-1);
  return rec;
}

absl::Status CreateStateTable(engine::Engine& engine) {
  return engine.RunInternalWrite(
      [](engine::WriteTxn& txn) {
        return txn
            .Execute(absl::StrCat(
                         "CREATE TABLE IF NOT EXISTS ", kStateTable,
                         " (uid INTEGER PRIMARY KEY, source_keyspace TEXT NOT NULL, "
                         "source_shard TEXT NOT NULL, reverse INTEGER NOT NULL, "
                         "start_seq INTEGER NOT NULL, start_term INTEGER NOT NULL, "
                         "phase INTEGER NOT NULL, pos_seq INTEGER NOT NULL, "
                         "pos_term INTEGER NOT NULL, pos_row INTEGER NOT NULL, "
                         "rows_copied INTEGER NOT NULL, tables_copied INTEGER NOT NULL, "
                         "tables_total INTEGER NOT NULL, copying_table TEXT NOT NULL, "
                         "events_applied INTEGER NOT NULL, last_error TEXT NOT NULL, "
                         "updated_at INTEGER NOT NULL)"),
                     {}, engine::Access::kInternal)
            .status();
      },
      /*with_hook=*/false);
}

absl::StatusOr<std::optional<StreamRecord>> ReadRecord(engine::Engine& engine, uint32_t uid) {
  ASSIGN_OR_RETURN(engine::ResultSet rs,
                   engine.ExecuteInternal(absl::StrCat("SELECT ", kColumns, " FROM ", kStateTable,
                                                       " WHERE uid = ?1"),
                                          {Value(static_cast<int64_t>(uid))}));
  if (rs.rows.empty()) return std::optional<StreamRecord>();
  return std::optional<StreamRecord>(FromRow(rs.rows[0]));
}

absl::StatusOr<std::vector<StreamRecord>> ReadRecords(engine::Engine& engine) {
  ASSIGN_OR_RETURN(engine::ResultSet rs,
                   engine.ExecuteInternal(absl::StrCat("SELECT ", kColumns, " FROM ", kStateTable,
                                                       " ORDER BY uid")));
  std::vector<StreamRecord> out;
  for (const engine::Row& r : rs.rows) out.push_back(FromRow(r));
  return out;
}

absl::Status WriteRecord(engine::WriteTxn& txn, StreamRecord* record) {
  StreamState& s = record->state;
  s.set_updated_at_us(absl::ToUnixMicros(absl::Now()));
  return txn
      .Execute(absl::StrCat("INSERT OR REPLACE INTO ", kStateTable, " (", kColumns,
                            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                            "?14, ?15, ?16, ?17)"),
               {Value(static_cast<int64_t>(s.uid())), Value(s.source_keyspace()),
                Value(s.source_shard()), Value(static_cast<int64_t>(s.reverse() ? 1 : 0)),
                Value(record->start_seq), Value(record->start_term),
                Value(static_cast<int64_t>(s.phase())), Value(s.position().seq()),
                Value(s.position().term()), Value(static_cast<int64_t>(s.position().row())),
                Value(s.rows_copied()), Value(s.tables_copied()), Value(s.tables_total()),
                Value(s.copying_table()), Value(s.events_applied()), Value(s.last_error()),
                Value(s.updated_at_us())},
               engine::Access::kInternal)
      .status();
}

absl::Status DeleteRecord(engine::WriteTxn& txn, uint32_t uid) {
  return txn
      .Execute(absl::StrCat("DELETE FROM ", kStateTable, " WHERE uid = ?1"),
               {Value(static_cast<int64_t>(uid))}, engine::Access::kInternal)
      .status();
}

}  // namespace shale::tablet::reshard
