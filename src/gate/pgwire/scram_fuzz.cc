// Fuzz target for the SCRAM parsers and the users-file line parser. The
// first byte picks what the rest is:
//   0: client-first-message;  1: client-final-message;
//   2: a whole exchange, "client-first\nclient-final";
//   3: a users-file line;  4: a stored verifier.
// Invariants: errors are InvalidArgument (08P01 for SCRAM messages) or, for a
// wrong proof, 28P01; what parses is consistent with the input.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/sqlstate.h"
#include "gate/pgwire/auth_file.h"
#include "gate/pgwire/scram.h"

namespace shale::gate::pgwire {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "gate_scram_fuzz: invariant violated: %s\n", what);
  std::abort();
}

void CheckScramError(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kInvalidArgument || SqlState(status) != "08P01") {
    Fail("SCRAM parse error is not 08P01 InvalidArgument");
  }
}

bool ValidNonce(absl::string_view nonce) {
  if (nonce.empty()) return false;
  for (char c : nonce) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

void ClientFirst(absl::string_view in) {
  absl::StatusOr<ScramClientFirst> m = ParseScramClientFirst(in);
  if (!m.ok()) return CheckScramError(m.status());
  if (absl::StrCat(m->gs2_header, m->bare) != in) Fail("header + bare is not the message");
  if (!ValidNonce(m->nonce)) Fail("accepted a bad nonce");
  if (m->gs2_header[0] != 'n' && m->gs2_header[0] != 'y') Fail("accepted channel binding");
}

void ClientFinal(absl::string_view in) {
  absl::StatusOr<ScramClientFinal> m = ParseScramClientFinal(in);
  if (!m.ok()) return CheckScramError(m.status());
  if (m->proof.size() != static_cast<size_t>(kScramKeySize)) Fail("proof of the wrong size");
  if (!ValidNonce(m->nonce)) Fail("accepted a bad nonce");
  if (in.substr(0, m->without_proof.size()) != m->without_proof) Fail("bad without-proof part");
}

void Exchange(absl::string_view in) {
  // One iteration keeps the fuzzer fast; the exchange logic is the same.
  static const ScramVerifier* verifier =
      new ScramVerifier(MakeScramVerifier("pencil", "saltsaltsaltsalt", 1));
  size_t newline = in.find('\n');
  absl::string_view first = in.substr(0, newline);
  absl::string_view final =
      newline == absl::string_view::npos ? absl::string_view() : in.substr(newline + 1);
  ScramServer server(*verifier, /*real=*/true, "servernonce");
  absl::StatusOr<std::string> server_first = server.HandleClientFirst(first);
  if (!server_first.ok()) return CheckScramError(server_first.status());
  absl::StatusOr<std::string> server_final = server.HandleClientFinal(final);
  if (server_final.ok()) return;  // the fuzzer found the password's proof: fine
  if (server_final.status().code() == absl::StatusCode::kUnauthenticated) {
    if (SqlState(server_final.status()) != "28P01") Fail("a wrong proof is not 28P01");
    return;
  }
  CheckScramError(server_final.status());
}

void AuthLine(absl::string_view in) {
  // Plain passwords cost a PBKDF2 each: keep inputs short.
  if (in.size() > 256) return;
  absl::StatusOr<std::optional<AuthEntry>> entry = ParseAuthLine(in);
  if (!entry.ok()) {
    if (entry.status().code() != absl::StatusCode::kInvalidArgument) Fail("odd error code");
    return;
  }
  if (!entry->has_value()) return;
  const AuthEntry& e = **entry;
  if (e.user.empty() || e.user.find(':') != std::string::npos) Fail("bad user name accepted");
  if (e.verifier.stored_key.size() != static_cast<size_t>(kScramKeySize) ||
      e.verifier.server_key.size() != static_cast<size_t>(kScramKeySize)) {
    Fail("verifier keys of the wrong size");
  }
}

void Verifier(absl::string_view in) {
  absl::StatusOr<ScramVerifier> v = ParseScramVerifier(in);
  if (!v.ok()) return;
  if (FormatScramVerifier(*v) != in) Fail("a verifier does not format back to its text");
}

}  // namespace
}  // namespace shale::gate::pgwire

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  absl::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      shale::gate::pgwire::ClientFirst(in);
      break;
    case 1:
      shale::gate::pgwire::ClientFinal(in);
      break;
    case 2:
      shale::gate::pgwire::Exchange(in);
      break;
    case 3:
      shale::gate::pgwire::AuthLine(in);
      break;
    default:
      shale::gate::pgwire::Verifier(in);
  }
  return 0;
}
