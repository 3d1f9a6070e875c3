#include "tablet/replication/change_decoder.h"

#include <sqlite3.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace shale::tablet::replication {
namespace {

// The proto form of one changeset value (null pointer: not in the changeset).
Value ToProto(sqlite3_value* v) {
  Value out;
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      out.set_int64(sqlite3_value_int64(v));
      break;
    case SQLITE_FLOAT:
      out.set_float64(sqlite3_value_double(v));
      break;
    case SQLITE_TEXT:
      out.set_text(reinterpret_cast<const char*>(sqlite3_value_text(v)),
                   static_cast<size_t>(sqlite3_value_bytes(v)));
      break;
    case SQLITE_BLOB:
      out.set_blob(static_cast<const char*>(sqlite3_value_blob(v)),
                   static_cast<size_t>(sqlite3_value_bytes(v)));
      break;
    default:
      out.set_null(true);
  }
  return out;
}

void AddColumn(google::protobuf::RepeatedPtrField<ColumnValue>* to, const std::string& name,
               sqlite3_value* v) {
  ColumnValue* c = to->Add();
  c->set_name(name);
  *c->mutable_value() = ToProto(v);
}

ChangePosition MakePosition(const LogEntry& entry, int row) {
  ChangePosition p;
  p.set_seq(entry.seq());
  p.set_term(entry.term());
  p.set_row(row);
  return p;
}

// Fills pk/before/after of one changeset row.
void FillRow(sqlite3_changeset_iter* it, int op, int ncol, const unsigned char* pk,
             const std::vector<std::string>& names, ChangeEvent* ev) {
  auto name = [&](int i) {
    return i < static_cast<int>(names.size()) ? names[i] : absl::StrCat("column", i + 1);
  };
  for (int i = 0; i < ncol; ++i) {
    sqlite3_value* before = nullptr;
    sqlite3_value* after = nullptr;
    if (op != SQLITE_INSERT) sqlite3changeset_old(it, i, &before);
    if (op != SQLITE_DELETE) sqlite3changeset_new(it, i, &after);
    if (pk[i]) AddColumn(ev->mutable_pk(), name(i), op == SQLITE_INSERT ? after : before);
    if (op == SQLITE_UPDATE) {
      // Only changed columns have a new value; their old one is there too.
      if (after == nullptr) continue;
      if (before != nullptr) AddColumn(ev->mutable_before(), name(i), before);
      AddColumn(ev->mutable_after(), name(i), after);
    } else if (op == SQLITE_INSERT) {
      AddColumn(ev->mutable_after(), name(i), after);
    } else {
      AddColumn(ev->mutable_before(), name(i), before);
    }
  }
}

}  // namespace

ColumnLookup EngineColumns(engine::Engine& engine) {
  return [&engine](const std::string& table) -> absl::StatusOr<std::vector<std::string>> {
    ASSIGN_OR_RETURN(engine::ResultSet rs,
                     engine.ExecuteInternal("SELECT name FROM pragma_table_info(?1) ORDER BY cid",
                                            {engine::Value(table)}));
    if (rs.rows.empty()) return absl::NotFoundError(absl::StrCat("no table ", table));
    std::vector<std::string> names;
    for (const auto& row : rs.rows) names.push_back(row[0].text());
    return names;
  };
}

ChangeDecoder::ChangeDecoder(ColumnLookup columns, const std::vector<std::string>& tables)
    : lookup_(std::move(columns)) {
  for (const std::string& t : tables) tables_.insert(absl::AsciiStrToLower(t));
}

bool ChangeDecoder::Passes(const std::string& table) const {
  // Shale's own rows in a changeset (`_shale_reshard`) are no user's change.
  if (engine::IsReservedName(table)) return false;
  return tables_.empty() || tables_.contains(absl::AsciiStrToLower(table));
}

absl::StatusOr<const std::vector<std::string>*> ChangeDecoder::Columns(const std::string& table) {
  auto it = cache_.find(table);
  if (it != cache_.end()) return &it->second;
  absl::StatusOr<std::vector<std::string>> names = lookup_(table);
  if (!names.ok() && !absl::IsNotFound(names.status())) return names.status();
  // An unknown table (dropped since): every column is "column<N>".
  auto& slot = cache_[table];
  if (names.ok()) slot = *std::move(names);
  return &slot;
}

