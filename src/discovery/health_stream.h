#pragma once

// HealthStream: one attempt at a tablet's Health.StreamHealth stream, on the
// gRPC callback API (no thread per stream), for the HealthCheck.
//
// It reads health messages and hands each to its sink until the stream ends
// for any reason (tablet gone, cancelled, error), then reports the end once.
// A new attempt is a new HealthStream: reconnecting is the sink's business.
//
// Lifecycle: Make(), then Start() exactly once (the sink must see
// OnStreamDone for every stream it made, so a made stream must be started).
// Once started, the stream keeps itself alive until the call is over, and
// then hands that reference to the sink (OnStreamDone), so the sink may drop
// its other shared_ptrs at any time. Cancel() may be
// called any number of times from any thread, even before Start (the call
// then ends as soon as it starts) or after the end. The sink is borrowed: it must outlive every stream it was given,
// i.e. wait for every OnStreamDone before it dies.
// Threads: callbacks run on gRPC's callback threads, one at a time per stream.

#include <cstdint>
#include <memory>

#include "grpcpp/client_context.h"
#include "grpcpp/support/client_callback.h"
#include "tablet/client/tablet_client.h"
#include "tablet_data.pb.h"

namespace shale::discovery {

class HealthStream;

// Receives what HealthStreams read. Methods run on gRPC threads: they must
// not block.
class HealthStreamSink {
 public:
  virtual ~HealthStreamSink() = default;
  virtual void OnHealthMessage(uint64_t stream_id, const tablet::StreamHealthResponse& msg) = 0;
  // The last call for stream; status is OK only when the tablet ended the
  // stream cleanly. The sink receives the stream's reference to itself and
  // must not drop it on this thread: the stream may hold the last reference
  // to its channel, and a gRPC channel must not be destroyed from one of its
  // own callbacks.
  virtual void OnStreamDone(std::shared_ptr<HealthStream> stream, const grpc::Status& status) = 0;
};

class HealthStream : public grpc::ClientReadReactor<tablet::StreamHealthResponse>,
                     public std::enable_shared_from_this<HealthStream> {
 public:
  // A stream of StreamHealth on client's channel; every event carries id.
  // Makes no gRPC call.
  static std::shared_ptr<HealthStream> Make(std::shared_ptr<tablet::TabletClient> client,
                                            uint64_t id, HealthStreamSink* sink);
  // Starts the call.
  void Start();

  // Ends the stream soon (OnStreamDone follows with CANCELLED).
  void Cancel() { context_.TryCancel(); }
  uint64_t id() const { return id_; }

  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  HealthStream(std::shared_ptr<tablet::TabletClient> client, uint64_t id, HealthStreamSink* sink)
      : client_(std::move(client)), id_(id), sink_(sink) {}

  const std::shared_ptr<tablet::TabletClient> client_;
  const uint64_t id_;
  HealthStreamSink* const sink_;
  grpc::ClientContext context_;
  tablet::StreamHealthRequest request_;
  tablet::StreamHealthResponse response_;  // the read in flight; one at a time
  std::shared_ptr<HealthStream> self_;     // set until OnDone
};

}  // namespace shale::discovery
