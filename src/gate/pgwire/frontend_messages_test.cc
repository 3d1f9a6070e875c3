#include "gate/pgwire/frontend_messages.h"

#include <memory>
#include <string>

#include "base/sqlstate.h"
#include "gate/pgwire/byte_order.h"
#include "gate/pgwire/frontend_builder.h"
#include "gtest/gtest.h"

namespace shale::gate::pgwire {
namespace {

std::string Big32(uint32_t v) {
  std::string s;
  AppendBig32(v, &s);
  return s;
}

std::string Big16(uint16_t v) {
  std::string s;
  AppendBig16(v, &s);
  return s;
}

void ExpectProtocolError(const absl::Status& status) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(SqlState(status), "08P01") << status;
}

// The startup packet after its length word, as the stream hands it over.
absl::StatusOr<StartupPacket> DecodeBuilt(const FrontendBuilder& b) {
  absl::string_view bytes = b.bytes();
  absl::StatusOr<uint32_t> len = DecodeStartupLength(bytes.substr(0, 4));
  if (!len.ok()) return len.status();
  EXPECT_EQ(*len, bytes.size());
  return DecodeStartupPacket(bytes.substr(4));
}

TEST(StartupPacketTest, StartupMessage) {
  FrontendBuilder b;
  b.Startup({{"user", "alice"}, {"database", "ks@replica"}, {"application_name", "psql"}});
  absl::StatusOr<StartupPacket> p = DecodeBuilt(b);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->kind, StartupPacket::Kind::kStartup);
  EXPECT_EQ(p->protocol, kProtocol30);
  ASSERT_EQ(p->params.size(), 3u);
  EXPECT_EQ(p->params[0].first, "user");
  EXPECT_EQ(p->params[0].second, "alice");
  EXPECT_EQ(p->params[1].second, "ks@replica");
}

TEST(StartupPacketTest, RequestCodes) {
  FrontendBuilder ssl, gss, cancel;
  ssl.SslRequest();
  gss.GssEncRequest();
  cancel.CancelRequest(1234, 0xdeadbeef);
  EXPECT_EQ(DecodeBuilt(ssl)->kind, StartupPacket::Kind::kSslRequest);
  EXPECT_EQ(DecodeBuilt(gss)->kind, StartupPacket::Kind::kGssEncRequest);
  absl::StatusOr<StartupPacket> c = DecodeBuilt(cancel);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kind, StartupPacket::Kind::kCancelRequest);
  EXPECT_EQ(c->cancel_pid, 1234u);
  EXPECT_EQ(c->cancel_secret, 0xdeadbeefu);
}

TEST(StartupPacketTest, MinorVersionIsDecodedOtherMajorsAreNot) {
  FrontendBuilder minor, v2;
  minor.Startup({{"user", "u"}}, (3u << 16) | 2);
  v2.Startup({{"user", "u"}}, 2u << 16);
  EXPECT_EQ(DecodeBuilt(minor)->protocol, (3u << 16) | 2);
  absl::StatusOr<StartupPacket> p = DecodeBuilt(v2);
  ExpectProtocolError(p.status());
  EXPECT_NE(p.status().message().find("unsupported frontend protocol 2.0"), std::string::npos);
}

TEST(StartupPacketTest, MalformedPackets) {
  ExpectProtocolError(DecodeStartupLength(Big32(7)).status());
  ExpectProtocolError(DecodeStartupLength(Big32(0)).status());
  ExpectProtocolError(DecodeStartupLength(Big32(kMaxStartupPacket + 1)).status());
  ExpectProtocolError(DecodeStartupLength(Big32(0xffffffff)).status());
  ExpectProtocolError(DecodeStartupLength("ab").status());
  EXPECT_TRUE(DecodeStartupLength(Big32(kMaxStartupPacket)).ok());

  const std::string v3 = Big32(kProtocol30);
  // Missing final terminator, value without NUL, name without value.
  ExpectProtocolError(DecodeStartupPacket(v3 + std::string("user\0u\0", 7)).status());
  ExpectProtocolError(DecodeStartupPacket(v3 + std::string("user\0u", 6)).status());
  ExpectProtocolError(DecodeStartupPacket(v3 + std::string("user\0", 5)).status());
  // Bytes after the terminator.
  ExpectProtocolError(DecodeStartupPacket(v3 + std::string("user\0u\0\0x", 9)).status());
  ExpectProtocolError(DecodeStartupPacket("ab").status());
  // Request codes with extra or missing bytes.
  ExpectProtocolError(DecodeStartupPacket(Big32(kSslRequestCode) + "x").status());
  ExpectProtocolError(DecodeStartupPacket(Big32(kCancelRequestCode) + Big32(1)).status());
  ExpectProtocolError(DecodeStartupPacket(Big32(kCancelRequestCode) + Big32(1) + Big32(2) + "x")
                          .status());
  // An empty parameter list is fine (the user check is the connection's).
  EXPECT_TRUE(DecodeStartupPacket(v3 + std::string(1, '\0')).ok());
}

