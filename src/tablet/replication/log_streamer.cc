#include "tablet/replication/log_streamer.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "spdlog/spdlog.h"
#include "tablet/replication/log_match.h"
#include "tablet/replication/log_store.h"
#include "topo/tablet_alias.h"

namespace shale::tablet::replication {
namespace {

constexpr int kBatchEntries = 512;
constexpr int64_t kBatchBytes = 4 << 20;
constexpr absl::Duration kPoll = absl::Milliseconds(200);

// Checks that the replica's log matches this one at its newest entry.
absl::Status CheckMatch(engine::Engine& engine, const StreamLogRequest& first,
                        const std::string& replica) {
  ASSIGN_OR_RETURN(LogState state, ReadLogState(engine));
  const LogPosition& from = first.from();
  if (first.min_term() > state.position.term() && first.min_term() > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this tablet's newest term is ", state.position.term(), " but ", replica, " knows term ",
        first.min_term(), ": refusing to serve as an older term's source"));
  }
  if (from.seq() == 0) return absl::OkStatus();
  if (from.seq() > state.position.seq()) {
    return absl::FailedPreconditionError(absl::StrCat("diverged: ", replica, " is at log entry ",
                                                      from.seq(), ", ahead of this tablet's ",
                                                      state.position.seq()));
  }
  return CheckLogMatch(engine, state, from.seq(), from.term(), replica,
                       "the replica must re-clone");
}

}  // namespace

absl::Status ServeStreamLog(grpc::ServerContext* context,
                            grpc::ServerReaderWriter<StreamLogResponse, StreamLogRequest>* stream,
                            engine::Engine& engine, const PositionTracker& position,
                            AckTracker& acks, const std::atomic<bool>& stopping) {
  StreamLogRequest first;
  if (!stream->Read(&first)) return absl::CancelledError("the replica closed the stream");
  if (!first.has_replica()) {
    return absl::InvalidArgumentError("the first StreamLog request must name the replica");
  }
  const std::string replica = topo::TabletAlias::FromProto(first.replica()).ToString();
  RETURN_IF_ERROR(CheckMatch(engine, first, replica));

  const int64_t id = acks.Register(first.replica(), first.semi_sync(), first.applied_seq());
  std::atomic<bool> reader_done{false};
  std::thread ack_reader([&] {
    StreamLogRequest ack;
    while (stream->Read(&ack)) acks.Ack(id, ack.applied_seq());
    reader_done.store(true);
  });
  spdlog::info("log stream to {} opened at entry {}", replica, first.from().seq());

  absl::Status status;
  int64_t sent = first.from().seq();
  while (true) {
    if (context->IsCancelled() || reader_done.load()) {
      status = absl::CancelledError("the replica went away");
      break;
    }
    if (stopping.load()) {
      status = absl::UnavailableError("tablet is shutting down");
      break;
    }
    const LogPosition now = position.WaitPast(sent, absl::Now() + kPoll);
    if (now.seq() <= sent) continue;
    absl::StatusOr<std::vector<LogEntry>> entries =
        ReadEntries(engine, sent, kBatchEntries, kBatchBytes);
    if (!entries.ok()) {
      status = entries.status();
      break;
    }
    if (entries->empty()) continue;
    if (entries->front().seq() != sent + 1) {
      status = absl::OutOfRangeError(absl::StrCat("log entry ", sent + 1, " for ", replica,
                                                  " was purged: the replica must re-clone"));
      break;
    }
    StreamLogResponse batch;
    for (LogEntry& e : *entries) *batch.add_entries() = std::move(e);
    const LogEntry& last = batch.entries(batch.entries_size() - 1);
    *batch.mutable_source_position() = last.seq() > now.seq() ? PositionOf(last) : now;
    sent = last.seq();
    if (!stream->Write(batch)) {
      status = absl::CancelledError("the replica went away");
      break;
    }
  }
  context->TryCancel();
  ack_reader.join();
  acks.Unregister(id);
  spdlog::info("log stream to {} closed at entry {}: {}", replica, sent, status.ToString());
  return status;
}

}  // namespace shale::tablet::replication
