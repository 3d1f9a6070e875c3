#pragma once

// ChangeDecoder: turns replication log entries (docs/replication.md) into the
// ChangeEvents of a change subscription (proto/change_data.proto, issue 9).
//
//  - CHANGESET / DDL entries: each changeset part is iterated with
//    sqlite3changeset_start/next; every row change becomes an INSERT, UPDATE
//    or DELETE event with the table's column names; every DDL part becomes a
//    DDL_STATEMENT event. Events keep the order of the transaction.
//  - HEARTBEAT and CHANGE_CONFIG entries carry no change: they only move the
//    position (a HEARTBEAT_EVENT, see below).
//
// Positions: the events of one entry are numbered 1..n (all of them, filtered
// or not, so a position means the same whatever the filter); an event's
// position is {seq, term, row = its number}, except the entry's last event
// sent, which gets row 0 (the entry is done). Resuming with row r > 0 skips
// events 1..r of entry seq (Add's skip_rows).
//
// Filter: only the named tables (case-insensitive); DDL always passes. An
// entry with no event left moves the position with a HEARTBEAT_EVENT
// {seq, term, 0}, but such heartbeats are coalesced: Take() returns only the
// last one, and only if no real event follows it.
//
// Column names come from `columns` (the schema now, e.g. EngineColumns),
// cached per table and forgotten when a DDL part passes. SQLite's ADD COLUMN
// appends, so a changeset older than the schema uses the first nCol names; a
// column the schema does not name is called "column<N>" (N from 1).
//
// Owned by one subscription; not thread-safe (one thread uses it).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "change_data.pb.h"
#include "replication_data.pb.h"
#include "tablet/engine/engine.h"

namespace shale::tablet::replication {

// A table's column names in column order; NotFound for an unknown table.
using ColumnLookup = std::function<absl::StatusOr<std::vector<std::string>>(const std::string&)>;

// The lookup over an engine's schema (PRAGMA table_info on a reader).
// engine is borrowed and must outlive the lookup.
ColumnLookup EngineColumns(engine::Engine& engine);

class ChangeDecoder {
 public:
  // tables: the filter (empty: every table).
  ChangeDecoder(ColumnLookup columns, const std::vector<std::string>& tables);
  ChangeDecoder(const ChangeDecoder&) = delete;
  ChangeDecoder& operator=(const ChangeDecoder&) = delete;

  // Decodes one entry, skipping its first skip_rows events, and queues its
  // events. Errors: DataLoss for a payload or changeset that does not parse;
  // the lookup's errors other than NotFound.
  absl::Status Add(const LogEntry& entry, int skip_rows = 0);

  // The events queued since the last Take, oldest first, with the trailing
  // heartbeat if the newest entries added gave no event.
  std::vector<ChangeEvent> Take();

  // The position after everything added so far.
  const ChangePosition& position() const { return position_; }

 private:
  bool Passes(const std::string& table) const;
  // Decodes one changeset part into events (numbered from *row + 1).
  absl::Status AddChangeset(const std::string& changeset, const LogEntry& entry, int* row,
                            std::vector<ChangeEvent>* out);
  // Column names of table (cached).
  absl::StatusOr<const std::vector<std::string>*> Columns(const std::string& table);

  const ColumnLookup lookup_;
  absl::flat_hash_set<std::string> tables_;  // lower case; empty: all
  absl::flat_hash_map<std::string, std::vector<std::string>> cache_;
  std::vector<ChangeEvent> queued_;
  std::optional<ChangeEvent> heartbeat_;  // the newest entry gave no event
  ChangePosition position_;
};

}  // namespace shale::tablet::replication
