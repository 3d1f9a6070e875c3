#pragma once

// The users file of the PostgreSQL front end: who may connect, and the SCRAM
// verifier each must prove knowledge of.
//
// One user per line:
//   user:password                 plain; the verifier is derived at load
//                                 (random salt, 4096 iterations)
//   user:SCRAM-SHA-256$<iter>:<salt b64>$<StoredKey b64>:<ServerKey b64>
// The user name is everything before the first ':' (it cannot hold one).
// '#' comment lines and blank lines are ignored; a trailing '\r' is dropped.
//
// An AuthFile is immutable after Load/Parse and safe to share between
// threads; the Server owns one when ServerOptions::auth_file is set.

#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gate/pgwire/scram.h"

namespace shale::gate::pgwire {

struct AuthEntry {
  std::string user;
  ScramVerifier verifier;
};

// One line of the file: nullopt for a comment or blank line, InvalidArgument
// when malformed (no ':', empty user, a bad verifier).
absl::StatusOr<std::optional<AuthEntry>> ParseAuthLine(absl::string_view line);

class AuthFile {
 public:
  // NotFound when the file cannot be read; InvalidArgument naming the line
  // ("users.txt:3: ...") when a line is malformed or repeats a user.
  static absl::StatusOr<AuthFile> Load(const std::string& path);
  // The same over the file's contents; `name` prefixes error messages.
  static absl::StatusOr<AuthFile> Parse(absl::string_view contents, absl::string_view name);

  // The verifier of user, or null when there is no such user.
  const ScramVerifier* Find(absl::string_view user) const;

  // A made-up verifier for an unknown user, the same on every attempt (its
  // salt derives from the user name and a secret chosen at load), so that a
  // client cannot tell unknown users from known ones by their salt.
  ScramVerifier FakeVerifier(absl::string_view user) const;

  size_t size() const { return users_.size(); }

 private:
  AuthFile() = default;

  absl::flat_hash_map<std::string, ScramVerifier> users_;
  std::string fake_secret_;
};

}  // namespace shale::gate::pgwire
