#pragma once

// Runs one statement on a tablet with ExecuteFetchAsDba, for end-to-end
// tests that read a tablet's database directly (replication_e2e_test,
// tests/chaos; table_checksum.h takes it as its DbaQuery). Stateless; any
// thread that may use the client.

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "tablet/client/tablet_client.h"

namespace shale::e2e {

// The statement's result, or the RPC's error (e.g. DeadlineExceeded after
// timeout, Unavailable when the tablet does not answer).
inline absl::StatusOr<tablet::QueryResult> ExecuteFetchAsDba(tablet::TabletClient& client,
                                                             const std::string& sql,
                                                             absl::Duration timeout) {
  tablet::ExecuteFetchAsDbaRequest req;
  req.set_sql(sql);
  ASSIGN_OR_RETURN(
      tablet::ExecuteFetchAsDbaResponse r,
      client.Call(client.manager(), &tablet::TabletManager::Stub::ExecuteFetchAsDba, req, timeout));
  return r.result();
}

}  // namespace shale::e2e
