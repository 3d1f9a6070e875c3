#pragma once

// Clone: copying a consistent snapshot of one tablet's database into another
// (DESIGN §3 "copies", §4 "Retention and copies"). A replica started with an
// empty database, one that fell behind the source's log retention, and one
// whose log diverged from its source all clone, then stream from the
// snapshot's log position.
//
// - ServeClone (source side, the Replication.Clone handler): takes a
//   consistent snapshot of the engine's database (VACUUM INTO a scratch file,
//   on a reader, so writes go on meanwhile), sends total_bytes and the
//   snapshot's newest _shale_log position first, then the file in chunks, and
//   removes the scratch file.
// - CloneFrom (replica side): receives the snapshot into a scratch file,
//   checks its size, then replaces the engine's whole database with it
//   through the SQLite online backup API on the writer connection (the
//   Engine stays open; readers see the new content afterwards). Returns the
//   snapshot's log position. Progress lines ("clone from zone1-101: 12.0 MiB
//   of 48.0 MiB (25%)") go to on_progress at least every second and at the end.
//
// Free functions; no state of their own. scratch_dir must exist and be on
// the same machine as the database (the tablet's data dir).

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/sync_stream.h"
#include "replication_data.pb.h"
#include "tablet/engine/engine.h"
#include "tablet_service.grpc.pb.h"

namespace shale::tablet::replication {

using CloneProgress = std::function<void(const std::string& line)>;

// Errors: the engine's (snapshot failed, e.g. disk full → ResourceExhausted),
// Cancelled when the client went away.
absl::Status ServeClone(grpc::ServerContext* context, const CloneRequest& request,
                        grpc::ServerWriter<CloneResponse>* writer, engine::Engine& engine,
                        const std::string& scratch_dir);

// source_name names the source in progress lines and errors. Errors:
// Unavailable when the source cannot be reached (retry); DataLoss when the
// received snapshot is short or not a database; the engine's restore errors.
// On any error the engine's database is unchanged.
absl::StatusOr<LogPosition> CloneFrom(Replication::Stub& source, const std::string& source_name,
                                      const topodata::TabletAlias& self, engine::Engine& engine,
                                      const std::string& scratch_dir,
                                      const CloneProgress& on_progress);

}  // namespace shale::tablet::replication
