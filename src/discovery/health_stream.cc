#include "discovery/health_stream.h"

namespace shale::discovery {

std::shared_ptr<HealthStream> HealthStream::Make(std::shared_ptr<tablet::TabletClient> client,
                                                 uint64_t id, HealthStreamSink* sink) {
  return std::shared_ptr<HealthStream>(new HealthStream(std::move(client), id, sink));
}

void HealthStream::Start() {
  self_ = shared_from_this();
  client_->health().async()->StreamHealth(&context_, &request_, this);
  StartRead(&response_);
  StartCall();
}

void HealthStream::OnReadDone(bool ok) {
  if (!ok) return;  // the stream is over: OnDone follows
  sink_->OnHealthMessage(id_, response_);
  StartRead(&response_);
}

void HealthStream::OnDone(const grpc::Status& status) {
  // The last touch of this object: once the sink has it, it may be destroyed.
  sink_->OnStreamDone(std::move(self_), status);
}

}  // namespace shale::discovery