TEST(MessageLengthTest, Bounds) {
  EXPECT_EQ(*DecodeMessageLength(Big32(4)), 0u);
  EXPECT_EQ(*DecodeMessageLength(Big32(kMaxMessage)), kMaxMessage - 4);
  ExpectProtocolError(DecodeMessageLength(Big32(3)).status());
  ExpectProtocolError(DecodeMessageLength(Big32(0)).status());
  ExpectProtocolError(DecodeMessageLength(Big32(kMaxMessage + 1)).status());
  ExpectProtocolError(DecodeMessageLength(Big32(0x80000000)).status());
  ExpectProtocolError(DecodeMessageLength("abc").status());
}

// Decodes the message b holds; the result borrows from b, which is kept
// alive until the end of the test.
template <typename T>
T DecodeAs(FrontendBuilder b) {
  static std::vector<std::unique_ptr<FrontendBuilder>>* kept =
      new std::vector<std::unique_ptr<FrontendBuilder>>();
  kept->push_back(std::make_unique<FrontendBuilder>(std::move(b)));
  const FrontendBuilder& held = *kept->back();
  absl::StatusOr<FrontendMessage> m = DecodeFrontendMessage(held.bytes()[0], held.body());
  EXPECT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(std::holds_alternative<T>(*m));
  return std::get<T>(*m);
}

TEST(FrontendMessageTest, RoundTrips) {
  EXPECT_EQ(DecodeAs<QueryMessage>(FrontendBuilder().Query("select 1")).sql, "select 1");

  ParseMessage parse = DecodeAs<ParseMessage>(FrontendBuilder().Parse("s1", "select $1", {20, 0}));
  EXPECT_EQ(parse.name, "s1");
  EXPECT_EQ(parse.query, "select $1");
  EXPECT_EQ(parse.param_oids, (std::vector<uint32_t>{20, 0}));

  FrontendBuilder bind_builder;
  bind_builder.Bind("p", "s1", {0, 1}, {std::string("42"), std::nullopt}, {1});
  BindMessage bind = DecodeAs<BindMessage>(bind_builder);
  EXPECT_EQ(bind.portal, "p");
  EXPECT_EQ(bind.statement, "s1");
  EXPECT_EQ(bind.param_formats, (std::vector<int16_t>{0, 1}));
  ASSERT_EQ(bind.params.size(), 2u);
  EXPECT_EQ(bind.params[0], "42");
  EXPECT_FALSE(bind.params[1].has_value());
  EXPECT_EQ(bind.result_formats, (std::vector<int16_t>{1}));

  DescribeMessage describe = DecodeAs<DescribeMessage>(FrontendBuilder().Describe('P', "p"));
  EXPECT_EQ(describe.kind, 'P');
  EXPECT_EQ(describe.name, "p");
  ExecuteMessage execute = DecodeAs<ExecuteMessage>(FrontendBuilder().Execute("p", 10));
  EXPECT_EQ(execute.portal, "p");
  EXPECT_EQ(execute.max_rows, 10);
  CloseMessage close = DecodeAs<CloseMessage>(FrontendBuilder().Close('S', "s1"));
  EXPECT_EQ(close.kind, 'S');
  EXPECT_EQ(close.name, "s1");
  DecodeAs<SyncMessage>(FrontendBuilder().Sync());
  DecodeAs<FlushMessage>(FrontendBuilder().Flush());
  DecodeAs<TerminateMessage>(FrontendBuilder().Terminate());
  EXPECT_EQ(DecodeAs<CopyDataMessage>(FrontendBuilder().CopyData(std::string("a\0b", 3))).data,
            std::string("a\0b", 3));
  DecodeAs<CopyDoneMessage>(FrontendBuilder().CopyDone());
  EXPECT_EQ(DecodeAs<CopyFailMessage>(FrontendBuilder().CopyFail("stop")).reason, "stop");
  EXPECT_EQ(DecodeAs<PasswordMessage>(FrontendBuilder().Password("xyz")).data, "xyz");
  DecodeAs<FunctionCallMessage>(FrontendBuilder().Typed('F', "anything"));
}

