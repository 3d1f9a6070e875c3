#include "gate/pgwire/auth_file.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace shale::gate::pgwire {
namespace {

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace

absl::StatusOr<std::optional<AuthEntry>> ParseAuthLine(absl::string_view line) {
  absl::ConsumeSuffix(&line, "\r");
  absl::string_view trimmed = absl::StripAsciiWhitespace(line);
  if (trimmed.empty() || trimmed[0] == '#') return std::nullopt;
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError("expected user:password or user:SCRAM-SHA-256$...");
  }
  AuthEntry entry;
  entry.user = std::string(line.substr(0, colon));
  absl::string_view secret = line.substr(colon + 1);
  if (entry.user.empty()) return absl::InvalidArgumentError("empty user name");
  if (secret.empty()) return absl::InvalidArgumentError("empty password");
  if (absl::StartsWith(secret, absl::StrCat(kScramSha256, "$"))) {
    absl::StatusOr<ScramVerifier> verifier = ParseScramVerifier(secret);
    if (!verifier.ok()) return verifier.status();
    entry.verifier = *std::move(verifier);
  } else {
    entry.verifier = MakeScramVerifier(secret);
  }
  return entry;
}

absl::StatusOr<AuthFile> AuthFile::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read auth file ", path));
  std::stringstream contents;
  contents << in.rdbuf();
  return Parse(contents.str(), path);
}

absl::StatusOr<AuthFile> AuthFile::Parse(absl::string_view contents, absl::string_view name) {
  AuthFile file;
  file.fake_secret_.resize(32);
  RAND_bytes(reinterpret_cast<unsigned char*>(file.fake_secret_.data()), 32);
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    ++line_number;
    absl::StatusOr<std::optional<AuthEntry>> entry = ParseAuthLine(line);
    if (!entry.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ":", line_number, ": ", entry.status().message()));
    }
    if (!entry->has_value()) continue;
    AuthEntry& e = **entry;
    if (!file.users_.emplace(e.user, std::move(e.verifier)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ":", line_number, ": user \"", e.user, "\" appears twice"));
    }
  }
  return file;
}

const ScramVerifier* AuthFile::Find(absl::string_view user) const {
  auto it = users_.find(user);
  return it == users_.end() ? nullptr : &it->second;
}

ScramVerifier AuthFile::FakeVerifier(absl::string_view user) const {
  ScramVerifier v;
  v.iterations = kScramDefaultIterations;
  v.salt = HmacSha256(fake_secret_, absl::StrCat("salt:", user)).substr(0, 16);
  v.stored_key = HmacSha256(fake_secret_, absl::StrCat("stored:", user));
  v.server_key = HmacSha256(fake_secret_, absl::StrCat("server:", user));
  return v;
}

}  // namespace shale::gate::pgwire
