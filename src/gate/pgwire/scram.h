#pragma once

// SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, without channel binding:
// the verifier a password is stored as, the parsers of the two client
// messages, and ScramServer, which runs one exchange.
//
// The free functions are stateless and safe from any thread. A ScramServer is
// made per authentication attempt by the connection that runs it and used
// from that connection's thread only.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shale::gate::pgwire {

inline constexpr absl::string_view kScramSha256 = "SCRAM-SHA-256";
inline constexpr int kScramDefaultIterations = 4096;
inline constexpr int kScramKeySize = 32;  // SHA-256 output

// What the server keeps of a password: PBKDF2 parameters and the two keys.
// salt, stored_key and server_key are raw bytes.
struct ScramVerifier {
  int iterations = kScramDefaultIterations;
  std::string salt;
  std::string stored_key;
  std::string server_key;
};

// The verifier of password with the given salt and iteration count. The
// password is used as its UTF-8 bytes (SASLprep is the identity for ASCII).
ScramVerifier MakeScramVerifier(absl::string_view password, absl::string_view salt,
                                int iterations);
// The same with a random 16-byte salt and kScramDefaultIterations.
ScramVerifier MakeScramVerifier(absl::string_view password);

// PostgreSQL's text form: SCRAM-SHA-256$<iter>:<salt b64>$<StoredKey b64>:<ServerKey b64>.
std::string FormatScramVerifier(const ScramVerifier& verifier);
// InvalidArgument when text is not in that form (keys must be 32 bytes).
absl::StatusOr<ScramVerifier> ParseScramVerifier(absl::string_view text);

// The verifier string for a password (random salt): what an auth file line
// "user:<verifier>" stores instead of the plain password.
std::string MakeScramVerifierString(absl::string_view password);

// client-first-message: gs2 header "n,," or "y,," (an authzid is allowed and
// ignored), then "n=<user>,r=<nonce>[,ext...]".
struct ScramClientFirst {
  std::string gs2_header;  // e.g. "n,,"
  std::string bare;        // client-first-message-bare
  std::string user;        // as sent (PostgreSQL clients send it empty)
  std::string nonce;
};
// InvalidArgument with SQLSTATE 08P01 when malformed, when it asks for
// channel binding ("p=") or carries a mandatory extension ("m=").
absl::StatusOr<ScramClientFirst> ParseScramClientFirst(absl::string_view message);

// client-final-message: "c=<b64 gs2 header>,r=<nonce>[,ext...],p=<b64 proof>".
struct ScramClientFinal {
  std::string without_proof;    // the message up to ",p="
  std::string channel_binding;  // decoded c=
  std::string nonce;
  std::string proof;  // decoded, kScramKeySize bytes
};
absl::StatusOr<ScramClientFinal> ParseScramClientFinal(absl::string_view message);

// One server-side exchange. Give it the user's verifier, or (unknown user) a
// made-up one with real=false: the exchange then looks the same to the
// client but always fails, so it cannot tell which users exist.
class ScramServer {
 public:
  // server_nonce: empty for a random one (tests pass a fixed one).
  ScramServer(ScramVerifier verifier, bool real, std::string server_nonce = "");

  // Returns server-first-message. 08P01 when the message is malformed.
  absl::StatusOr<std::string> HandleClientFirst(absl::string_view message);
  // Returns server-final-message ("v=..."). 08P01 when malformed or out of
  // order; Unauthenticated with SQLSTATE 28P01 when the proof is wrong.
  absl::StatusOr<std::string> HandleClientFinal(absl::string_view message);

 private:
  ScramVerifier verifier_;
  bool real_;
  std::string server_nonce_;
  ScramClientFirst client_first_;
  std::string server_first_;  // empty until HandleClientFirst succeeded
};

}  // namespace shale::gate::pgwire
