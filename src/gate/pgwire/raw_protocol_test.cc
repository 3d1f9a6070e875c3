// Protocol violations on raw sockets: each gets a FATAL ErrorResponse (08P01)
// and a closed connection while the server keeps serving; and the
// max_connections limit.

#include <string>

#include "absl/strings/str_cat.h"
#include "gate/pgwire/byte_order.h"
#include "gate/pgwire/frontend_builder.h"
#include "gate/pgwire/pg_test_util.h"
#include "gtest/gtest.h"

namespace shale::gate::pgwire {
namespace {

using namespace std::string_literals;

// Sends bytes on a fresh connection (after a trust startup when `startup`)
// and expects a FATAL 08P01 and the connection closed.
void ExpectFatalProtocolError(int port, const std::string& bytes, bool startup) {
  absl::StatusOr<std::unique_ptr<RawClient>> raw = RawClient::Connect(port);
  ASSERT_TRUE(raw.ok());
  if (startup) {
    ASSERT_TRUE((*raw)->Startup().ok());
  }
  ASSERT_TRUE((*raw)->Send(bytes).ok());
  absl::StatusOr<std::vector<BackendMessage>> messages = (*raw)->ReadUntil('E');
  ASSERT_TRUE(messages.ok()) << messages.status();
  std::map<char, std::string> fields = ErrorFields(messages->back().body);
  EXPECT_EQ(fields['S'], "FATAL");
  EXPECT_EQ(fields['C'], "08P01") << fields['M'];
  EXPECT_TRUE((*raw)->ClosedByServer());
}

void ExpectServerStillServes(const TestServer& server) {
  PgConn conn = server.Connect();
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  PgResult r = Exec(conn.get(), "SELECT 1");
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
}

TEST(RawProtocolTest, GarbageInsteadOfAStartupPacket) {
  TestServer server;
  ExpectFatalProtocolError(server.port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false);
  ExpectServerStillServes(server);
  std::string tiny;
  AppendBig32(3, &tiny);
  ExpectFatalProtocolError(server.port(), tiny, false);
  ExpectFatalProtocolError(server.port(), FrontendBuilder().Startup({{"user", "u"}}, 2u << 16).bytes(),
                           false);
  ExpectServerStillServes(server);
  EXPECT_EQ(server.server().stats().protocol_errors, 3);
}

TEST(RawProtocolTest, ViolationsAfterStartup) {
  TestServer server;
  std::string huge_length = "Q"s;
  AppendBig32(0x7fffffff, &huge_length);
  std::string short_length = "Q"s;
  AppendBig32(2, &short_length);
  const std::string cases[] = {
      huge_length,
      short_length,
      FrontendBuilder().Typed('Q', "no terminator").bytes(),
      FrontendBuilder().Typed('P', "s\0q\0\x00\x05"s).bytes(),  // count overruns
      FrontendBuilder().Typed('z', "").bytes(),                  // unknown type
      FrontendBuilder().Typed('S', "extra").bytes(),
      "\x01\0\0\0\x04"s,  // a type byte that is no message
  };
  for (const std::string& bytes : cases) {
    ExpectFatalProtocolError(server.port(), bytes, true);
  }
  ExpectServerStillServes(server);
}

TEST(RawProtocolTest, StartupNeedsAUser) {
  TestServer server;
  absl::StatusOr<std::unique_ptr<RawClient>> raw = RawClient::Connect(server.port());
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE((*raw)->Send(FrontendBuilder().Startup({{"database", "db"}}).bytes()).ok());
  absl::StatusOr<std::vector<BackendMessage>> messages = (*raw)->ReadUntil('E');
  ASSERT_TRUE(messages.ok());
  EXPECT_EQ(ErrorFields(messages->back().body)['C'], "28000");
}

TEST(RawProtocolTest, NewerMinorVersionIsNegotiatedDown) {
  TestServer server;
  absl::StatusOr<std::unique_ptr<RawClient>> raw = RawClient::Connect(server.port());
  ASSERT_TRUE(raw.ok());
  FrontendBuilder b;
  b.Startup({{"user", "u"}, {"_pq_.future_option", "1"}}, (3u << 16) | 2);
  ASSERT_TRUE((*raw)->Send(b.bytes()).ok());
  absl::StatusOr<std::vector<BackendMessage>> messages = (*raw)->ReadUntil('Z');
  ASSERT_TRUE(messages.ok()) << messages.status();
  ASSERT_EQ(messages->front().type, 'v');
  const std::string& body = messages->front().body;
  EXPECT_EQ(LoadBig32(body.data()), 0u);      // newest minor version: 3.0
  EXPECT_EQ(LoadBig32(body.data() + 4), 1u);  // one option not recognized
  EXPECT_EQ(body.substr(8), "_pq_.future_option"s + '\0');
}

TEST(RawProtocolTest, FunctionCallIsNotSupported) {
  TestServer server;
  absl::StatusOr<std::unique_ptr<RawClient>> raw = RawClient::Connect(server.port());
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE((*raw)->Startup().ok());
  ASSERT_TRUE((*raw)->Send(FrontendBuilder().Typed('F', "\0\0\0\x01\0\0\0\0\0\0"s).bytes()).ok());
  absl::StatusOr<std::vector<BackendMessage>> messages = (*raw)->ReadUntil('Z');
  ASSERT_TRUE(messages.ok());
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_EQ(ErrorFields(messages->front().body)['C'], "0A000");
  EXPECT_EQ(ErrorFields(messages->front().body)['S'], "ERROR");
}

TEST(RawProtocolTest, DisconnectMidQueryEndsTheSession) {
  TestServer server;
  {
    absl::StatusOr<std::unique_ptr<RawClient>> raw = RawClient::Connect(server.port());
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE((*raw)->Startup().ok());
    std::string partial = FrontendBuilder().Query("SELECT 1").bytes();
    ASSERT_TRUE((*raw)->Send(partial.substr(0, partial.size() - 3)).ok());
  }
  EXPECT_TRUE(WaitFor([&] { return server.server().stats().connections_open == 0; }));
  EXPECT_EQ(server.server().stats().protocol_errors, 0);
}

TEST(MaxConnectionsTest, OverTheLimitIsRefusedWith53300) {
  ServerOptions options;
  options.max_connections = 2;
  TestServer server(options);
  PgConn a = server.Connect();
  PgConn b = server.Connect();
  ASSERT_EQ(PQstatus(a.get()), CONNECTION_OK);
  ASSERT_EQ(PQstatus(b.get()), CONNECTION_OK);

  absl::StatusOr<std::unique_ptr<RawClient>> raw = RawClient::Connect(server.port());
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE((*raw)->Send(FrontendBuilder().Startup({{"user", "u"}}).bytes()).ok());
  absl::StatusOr<std::vector<BackendMessage>> messages = (*raw)->ReadUntil('E');
  ASSERT_TRUE(messages.ok());
  std::map<char, std::string> fields = ErrorFields(messages->back().body);
  EXPECT_EQ(fields['S'], "FATAL");
  EXPECT_EQ(fields['C'], "53300");
  EXPECT_EQ(fields['M'], "sorry, too many clients already");

  PgConn c = server.Connect();
  EXPECT_EQ(PQstatus(c.get()), CONNECTION_BAD);
  EXPECT_NE(std::string(PQerrorMessage(c.get())).find("too many clients"), std::string::npos)
      << PQerrorMessage(c.get());
  EXPECT_EQ(server.server().stats().connections_rejected, 2);

  // A freed slot is usable again once the server has seen the client go.
  a.reset();
  ASSERT_TRUE(WaitFor([&] {
    PgConn d = server.Connect();
    return PQstatus(d.get()) == CONNECTION_OK;
  }));
}

}  // namespace
}  // namespace shale::gate::pgwire
