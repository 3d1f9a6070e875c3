#pragma once

// Generic helpers that store protobuf records at topology paths: the
// building blocks of topo::Server's typed methods.

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "topo/conn.h"

namespace shale::topo {

// How many times a read-modify-write retries after losing a version race.
inline constexpr int kMaxUpdateRetries = 100;

// Reads and parses the record at path. NotFound; DataLoss if it does not parse.
template <typename Record>
absl::StatusOr<Record> GetRecord(Conn& conn, absl::string_view path, Version* version = nullptr) {
  ASSIGN_OR_RETURN(Versioned v, conn.Get(path));
  Record record;
  if (!record.ParseFromString(v.value)) {
    return absl::DataLossError(absl::StrCat("topology record at ", path, " does not parse as ",
                                            Record::descriptor()->full_name()));
  }
  if (version != nullptr) *version = v.version;
  return record;
}

// Creates path with the record. AlreadyExists if taken.
template <typename Record>
absl::Status CreateRecord(Conn& conn, absl::string_view path, const Record& record) {
  return conn.Create(path, record.SerializeAsString()).status();
}

// Writes the record unconditionally.
template <typename Record>
absl::Status PutRecord(Conn& conn, absl::string_view path, const Record& record) {
  return conn.Update(path, record.SerializeAsString(), std::nullopt).status();
}

// Read-modify-write: reads the record, applies fn, writes it back if the
// version is unchanged, and retries from the read on Aborted. Returns the
// record as written. NotFound if absent; fn's error passes through.
template <typename Record, typename Fn>
absl::StatusOr<Record> UpdateRecord(Conn& conn, absl::string_view path, const Fn& fn) {
  for (int attempt = 0; attempt < kMaxUpdateRetries; ++attempt) {
    Version version = 0;
    ASSIGN_OR_RETURN(Record record, GetRecord<Record>(conn, path, &version));
    RETURN_IF_ERROR(fn(record));
    absl::StatusOr<Version> written = conn.Update(path, record.SerializeAsString(), version);
    if (written.ok()) return record;
    if (!absl::IsAborted(written.status())) return written.status();
  }
  return absl::AbortedError(
      absl::StrCat("update of ", path, " lost ", kMaxUpdateRetries, " version races in a row"));
}

// Like UpdateRecord, but starts from an empty record when path is absent.
template <typename Record, typename Fn>
absl::StatusOr<Record> UpsertRecord(Conn& conn, absl::string_view path, const Fn& fn) {
  for (int attempt = 0; attempt < kMaxUpdateRetries; ++attempt) {
    Version version = 0;
    absl::StatusOr<Record> current = GetRecord<Record>(conn, path, &version);
    if (!current.ok() && !absl::IsNotFound(current.status())) return current.status();
    bool exists = current.ok();
    Record record = exists ? *std::move(current) : Record();
    RETURN_IF_ERROR(fn(record));
    absl::Status written = exists
                               ? conn.Update(path, record.SerializeAsString(), version).status()
                               : conn.Create(path, record.SerializeAsString()).status();
    if (written.ok()) return record;
    if (!absl::IsAborted(written) && !absl::IsAlreadyExists(written) &&
        !absl::IsNotFound(written)) {
      return written;
    }
  }
  return absl::AbortedError(
      absl::StrCat("update of ", path, " lost ", kMaxUpdateRetries, " version races in a row"));
}

// Deletes every value at or below dir (children first). OK if nothing is there.
absl::Status DeleteRecursive(Conn& conn, absl::string_view dir);

}  // namespace shale::topo
