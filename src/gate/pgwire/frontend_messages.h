#pragma once

// Decoding of what a PostgreSQL client sends (protocol 3.0): the startup
// packet and the typed frontend messages. Pure functions over byte strings,
// no I/O; every length, count and terminator is checked, and anything
// malformed is InvalidArgument with SQLSTATE 08P01 (protocol_violation).
// The decoded messages borrow from the body they were decoded from.
// Stateless, safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shale::gate::pgwire {

inline constexpr uint32_t kMaxStartupPacket = 10000;   // bytes, with the length word
inline constexpr uint32_t kMaxMessage = 1u << 30;      // bytes, with the length word
inline constexpr uint32_t kProtocol30 = 3u << 16;      // 196608
inline constexpr uint32_t kSslRequestCode = 80877103;
inline constexpr uint32_t kGssEncRequestCode = 80877104;
inline constexpr uint32_t kCancelRequestCode = 80877102;

// An 08P01 InvalidArgument status.
absl::Status ProtocolError(absl::string_view message);

// The length word that opens a startup packet (the 4 bytes given), counting
// itself: 08P01 unless 8 <= length <= kMaxStartupPacket.
absl::StatusOr<uint32_t> DecodeStartupLength(absl::string_view length_word);

struct StartupPacket {
  enum class Kind { kStartup, kSslRequest, kGssEncRequest, kCancelRequest };
  Kind kind = Kind::kStartup;
  uint32_t protocol = 0;  // kStartup: major << 16 | minor
  std::vector<std::pair<std::string, std::string>> params;  // kStartup, in order
  uint32_t cancel_pid = 0;     // kCancelRequest
  uint32_t cancel_secret = 0;  // kCancelRequest
};

// The packet after its length word. A StartupMessage of any protocol 3.x is
// decoded (the caller decides what to accept); other major versions, unknown
// request codes and malformed parameter lists are 08P01.
absl::StatusOr<StartupPacket> DecodeStartupPacket(absl::string_view body);

// The length word of a typed message (after its type byte), counting itself:
// 08P01 unless 4 <= length <= kMaxMessage. Returns the body length.
absl::StatusOr<uint32_t> DecodeMessageLength(absl::string_view length_word);

struct QueryMessage {  // 'Q'
  absl::string_view sql;
};
struct ParseMessage {  // 'P'
  absl::string_view name;
  absl::string_view query;
  std::vector<uint32_t> param_oids;
};
struct BindMessage {  // 'B'
  absl::string_view portal;
  absl::string_view statement;
  std::vector<int16_t> param_formats;
  std::vector<std::optional<absl::string_view>> params;  // nullopt: NULL
  std::vector<int16_t> result_formats;
};
struct DescribeMessage {  // 'D'
  char kind = 'S';        // 'S' statement or 'P' portal
  absl::string_view name;
};
struct ExecuteMessage {  // 'E'
  absl::string_view portal;
  int32_t max_rows = 0;  // 0: no limit
};
struct CloseMessage {  // 'C'
  char kind = 'S';
  absl::string_view name;
};
struct SyncMessage {};       // 'S'
struct FlushMessage {};      // 'H'
struct TerminateMessage {};  // 'X'
struct CopyDataMessage {     // 'd'
  absl::string_view data;
};
struct CopyDoneMessage {};  // 'c'
struct CopyFailMessage {    // 'f'
  absl::string_view reason;
};
// 'p': its meaning depends on the authentication step (DecodeSaslInitial or
// the raw body for SASLResponse).
struct PasswordMessage {
  absl::string_view data;
};
struct FunctionCallMessage {};  // 'F': not supported, answered with 0A000

using FrontendMessage =
    std::variant<QueryMessage, ParseMessage, BindMessage, DescribeMessage, ExecuteMessage,
                 CloseMessage, SyncMessage, FlushMessage, TerminateMessage, CopyDataMessage,
                 CopyDoneMessage, CopyFailMessage, PasswordMessage, FunctionCallMessage>;

// One typed message from its type byte and body. Unknown types and malformed
// bodies are 08P01.
absl::StatusOr<FrontendMessage> DecodeFrontendMessage(char type, absl::string_view body);

struct SaslInitialResponse {
  absl::string_view mechanism;
  std::optional<absl::string_view> data;  // nullopt when the client sent length -1
};
absl::StatusOr<SaslInitialResponse> DecodeSaslInitial(absl::string_view body);

}  // namespace shale::gate::pgwire
