#include "gate/pgwire/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"

namespace shale::gate::pgwire {
namespace {

absl::Status Malformed(absl::string_view what) {
  return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kProtocolViolation,
                  absl::StrCat("malformed SCRAM message: ", what));
}

// Base64 that must be in canonical form (padding, no whitespace).
bool StrictBase64Decode(absl::string_view in, std::string* out) {
  return absl::Base64Unescape(in, out) && absl::Base64Escape(*out) == in;
}

std::string Hmac(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Sha256(absl::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof(out));
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  // RAND_bytes only fails when the system has no entropy source at all.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::abort();
  }
  return out;
}

// A printable nonce character: %x21-2B / %x2D-7E (anything printable but ',').
bool ValidNonce(absl::string_view nonce) {
  if (nonce.empty()) return false;
  for (char c : nonce) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

// Attributes after the nonce: "x=value" with x a letter.
absl::Status CheckExtensions(absl::Span<const absl::string_view> attrs) {
  for (absl::string_view a : attrs) {
    if (a.size() < 2 || a[1] != '=' || !absl::ascii_isalpha(a[0])) {
      return Malformed("bad attribute");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::string_view> Attribute(absl::string_view attr, char name) {
  if (attr.size() < 2 || attr[0] != name || attr[1] != '=') {
    return Malformed(absl::StrCat("expected attribute \"", std::string(1, name), "\""));
  }
  return attr.substr(2);
}

// The gs2 header's length in message; fills in nothing else.
absl::StatusOr<size_t> Gs2HeaderLength(absl::string_view message) {
  if (message.empty()) return Malformed("empty");
  if (message[0] == 'p') {
    return Malformed("the client asked for channel binding, which this server does not offer");
  }
  if ((message[0] != 'n' && message[0] != 'y') || message.size() < 2 || message[1] != ',') {
    return Malformed("bad GS2 header");
  }
  size_t pos = 2;
  if (absl::StartsWith(message.substr(pos), "a=")) {
    size_t comma = message.find(',', pos);
    if (comma == absl::string_view::npos) return Malformed("bad authorization identity");
    pos = comma;
  }
  if (pos >= message.size() || message[pos] != ',') return Malformed("bad GS2 header");
  return pos + 1;
}

}  // namespace

ScramVerifier MakeScramVerifier(absl::string_view password, absl::string_view salt,
                                int iterations) {
  unsigned char salted[kScramKeySize];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), sizeof(salted),
                    salted);
  absl::string_view salted_view(reinterpret_cast<char*>(salted), sizeof(salted));
  ScramVerifier v;
  v.iterations = iterations;
  v.salt = std::string(salt);
  v.stored_key = Sha256(Hmac(salted_view, "Client Key"));
  v.server_key = Hmac(salted_view, "Server Key");
  OPENSSL_cleanse(salted, sizeof(salted));
  return v;
}

ScramVerifier MakeScramVerifier(absl::string_view password) {
  return MakeScramVerifier(password, RandomBytes(16), kScramDefaultIterations);
}

std::string FormatScramVerifier(const ScramVerifier& v) {
  return absl::StrCat(kScramSha256, "$", v.iterations, ":", absl::Base64Escape(v.salt), "$",
                      absl::Base64Escape(v.stored_key), ":", absl::Base64Escape(v.server_key));
}

std::string MakeScramVerifierString(absl::string_view password) {
  return FormatScramVerifier(MakeScramVerifier(password));
}

absl::StatusOr<ScramVerifier> ParseScramVerifier(absl::string_view text) {
  auto bad = [](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("bad SCRAM-SHA-256 verifier: ", why));
  };
  std::vector<absl::string_view> parts = absl::StrSplit(text, '$');
  if (parts.size() != 3 || parts[0] != kScramSha256) {
    return bad("expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>");
  }
  std::vector<absl::string_view> params = absl::StrSplit(parts[1], ':');
  std::vector<absl::string_view> keys = absl::StrSplit(parts[2], ':');
  if (params.size() != 2 || keys.size() != 2) return bad("missing ':'");
  ScramVerifier v;
  if (!absl::SimpleAtoi(params[0], &v.iterations) || v.iterations <= 0 ||
      absl::StrCat(v.iterations) != params[0]) {
    return bad("iteration count is not a positive integer");
  }
  if (!StrictBase64Decode(params[1], &v.salt) || v.salt.empty()) return bad("salt is not base64");
  if (!StrictBase64Decode(keys[0], &v.stored_key) || v.stored_key.size() != kScramKeySize) {
    return bad("StoredKey is not 32 bytes of base64");
  }
  if (!StrictBase64Decode(keys[1], &v.server_key) || v.server_key.size() != kScramKeySize) {
    return bad("ServerKey is not 32 bytes of base64");
  }
  return v;
}

