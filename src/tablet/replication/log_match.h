#pragma once

// CheckLogMatch: does a position another party holds (a replica's newest
// entry, a change subscriber's resume point) name an entry of this tablet's
// log? Log matching as Raft has it: the entry must still be here and carry the
// same term. StreamLog (log_streamer.cc) and Changes.Subscribe
// (tablet/rpc_changes.cc) share it.
//
// A free function over the engine; no state of its own.

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tablet/engine/engine.h"
#include "tablet/replication/log_store.h"

namespace shale::tablet::replication {

// Checks entry (seq, term) held by `who` against this tablet's log, whose
// state is `state` (seq must be in 1..state.position.seq(); the caller
// decides what a position beyond the newest entry means). Errors:
//  - OutOfRange "log entry S of WHO was purged here (oldest retained: F): "
//    followed by `remedy`;
//  - FailedPrecondition "diverged: log entry S has term T here but term U on
//    WHO";
//  - the engine's errors.
absl::Status CheckLogMatch(engine::Engine& engine, const LogState& state, int64_t seq, int64_t term,
                           absl::string_view who, absl::string_view remedy);

}  // namespace shale::tablet::replication
