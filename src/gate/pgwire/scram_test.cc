#include "gate/pgwire/scram.h"


#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/sqlstate.h"
#include "gtest/gtest.h"

namespace shale::gate::pgwire {
namespace {

// RFC 7677 section 3.
constexpr char kClientFirst[] = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr char kServerNonce[] = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr char kSaltB64[] = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr char kServerFirst[] =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr char kClientFinal[] =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr char kServerFinal[] = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

ScramVerifier RfcVerifier(absl::string_view password) {
  std::string salt;
  EXPECT_TRUE(absl::Base64Unescape(kSaltB64, &salt));
  return MakeScramVerifier(password, salt, 4096);
}

TEST(ScramTest, Rfc7677Vector) {
  ScramServer server(RfcVerifier("pencil"), /*real=*/true, kServerNonce);
  absl::StatusOr<std::string> first = server.HandleClientFirst(kClientFirst);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, kServerFirst);
  absl::StatusOr<std::string> final = server.HandleClientFinal(kClientFinal);
  ASSERT_TRUE(final.ok()) << final.status();
  EXPECT_EQ(*final, kServerFinal);
}

TEST(ScramTest, WrongPasswordFails) {
  ScramServer server(RfcVerifier("pencil2"), /*real=*/true, kServerNonce);
  ASSERT_TRUE(server.HandleClientFirst(kClientFirst).ok());
  absl::StatusOr<std::string> final = server.HandleClientFinal(kClientFinal);
  EXPECT_EQ(final.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(SqlState(final.status()), "28P01");
}

TEST(ScramTest, FakeExchangeFailsEvenWithTheRightProof) {
  ScramServer server(RfcVerifier("pencil"), /*real=*/false, kServerNonce);
  ASSERT_EQ(*server.HandleClientFirst(kClientFirst), kServerFirst);
  EXPECT_EQ(SqlState(server.HandleClientFinal(kClientFinal).status()), "28P01");
}

TEST(ScramTest, TamperedFinalMessages) {
  const std::string nonce = absl::StrCat("rOprNGfwEbeRWgbNEkqO", kServerNonce);
  const std::string proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  const std::string cases[] = {
      absl::StrCat("c=eSws,r=", nonce, ",", proof),       // binding says "y,,"
      absl::StrCat("c=biws,r=", nonce, "x,", proof),      // other nonce
      absl::StrCat("c=biws,r=", nonce),                   // no proof
      absl::StrCat("c=biws,r=", nonce, ",p=AAAA"),         // short proof
      absl::StrCat("c=biws,r=", nonce, ",p=not base64!"),  // bad base64
      absl::StrCat("r=", nonce, ",", proof),              // no binding
  };
  for (const std::string& message : cases) {
    ScramServer server(RfcVerifier("pencil"), true, kServerNonce);
    ASSERT_TRUE(server.HandleClientFirst(kClientFirst).ok());
    absl::StatusOr<std::string> final = server.HandleClientFinal(message);
    EXPECT_FALSE(final.ok()) << message;
    EXPECT_EQ(SqlState(final.status()), "08P01") << message;
  }
  ScramServer out_of_order(RfcVerifier("pencil"), true, kServerNonce);
  EXPECT_FALSE(out_of_order.HandleClientFinal(kClientFinal).ok());
}

TEST(ScramTest, ClientFirstParsing) {
  absl::StatusOr<ScramClientFirst> y = ParseScramClientFirst("y,,n=,r=abc,x=ext");
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(y->gs2_header, "y,,");
  EXPECT_EQ(y->bare, "n=,r=abc,x=ext");
  EXPECT_EQ(y->user, "");
  EXPECT_EQ(y->nonce, "abc");
  absl::StatusOr<ScramClientFirst> authzid = ParseScramClientFirst("n,a=bob,n=bob,r=q");
  ASSERT_TRUE(authzid.ok()) << authzid.status();
  EXPECT_EQ(authzid->gs2_header, "n,a=bob,");

  for (const char* bad : {"", "n", "n,", "n,,", "n,,n=u", "n,,r=abc", "n,,n=u,r=",
                          "p=tls-server-end-point,,n=,r=a", "x,,n=,r=a", "n,,m=x,n=,r=a",
                          "n,,n=,r=a,b", "n,a=bob", "n,,n=,r=a\x01"}) {
    absl::StatusOr<ScramClientFirst> m = ParseScramClientFirst(bad);
    EXPECT_FALSE(m.ok()) << bad;
    EXPECT_EQ(SqlState(m.status()), "08P01") << bad;
  }
}

TEST(ScramTest, VerifierFormatRoundTrip) {
  ScramVerifier v = RfcVerifier("pencil");
  std::string text = FormatScramVerifier(v);
  EXPECT_EQ(text.rfind("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$", 0), 0u) << text;
  absl::StatusOr<ScramVerifier> parsed = ParseScramVerifier(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->iterations, 4096);
  EXPECT_EQ(parsed->salt, v.salt);
  EXPECT_EQ(parsed->stored_key, v.stored_key);
  EXPECT_EQ(parsed->server_key, v.server_key);

  // A random-salt verifier from the helper verifies the password it was made from.
  absl::StatusOr<ScramVerifier> made = ParseScramVerifier(MakeScramVerifierString("pw"));
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->salt.size(), 16u);
  EXPECT_EQ(MakeScramVerifier("pw", made->salt, made->iterations).stored_key, made->stored_key);

  std::vector<std::string> parts = absl::StrSplit(text, '$');
  for (const std::string& bad :
       {std::string("SCRAM-SHA-256$"), "MD5$" + parts[1] + "$" + parts[2],
        "SCRAM-SHA-256$0:" + std::string(kSaltB64) + "$" + parts[2],
        "SCRAM-SHA-256$x:" + std::string(kSaltB64) + "$" + parts[2],
        "SCRAM-SHA-256$4096:" + std::string(kSaltB64) + "$AAAA:" + parts[2].substr(45),
        "SCRAM-SHA-256$4096:!!!$" + parts[2], "SCRAM-SHA-256$4096$" + parts[2],
        text + "$"}) {
    EXPECT_FALSE(ParseScramVerifier(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace shale::gate::pgwire
