#include "tablet/replication/applier.h"

#include <sqlite3.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tablet/engine/sqlite_errors.h"
#include "tablet/replication/log_store.h"

namespace shale::tablet::replication {
namespace {

struct ConflictInfo {
  int64_t seq = 0;
  std::string what;
};

int OnConflict(void* ctx, int type, sqlite3_changeset_iter* iter) {
  auto* info = static_cast<ConflictInfo*>(ctx);
  // Foreign keys are checked for the whole changeset; the primary already
  // held them, so a transient violation is not a divergence.
  if (type == SQLITE_CHANGESET_FOREIGN_KEY) return SQLITE_CHANGESET_OMIT;
  // The row is there but an old value differs. The logs match (terms are
  // checked), so this is not divergence but SQLite recording a column added
  // by ALTER TABLE ... DEFAULT as NULL for rows written before it: apply the
  // change anyway.
  if (type == SQLITE_CHANGESET_DATA) return SQLITE_CHANGESET_REPLACE;
  const char* table = nullptr;
  int columns = 0;
  int op = 0;
  sqlite3changeset_op(iter, &table, &columns, &op, nullptr);
  const char* kind = type == SQLITE_CHANGESET_DATA       ? "a row differs"
                     : type == SQLITE_CHANGESET_NOTFOUND ? "a row is missing"
                     : type == SQLITE_CHANGESET_CONFLICT ? "a row already exists"
                     : type == SQLITE_CHANGESET_CONSTRAINT ? "a constraint fails"
                                                           : "conflict";
  info->what = absl::StrCat(kind, " in table ", table != nullptr ? table : "?");
  return SQLITE_CHANGESET_ABORT;
}

absl::Status ApplyChangeset(engine::WriteTxn& txn, const std::string& changeset, int64_t seq) {
  ConflictInfo info;
  info.seq = seq;
  int rc = txn.WithInternalAccess([&] {
    return sqlite3changeset_apply(txn.db(), static_cast<int>(changeset.size()),
                                  const_cast<char*>(changeset.data()), nullptr, OnConflict, &info);
  });
  if (rc == SQLITE_OK) return absl::OkStatus();
  if (!info.what.empty() || rc == SQLITE_ABORT) {
    return absl::DataLossError(absl::StrCat("replica diverged from its source at log entry ", seq,
                                            ": ", info.what.empty() ? "conflict" : info.what));
  }
  return engine::SqliteError(rc, txn.db());
}

absl::Status ApplyOne(engine::WriteTxn& txn, const LogEntry& e) {
  switch (e.kind()) {
    case CHANGESET:
    case DDL: {
      LogTxn payload;
      if (!payload.ParseFromString(e.payload())) {
        return absl::DataLossError(absl::StrCat("log entry ", e.seq(), " has a bad payload"));
      }
      for (const LogPart& part : payload.parts()) {
        if (part.has_changeset()) {
          RETURN_IF_ERROR(ApplyChangeset(txn, part.changeset(), e.seq()));
        } else {
          absl::Status s = txn.Execute(part.ddl(), {}, engine::Access::kInternal).status();
          if (!s.ok()) {
            return absl::DataLossError(absl::StrCat("replica cannot replay DDL of log entry ",
                                                    e.seq(), ": ", s.message()));
          }
        }
      }
      return absl::OkStatus();
    }
    case CHANGE_CONFIG:
    case HEARTBEAT:
      return absl::OkStatus();
    default:
      return absl::DataLossError(
          absl::StrCat("log entry ", e.seq(), " has unknown kind ", static_cast<int>(e.kind())));
  }
}

}  // namespace

absl::StatusOr<ApplyResult> ApplyEntries(engine::Engine& engine, absl::Span<const LogEntry> entries,
                                         const LogPosition& after, int64_t known_term) {
  ApplyResult result;
  result.position = after;
  result.term = known_term;
  // Check the whole prefix before touching the database.
  std::vector<const LogEntry*> batch;
  int64_t expect = after.seq() + 1;
  int64_t term = known_term;
  for (const LogEntry& e : entries) {
    if (e.seq() != expect) {
      return absl::DataLossError(
          absl::StrCat("log gap: expected entry ", expect, ", the source sent ", e.seq()));
    }
    if (e.term() < term) {
      return absl::FailedPreconditionError(
          absl::StrCat("log entry ", e.seq(), " has term ", e.term(),
                       " but term ", term, " is known: refusing an old primary's entries"));
    }
    term = e.term();
    batch.push_back(&e);
    ++expect;
    if (e.kind() == CHANGE_CONFIG) {
      ChangeConfig cc;
      if (!cc.ParseFromString(e.payload())) {
        return absl::DataLossError(absl::StrCat("log entry ", e.seq(), " has a bad CHANGE_CONFIG"));
      }
      result.change_config = cc;
      term = std::max(term, cc.term());
      break;
    }
  }
  if (batch.empty()) return result;
  RETURN_IF_ERROR(engine.RunInternalWrite(
      [&](engine::WriteTxn& txn) -> absl::Status {
        for (const LogEntry* e : batch) {
          RETURN_IF_ERROR(ApplyOne(txn, *e));
          RETURN_IF_ERROR(InsertEntry(txn, *e));
        }
        return absl::OkStatus();
      },
      /*with_hook=*/false));
  result.applied = static_cast<int>(batch.size());
  result.position = PositionOf(*batch.back());
  result.term = term;
  return result;
}

}  // namespace shale::tablet::replication
