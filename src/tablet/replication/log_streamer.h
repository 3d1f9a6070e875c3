#pragma once

// ServeStreamLog: the source side of Replication.StreamLog (DESIGN §4,
// "Streaming"). Any tablet serves it from its own _shale_log, so a replica can
// follow the primary or catch up from another replica.
//
// The first request names the replica and its newest entry. The stream is
// refused when the two logs do not match:
//  - OutOfRange: the replica's position is older than this tablet's oldest
//    retained entry (the replica must re-clone);
//  - FailedPrecondition "diverged": this tablet has a different term at the
//    replica's newest seq, or the replica is ahead of this tablet (it holds
//    entries this tablet never had: an old primary's unreplicated writes);
//  - FailedPrecondition "older term": this tablet's newest term is older than
//    the newest term the replica knows (a deposed primary).
// Then entries are sent in order as they commit (batches of up to 512
// entries / 4 MiB), and every later request acknowledges what the replica
// applied (AckTracker).
//
// Called on a gRPC thread; a helper thread reads the acknowledgements. Ends
// when the client goes away or `stopping` turns true.

#include <atomic>

#include "grpcpp/server_context.h"
#include "grpcpp/support/sync_stream.h"
#include "replication_data.pb.h"
#include "tablet_service.grpc.pb.h"
#include "tablet/engine/engine.h"
#include "tablet/replication/ack_tracker.h"
#include "tablet/replication/position_tracker.h"

namespace shale::tablet::replication {

absl::Status ServeStreamLog(grpc::ServerContext* context,
                            grpc::ServerReaderWriter<StreamLogResponse, StreamLogRequest>* stream,
                            engine::Engine& engine, const PositionTracker& position,
                            AckTracker& acks, const std::atomic<bool>& stopping);

}  // namespace shale::tablet::replication
