#include "gate/pgwire/auth_file.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace shale::gate::pgwire {
namespace {

TEST(AuthFileTest, PlainAndVerifierLines) {
  std::string verifier = MakeScramVerifierString("s3cret");
  absl::StatusOr<AuthFile> file = AuthFile::Parse(
      "# users\n"
      "\n"
      "alice:wonder:land\r\n"
      "   \n"
      "bob:" + verifier + "\n",
      "users.txt");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->size(), 2u);
  const ScramVerifier* alice = file->Find("alice");
  ASSERT_NE(alice, nullptr);
  // The password is everything after the first ':' (without the '\r').
  EXPECT_EQ(MakeScramVerifier("wonder:land", alice->salt, alice->iterations).stored_key,
            alice->stored_key);
  EXPECT_EQ(alice->iterations, 4096);
  const ScramVerifier* bob = file->Find("bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(MakeScramVerifier("s3cret", bob->salt, bob->iterations).stored_key, bob->stored_key);
  EXPECT_EQ(file->Find("carol"), nullptr);
}

TEST(AuthFileTest, MalformedLinesNameTheLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"alice:x\nnocolon\n", "users.txt:2: "},
      {":pw\n", "users.txt:1: empty user"},
      {"alice:\n", "users.txt:1: empty password"},
      {"a:x\n\n# c\nb:SCRAM-SHA-256$4096:bad\n", "users.txt:4: bad SCRAM-SHA-256 verifier"},
      {"a:x\na:y\n", "users.txt:2: user \"a\" appears twice"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<AuthFile> file = AuthFile::Parse(c.first, "users.txt");
    ASSERT_FALSE(file.ok()) << c.first;
    EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(file.status().message().rfind(c.second, 0), 0u) << file.status();
  }
}

TEST(AuthFileTest, FakeVerifierIsStablePerUser) {
  absl::StatusOr<AuthFile> file = AuthFile::Parse("a:b\n", "f");
  ASSERT_TRUE(file.ok());
  ScramVerifier x1 = file->FakeVerifier("x");
  ScramVerifier x2 = file->FakeVerifier("x");
  ScramVerifier y = file->FakeVerifier("y");
  EXPECT_EQ(x1.salt, x2.salt);
  EXPECT_NE(x1.salt, y.salt);
  EXPECT_EQ(x1.salt.size(), 16u);
  EXPECT_EQ(x1.stored_key.size(), 32u);
}

TEST(AuthFileTest, Load) {
  char dir_template[] = "/tmp/pgwire_auth_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string path = std::string(dir_template) + "/users";
  {
    std::ofstream out(path);
    out << "u:p\n";
  }
  absl::StatusOr<AuthFile> file = AuthFile::Load(path);
  EXPECT_TRUE(file.ok()) << file.status();
  EXPECT_NE(file->Find("u"), nullptr);
  EXPECT_EQ(AuthFile::Load(path + ".missing").status().code(), absl::StatusCode::kNotFound);
  unlink(path.c_str());
  rmdir(dir_template);
}

}  // namespace
}  // namespace shale::gate::pgwire
