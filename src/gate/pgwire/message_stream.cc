#include "gate/pgwire/message_stream.h"

#include <algorithm>
#include <cstring>

#include "absl/time/clock.h"
#include "base/status_macros.h"
#include "gate/pgwire/byte_order.h"
#include "gate/pgwire/frontend_messages.h"

namespace shale::gate::pgwire {
MessageStream::MessageStream(std::unique_ptr<Transport> transport)
    : transport_(std::move(transport)) {}

absl::Status MessageStream::Fill(size_t n) {
  const absl::Time deadline = read_timeout_ == absl::InfiniteDuration()
                                  ? absl::InfiniteFuture()
                                  : absl::Now() + read_timeout_;
  while (in_.size() < n) {
    char* space = in_.Space();
    ASSIGN_OR_RETURN(size_t got, transport_->Read(space, in_.space_size(), deadline));
    if (got == 0) {
      return ConnectionLostError(in_.size() == 0 ? "connection closed by the client"
                                                 : "unexpected EOF from the client");
    }
    in_.Commit(got);
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::string_view> MessageStream::ReadStartupPacket() {
  RETURN_IF_ERROR(Fill(4));
  ASSIGN_OR_RETURN(uint32_t len,
                   DecodeStartupLength(absl::string_view(in_.data(), 4)));
  RETURN_IF_ERROR(Fill(len));
  absl::string_view body(in_.data() + 4, len - 4);
  in_.Consume(len);
  return body;
}

absl::StatusOr<MessageStream::Message> MessageStream::ReadMessage() {
  RETURN_IF_ERROR(Fill(5));
  char type = in_.data()[0];
  ASSIGN_OR_RETURN(uint32_t body_len,
                   DecodeMessageLength(absl::string_view(in_.data() + 1, 4)));
  RETURN_IF_ERROR(Fill(5 + size_t{body_len}));
  Message m{type, absl::string_view(in_.data() + 5, body_len)};
  in_.Consume(5 + size_t{body_len});
  return m;
}

bool MessageStream::HasBufferedMessage() const {
  size_t avail = in_.size();
  if (avail < 5) return false;
  uint32_t len = LoadBig32(in_.data() + 1);
  return len >= 4 && avail >= size_t{len} + 1;
}

absl::Status MessageStream::Flush() {
  if (out_.empty()) return absl::OkStatus();
  absl::Status status = transport_->Write(out_.data());
  out_.Clear();
  ++flush_count_;
  return status;
}

absl::Status MessageStream::FlushIfLarge() {
  return out_.size() > kFlushThreshold ? Flush() : absl::OkStatus();
}

}  // namespace shale::gate::pgwire
