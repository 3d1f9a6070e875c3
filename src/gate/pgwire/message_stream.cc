#include "gate/pgwire/message_stream.h"

#include <algorithm>
#include <cstring>

#include "base/status_macros.h"
#include "gate/pgwire/byte_order.h"
#include "gate/pgwire/frontend_messages.h"

namespace shale::gate::pgwire {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kKeepInputCapacity = 1 << 20;

}  // namespace

MessageStream::MessageStream(std::unique_ptr<Transport> transport)
    : transport_(std::move(transport)) {}

absl::Status MessageStream::Fill(size_t n) {
  while (in_end_ - in_begin_ < n) {
    if (in_begin_ > 0) {  // move the unread bytes to the front
      std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
      in_end_ -= in_begin_;
      in_begin_ = 0;
    }
    // Grow only as data arrives, not to a length the client merely claims.
    if (in_.size() < in_end_ + kReadChunk) {
      in_.resize(std::max(in_end_ + kReadChunk, in_.size() * 2));
    }
    ASSIGN_OR_RETURN(size_t got, transport_->Read(in_.data() + in_end_, in_.size() - in_end_));
    if (got == 0) {
      return ConnectionLostError(in_end_ == in_begin_ ? "connection closed by the client"
                                                         : "unexpected EOF from the client");
    }
    in_end_ += got;
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::string_view> MessageStream::ReadStartupPacket() {
  RETURN_IF_ERROR(Fill(4));
  ASSIGN_OR_RETURN(uint32_t len,
                   DecodeStartupLength(absl::string_view(in_.data() + in_begin_, 4)));
  RETURN_IF_ERROR(Fill(len));
  absl::string_view body(in_.data() + in_begin_ + 4, len - 4);
  in_begin_ += len;
  return body;
}

absl::StatusOr<MessageStream::Message> MessageStream::ReadMessage() {
  if (in_begin_ == in_end_ && in_.size() > kKeepInputCapacity) {
    in_ = std::string();  // a huge message is gone: give its memory back
    in_begin_ = in_end_ = 0;
  }
  RETURN_IF_ERROR(Fill(5));
  char type = in_[in_begin_];
  ASSIGN_OR_RETURN(uint32_t body_len,
                   DecodeMessageLength(absl::string_view(in_.data() + in_begin_ + 1, 4)));
  RETURN_IF_ERROR(Fill(5 + size_t{body_len}));
  Message m{type, absl::string_view(in_.data() + in_begin_ + 5, body_len)};
  in_begin_ += 5 + size_t{body_len};
  return m;
}

bool MessageStream::HasBufferedMessage() const {
  size_t avail = in_end_ - in_begin_;
  if (avail < 5) return false;
  uint32_t len = LoadBig32(in_.data() + in_begin_ + 1);
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
