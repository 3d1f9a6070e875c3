#pragma once

// MessageStream frames one connection's bytes into PostgreSQL messages: it
// reads the startup packet and typed messages out of an input buffer refilled
// from the Transport, and gathers outgoing messages in one WireBuffer that is
// written with a single send per Flush.
//
// Owned by the Connection and used from its thread only. Views returned by
// the Read methods stay valid until the next Read call.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/read_buffer.h"
#include "gate/pgwire/backend_messages.h"
#include "gate/pgwire/transport.h"

namespace shale::gate::pgwire {

class MessageStream {
 public:
  // Flush early once this much output is pending (a large result).
  static constexpr size_t kFlushThreshold = 256 * 1024;

  explicit MessageStream(std::unique_ptr<Transport> transport);

  // Swaps in a TLS transport after SSLRequest was answered 'S'.
  void SetTransport(std::unique_ptr<Transport> transport) { transport_ = std::move(transport); }
  // How long one Read call may wait for the client (none by default).
  void set_read_timeout(absl::Duration timeout) { read_timeout_ = timeout; }
  bool is_tls() const { return transport_->is_tls(); }

  // The next startup packet (after its length word). 08P01 for a bad length;
  // Unavailable when the connection ends or fails.
  absl::StatusOr<absl::string_view> ReadStartupPacket();

  struct Message {
    char type;
    absl::string_view body;
  };
  // The next typed message. 08P01 for a bad length; Unavailable when the
  // connection ends (also mid-message) or fails.
  absl::StatusOr<Message> ReadMessage();

  // Whether input has been read that the Read calls have not returned yet.
  bool has_buffered_input() const { return in_.size() > 0; }
  // Whether a whole typed message is already buffered (pipelined input).
  bool HasBufferedMessage() const;

  WireBuffer& out() { return out_; }
  // Writes all pending output. Unavailable when the connection fails.
  absl::Status Flush();
  // Flushes when more than kFlushThreshold is pending.
  absl::Status FlushIfLarge();
  // How many times output has been written; a response may only be cut back
  // (WireBuffer::Truncate) to a point taken at the same count.
  uint64_t flush_count() const { return flush_count_; }

 private:
  // Makes at least n unread bytes available.
  absl::Status Fill(size_t n);

  std::unique_ptr<Transport> transport_;
  ReadBuffer in_;  // received, not yet returned
  WireBuffer out_;
  uint64_t flush_count_ = 0;
  absl::Duration read_timeout_ = absl::InfiniteDuration();
};

}  // namespace shale::gate::pgwire
