// End to end with libpq and psql: SCRAM-SHA-256 from a users file, TLS with a
// certificate made by the openssl command, and a server without TLS.

#include <string>

#include "absl/strings/str_cat.h"
#include "base/subprocess.h"
#include "gate/pgwire/frontend_builder.h"
#include "gate/pgwire/pg_test_util.h"
#include "gate/pgwire/scram.h"
#include "gtest/gtest.h"

namespace shale::gate::pgwire {
namespace {

std::string ConnectError(const TestServer& server, absl::string_view extra) {
  PgConn conn = server.Connect(extra);
  if (PQstatus(conn.get()) == CONNECTION_OK) return "";
  return PQerrorMessage(conn.get());
}

class ScramAuthTest : public ::testing::Test {
 protected:
  static ServerOptions Options(const TempDir& dir) {
    ServerOptions options;
    options.auth_file = dir.WriteFile(
        "users", absl::StrCat("# test users\nalice:s3cret\nbob:", MakeScramVerifierString("pw2"),
                              "\n"));
    return options;
  }

  TempDir dir_;
  TestServer server_{Options(dir_)};
};

TEST_F(ScramAuthTest, RightPasswordsConnect) {
  PgConn alice = server_.Connect("sslmode=disable user=alice password=s3cret");
  ASSERT_EQ(PQstatus(alice.get()), CONNECTION_OK) << PQerrorMessage(alice.get());
  PgResult r = Exec(alice.get(), "SELECT 1");
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  PgConn bob = server_.Connect("sslmode=disable user=bob password=pw2");
  EXPECT_EQ(PQstatus(bob.get()), CONNECTION_OK) << PQerrorMessage(bob.get());
  EXPECT_EQ(server_.server().stats().auth_failures, 0);
}

TEST_F(ScramAuthTest, WrongPasswordAndUnknownUserFailAlike) {
  std::string wrong = ConnectError(server_, "sslmode=disable user=alice password=nope");
  EXPECT_NE(wrong.find("password authentication failed for user \"alice\""), std::string::npos)
      << wrong;
  std::string unknown = ConnectError(server_, "sslmode=disable user=carol password=s3cret");
  EXPECT_NE(unknown.find("password authentication failed for user \"carol\""), std::string::npos)
      << unknown;
  EXPECT_EQ(server_.server().stats().auth_failures, 2);
  EXPECT_TRUE(server_.factory().opened().empty());
}

TEST_F(ScramAuthTest, MissingPasswordIsRefused) {
  std::string error = ConnectError(server_, "sslmode=disable user=alice password=");
  EXPECT_FALSE(error.empty());
  EXPECT_TRUE(server_.factory().opened().empty());
}

TEST_F(ScramAuthTest, PsqlWithPassword) {
  Subprocess psql;
  SubprocessOptions options;
  options.env = {{"PGPASSWORD", "s3cret"}};
  ASSERT_TRUE(psql.Start({"/usr/bin/psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p",
                          std::to_string(server_.port()), "-U", "alice", "-d", "db", "-c",
                          "select 40 + 2"},
                         options)
                  .ok());
  absl::StatusOr<std::string> line = psql.ReadLine(absl::Seconds(20));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, "42");
  EXPECT_EQ(*psql.WaitFor(absl::Seconds(20)), 0);
}

TEST(ScramStartTest, BadUsersFileFailsStart) {
  TempDir dir;
  TestSessionFactory factory;
  ServerOptions options;
  options.port = 0;
  options.auth_file = dir.WriteFile("users", "ok:pw\nbroken line\n");
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options, &factory);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find(":2:"), std::string::npos) << server.status();
}

// A self-signed certificate made with the openssl command.
void MakeCertificate(const TempDir& dir, std::string* cert, std::string* key) {
  *cert = dir.path() + "/c";
  *key = dir.path() + "/k";
  Subprocess openssl;
  ASSERT_TRUE(openssl
                  .Start({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                          "/CN=localhost", "-days", "1", "-keyout", *key, "-out", *cert})
                  .ok());
  while (openssl.ReadLine(absl::Seconds(60)).ok()) {
  }
  absl::StatusOr<int> exit_code = openssl.WaitFor(absl::Seconds(60));
  ASSERT_TRUE(exit_code.ok());
  ASSERT_EQ(*exit_code, 0);
}

TEST(TlsTest, SslModeRequireWithScram) {
  TempDir dir;
  ServerOptions options;
  ASSERT_NO_FATAL_FAILURE(MakeCertificate(dir, &options.tls_cert_file, &options.tls_key_file));
  options.auth_file = dir.WriteFile("users", "alice:s3cret\n");
  TestServer server(options);
  // Over TLS libpq offers channel binding it cannot use here ("y,," header).
  PgConn conn = server.Connect("sslmode=require user=alice password=s3cret");
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  EXPECT_EQ(PQsslInUse(conn.get()), 1);
  std::string protocol = PQsslAttribute(conn.get(), "protocol");
  EXPECT_TRUE(protocol == "TLSv1.2" || protocol == "TLSv1.3") << protocol;
  PgResult r = Exec(conn.get(), "SELECT 'over tls'");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "over tls");
  // Plain connections are still accepted.
  PgConn plain = server.Connect("sslmode=disable user=alice password=s3cret");
  ASSERT_EQ(PQstatus(plain.get()), CONNECTION_OK) << PQerrorMessage(plain.get());
  EXPECT_EQ(PQsslInUse(plain.get()), 0);
  // Channel binding cannot be required of this server.
  std::string error = ConnectError(server, "sslmode=require user=alice password=s3cret "
                                           "channel_binding=require");
  EXPECT_FALSE(error.empty());
}

TEST(TlsTest, ServerWithoutTlsAnswersN) {
  TestServer server;
  std::string error = ConnectError(server, "sslmode=require");
  EXPECT_NE(error.find("server does not support SSL"), std::string::npos) << error;
  PgConn prefer = server.Connect("sslmode=prefer");
  EXPECT_EQ(PQstatus(prefer.get()), CONNECTION_OK) << PQerrorMessage(prefer.get());

  absl::StatusOr<std::unique_ptr<RawClient>> raw = RawClient::Connect(server.port());
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE((*raw)->Send(FrontendBuilder().GssEncRequest().bytes()).ok());
  EXPECT_EQ(*(*raw)->ReadByte(), 'N');
  ASSERT_TRUE((*raw)->Send(FrontendBuilder().SslRequest().bytes()).ok());
  EXPECT_EQ(*(*raw)->ReadByte(), 'N');
  EXPECT_TRUE((*raw)->Startup().ok());
}

}  // namespace
}  // namespace shale::gate::pgwire