absl::StatusOr<ScramClientFirst> ParseScramClientFirst(absl::string_view message) {
  ASSIGN_OR_RETURN(size_t header_len, Gs2HeaderLength(message));
  ScramClientFirst out;
  out.gs2_header = std::string(message.substr(0, header_len));
  out.bare = std::string(message.substr(header_len));
  std::vector<absl::string_view> attrs = absl::StrSplit(out.bare, ',');
  if (attrs.size() < 2) return Malformed("client-first-message is too short");
  if (absl::StartsWith(attrs[0], "m=")) return Malformed("unsupported mandatory extension");
  ASSIGN_OR_RETURN(absl::string_view user, Attribute(attrs[0], 'n'));
  ASSIGN_OR_RETURN(absl::string_view nonce, Attribute(attrs[1], 'r'));
  if (!ValidNonce(nonce)) return Malformed("bad nonce");
  RETURN_IF_ERROR(CheckExtensions(absl::MakeConstSpan(attrs).subspan(2)));
  out.user = std::string(user);
  out.nonce = std::string(nonce);
  return out;
}

absl::StatusOr<ScramClientFinal> ParseScramClientFinal(absl::string_view message) {
  size_t proof_at = message.rfind(",p=");
  if (proof_at == absl::string_view::npos) return Malformed("no proof");
  ScramClientFinal out;
  out.without_proof = std::string(message.substr(0, proof_at));
  if (!StrictBase64Decode(message.substr(proof_at + 3), &out.proof) ||
      out.proof.size() != kScramKeySize) {
    return Malformed("bad proof");
  }
  std::vector<absl::string_view> attrs = absl::StrSplit(out.without_proof, ',');
  if (attrs.size() < 2) return Malformed("client-final-message is too short");
  ASSIGN_OR_RETURN(absl::string_view binding, Attribute(attrs[0], 'c'));
  ASSIGN_OR_RETURN(absl::string_view nonce, Attribute(attrs[1], 'r'));
  if (!StrictBase64Decode(binding, &out.channel_binding)) return Malformed("bad channel binding");
  if (!ValidNonce(nonce)) return Malformed("bad nonce");
  RETURN_IF_ERROR(CheckExtensions(absl::MakeConstSpan(attrs).subspan(2)));
  out.nonce = std::string(nonce);
  return out;
}

ScramServer::ScramServer(ScramVerifier verifier, bool real, std::string server_nonce)
    : verifier_(std::move(verifier)), real_(real), server_nonce_(std::move(server_nonce)) {
  if (server_nonce_.empty()) server_nonce_ = absl::Base64Escape(RandomBytes(18));
}

absl::StatusOr<std::string> ScramServer::HandleClientFirst(absl::string_view message) {
  if (!server_first_.empty()) return Malformed("unexpected client-first-message");
  ASSIGN_OR_RETURN(client_first_, ParseScramClientFirst(message));
  server_first_ = absl::StrCat("r=", client_first_.nonce, server_nonce_,
                               ",s=", absl::Base64Escape(verifier_.salt),
                               ",i=", verifier_.iterations);
  return server_first_;
}

absl::StatusOr<std::string> ScramServer::HandleClientFinal(absl::string_view message) {
  if (server_first_.empty()) return Malformed("unexpected client-final-message");
  ASSIGN_OR_RETURN(ScramClientFinal final, ParseScramClientFinal(message));
  if (final.channel_binding != client_first_.gs2_header) {
    return Malformed("channel binding does not match the GS2 header");
  }
  if (final.nonce != absl::StrCat(client_first_.nonce, server_nonce_)) {
    return Malformed("nonce does not match");
  }
  std::string auth_message =
      absl::StrCat(client_first_.bare, ",", server_first_, ",", final.without_proof);
  std::string signature = Hmac(verifier_.stored_key, auth_message);
  std::string client_key(kScramKeySize, '\0');
  for (int i = 0; i < kScramKeySize; ++i) client_key[i] = final.proof[i] ^ signature[i];
  std::string stored = Sha256(client_key);
  bool match = verifier_.stored_key.size() == stored.size() &&
               CRYPTO_memcmp(stored.data(), verifier_.stored_key.data(), stored.size()) == 0;
  if (!match || !real_) {
    return SqlError(absl::StatusCode::kUnauthenticated, sqlstate::kInvalidPassword,
                    "password authentication failed");
  }
  return absl::StrCat("v=", absl::Base64Escape(Hmac(verifier_.server_key, auth_message)));
}

}  // namespace shale::gate::pgwire