absl::Status ChangeDecoder::AddChangeset(const std::string& changeset, const LogEntry& entry,
                                         int* row, std::vector<ChangeEvent>* out) {
  sqlite3_changeset_iter* it = nullptr;
  int rc = sqlite3changeset_start(&it, static_cast<int>(changeset.size()),
                                  const_cast<char*>(changeset.data()));
  if (rc != SQLITE_OK) {
    return absl::DataLossError(absl::StrCat("log entry ", entry.seq(),
                                            ": changeset does not parse: ", sqlite3_errstr(rc)));
  }
  absl::Status status;
  while ((rc = sqlite3changeset_next(it)) == SQLITE_ROW) {
    const char* table = nullptr;
    int ncol = 0, op = 0, indirect = 0;
    unsigned char* pk = nullptr;
    sqlite3changeset_op(it, &table, &ncol, &op, &indirect);
    sqlite3changeset_pk(it, &pk, nullptr);
    ++*row;
    const std::string name = table;
    if (!Passes(name)) continue;
    absl::StatusOr<const std::vector<std::string>*> names = Columns(name);
    if (!names.ok()) {
      status = names.status();
      break;
    }
    ChangeEvent& ev = out->emplace_back();
    ev.set_op(op == SQLITE_INSERT ? INSERT : op == SQLITE_UPDATE ? UPDATE : DELETE);
    ev.set_table(name);
    ev.set_commit_ts_us(entry.commit_ts_us());
    *ev.mutable_position() = MakePosition(entry, *row);
    FillRow(it, op, ncol, pk, **names, &ev);
  }
  const int fin = sqlite3changeset_finalize(it);
  if (!status.ok()) return status;
  if (rc != SQLITE_DONE || fin != SQLITE_OK) {
    return absl::DataLossError(absl::StrCat("log entry ", entry.seq(), ": changeset is corrupt: ",
                                            sqlite3_errstr(rc != SQLITE_DONE ? rc : fin)));
  }
  return absl::OkStatus();
}

absl::Status ChangeDecoder::Add(const LogEntry& entry, int skip_rows) {
  std::vector<ChangeEvent> events;
  if (entry.kind() == CHANGESET || entry.kind() == DDL) {
    LogTxn txn;
    if (!txn.ParseFromString(entry.payload())) {
      return absl::DataLossError(absl::StrCat("log entry ", entry.seq(), " does not parse"));
    }
    int row = 0;
    for (const LogPart& part : txn.parts()) {
      if (part.has_changeset()) {
        RETURN_IF_ERROR(AddChangeset(part.changeset(), entry, &row, &events));
        continue;
      }
      ++row;
      cache_.clear();  // the schema may have changed
      ChangeEvent& ev = events.emplace_back();
      ev.set_op(DDL_STATEMENT);
      ev.set_ddl(part.ddl());
      ev.set_commit_ts_us(entry.commit_ts_us());
      *ev.mutable_position() = MakePosition(entry, row);
    }
  }
  position_ = MakePosition(entry, 0);
  int first = 0;
  while (first < static_cast<int>(events.size()) && events[first].position().row() <= skip_rows) {
    ++first;
  }
  if (first == static_cast<int>(events.size())) {
    // Nothing (left) to send: only the position moves.
    heartbeat_.emplace();
    heartbeat_->set_op(HEARTBEAT_EVENT);
    heartbeat_->set_commit_ts_us(entry.commit_ts_us());
    *heartbeat_->mutable_position() = position_;
    return absl::OkStatus();
  }
  heartbeat_.reset();
  events.back().mutable_position()->set_row(0);
  for (int i = first; i < static_cast<int>(events.size()); ++i) {
    queued_.push_back(std::move(events[i]));
  }
  return absl::OkStatus();
}

std::vector<ChangeEvent> ChangeDecoder::Take() {
  std::vector<ChangeEvent> out = std::move(queued_);
  queued_.clear();
  if (heartbeat_) out.push_back(*std::move(heartbeat_));
  heartbeat_.reset();
  return out;
}

}  // namespace shale::tablet::replication