TEST(FrontendMessageTest, SaslInitial) {
  FrontendBuilder b;
  b.SaslInitial("SCRAM-SHA-256", "n,,n=,r=abc");
  absl::StatusOr<SaslInitialResponse> m = DecodeSaslInitial(b.body());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->mechanism, "SCRAM-SHA-256");
  EXPECT_EQ(m->data, "n,,n=,r=abc");

  absl::StatusOr<SaslInitialResponse> none =
      DecodeSaslInitial(std::string("SCRAM-SHA-256\0", 14) + Big32(0xffffffff));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->data.has_value());

  ExpectProtocolError(DecodeSaslInitial("SCRAM").status());  // no NUL
  ExpectProtocolError(DecodeSaslInitial(std::string("M\0", 2) + Big32(5) + "abc").status());
  ExpectProtocolError(DecodeSaslInitial(std::string("M\0", 2) + Big32(0xfffffffe)).status());
  ExpectProtocolError(DecodeSaslInitial(std::string("M\0", 2) + Big32(1) + "ab").status());
}

struct MalformedCase {
  const char* name;
  char type;
  std::string body;
};

TEST(FrontendMessageTest, MalformedBodiesAreProtocolErrors) {
  const std::string s1 = std::string("s1\0", 3);
  const std::string empty = std::string(1, '\0');
  const std::vector<MalformedCase> cases = {
      {"query without NUL", 'Q', "select 1"},
      {"query with trailing bytes", 'Q', std::string("select 1\0x", 10)},
      {"parse without query", 'P', s1},
      {"parse without count", 'P', s1 + empty},
      {"parse count overruns", 'P', s1 + empty + Big16(2) + Big32(20)},
      {"parse negative count", 'P', s1 + empty + Big16(0xffff)},
      {"parse trailing bytes", 'P', s1 + empty + Big16(0) + "z"},
      {"bind without statement", 'B', empty},
      {"bind format count overruns", 'B', empty + empty + Big16(3) + Big16(0)},
      {"bind param count overruns", 'B', empty + empty + Big16(0) + Big16(2) + Big32(0)},
      {"bind param length overruns", 'B', empty + empty + Big16(0) + Big16(1) + Big32(10) + "ab"},
      {"bind negative param length", 'B', empty + empty + Big16(0) + Big16(1) + Big32(0xfffffffe)},
      {"bind without result formats", 'B', empty + empty + Big16(0) + Big16(0)},
      {"bind result count overruns", 'B', empty + empty + Big16(0) + Big16(0) + Big16(1)},
      {"bind trailing bytes", 'B', empty + empty + Big16(0) + Big16(0) + Big16(0) + "x"},
      {"describe bad kind", 'D', "X" + s1},
      {"describe without name", 'D', "S"},
      {"describe empty", 'D', ""},
      {"execute short", 'E', empty + "ab"},
      {"execute without portal", 'E', "p"},
      {"close bad kind", 'C', "Q" + empty},
      {"sync with body", 'S', "x"},
      {"flush with body", 'H', "x"},
      {"terminate with body", 'X', "x"},
      {"copy done with body", 'c', "x"},
      {"copy fail without NUL", 'f', "why"},
      {"unknown type", 'z', ""},
      {"unknown binary type", '\x01', ""},
  };
  for (const MalformedCase& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectProtocolError(DecodeFrontendMessage(c.type, c.body).status());
  }
}

}  // namespace
}  // namespace shale::gate::pgwire
