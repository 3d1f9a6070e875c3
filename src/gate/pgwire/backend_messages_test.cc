#include "gate/pgwire/backend_messages.h"

#include <string>
#include <vector>

#include "base/sqlstate.h"
#include "gate/pgwire/byte_order.h"
#include "gtest/gtest.h"

namespace shale::gate::pgwire {
namespace {

using namespace std::string_literals;

// Splits a buffer of backend messages into (type, body) pairs, checking
// every length word.
std::vector<std::pair<char, std::string>> Split(const std::string& data) {
  std::vector<std::pair<char, std::string>> out;
  size_t pos = 0;
  while (pos < data.size()) {
    EXPECT_GE(data.size() - pos, 5u);
    if (data.size() - pos < 5) break;
    uint32_t len = LoadBig32(data.data() + pos + 1);
    EXPECT_GE(len, 4u);
    EXPECT_LE(pos + 1 + len, data.size());
    out.emplace_back(data[pos], data.substr(pos + 5, len - 4));
    pos += 1 + len;
  }
  return out;
}

TEST(BackendMessagesTest, ExactBytes) {
  WireBuffer b;
  EncodeReadyForQuery('T', &b);
  EXPECT_EQ(b.data(), "Z\0\0\0\x05T"s);
  b.Clear();
  EncodeAuthenticationOk(&b);
  EXPECT_EQ(b.data(), "R\0\0\0\x08\0\0\0\0"s);
  b.Clear();
  EncodeBackendKeyData(0x01020304, 0xa0b0c0d0, &b);
  EXPECT_EQ(b.data(), "K\0\0\0\x0c\x01\x02\x03\x04\xa0\xb0\xc0\xd0"s);
  b.Clear();
  EncodeCommandComplete("SELECT 3", &b);
  EXPECT_EQ(b.data(), "C\0\0\0\x0dSELECT 3\0"s);
  b.Clear();
  EncodeParameterStatus("TimeZone", "UTC", &b);
  EXPECT_EQ(b.data(), "S\0\0\0\x11TimeZone\0UTC\0"s);
  b.Clear();
  const absl::string_view mechs[] = {"SCRAM-SHA-256"};
  EncodeAuthenticationSasl(mechs, &b);
  EXPECT_EQ(b.data(), "R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0"s);
  b.Clear();
  EncodeAuthenticationSaslContinue("r=x", &b);
  EXPECT_EQ(b.data(), "R\0\0\0\x0b\0\0\0\x0br=x"s);
  b.Clear();
  EncodeAuthenticationSaslFinal("v=y", &b);
  EXPECT_EQ(b.data(), "R\0\0\0\x0b\0\0\0\x0cv=y"s);
  b.Clear();
  EncodeParameterDescription(std::vector<uint32_t>{20, 25}, &b);
  EXPECT_EQ(b.data(), "t\0\0\0\x0e\0\x02\0\0\0\x14\0\0\0\x19"s);
  b.Clear();
  EncodeCopyInResponse(2, &b);
  EXPECT_EQ(b.data(), "G\0\0\0\x0b\0\0\x02\0\0\0\0"s);
  b.Clear();
  EncodeDataRow({std::string("ab"), std::nullopt}, &b);
  EXPECT_EQ(b.data(), "D\0\0\0\x10\0\x02\0\0\0\x02" "ab\xff\xff\xff\xff"s);
}

TEST(BackendMessagesTest, EmptyMessages) {
  WireBuffer b;
  EncodeEmptyQueryResponse(&b);
  EncodeParseComplete(&b);
  EncodeBindComplete(&b);
  EncodeCloseComplete(&b);
  EncodeNoData(&b);
  EncodePortalSuspended(&b);
  std::vector<std::pair<char, std::string>> messages = Split(b.data());
  std::string types;
  for (const auto& m : messages) {
    types.push_back(m.first);
    EXPECT_TRUE(m.second.empty());
  }
  EXPECT_EQ(types, "I123ns");
}

TEST(BackendMessagesTest, RowDescription) {
  WireBuffer b;
  std::vector<ColumnDescription> columns = {{"id", 20, 8, 1}, {"name", 25, -1, 0}};
  EncodeRowDescription(columns, &b);
  auto messages = Split(b.data());
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].first, 'T');
  EXPECT_EQ(messages[0].second,
            "\0\x02"
            "id\0" "\0\0\0\0" "\0\0" "\0\0\0\x14" "\0\x08" "\xff\xff\xff\xff" "\0\x01"
            "name\0" "\0\0\0\0" "\0\0" "\0\0\0\x19" "\xff\xff" "\xff\xff\xff\xff" "\0\0"s);
}

TEST(BackendMessagesTest, ErrorResponseFromStatus) {
  WireBuffer b;
  absl::Status status = WithErrorPosition(
      SqlError(absl::StatusCode::kInvalidArgument, "42601", "syntax error at or near \"x\""), 8);
  EncodeStatusError(status, "ERROR", &b);
  auto messages = Split(b.data());
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].first, 'E');
  EXPECT_EQ(messages[0].second,
            "SERROR\0VERROR\0C42601\0Msyntax error at or near \"x\"\0P8\0\0"s);

  b.Clear();
  EncodeStatusError(absl::UnavailableError("shard down"), "FATAL", &b);
  EXPECT_EQ(Split(b.data())[0].second, "SFATAL\0VFATAL\0C08006\0Mshard down\0\0"s);

  b.Clear();
  EncodeNoticeResponse({"NOTICE", "00000", "hello", 0}, &b);
  EXPECT_EQ(b.data()[0], 'N');
}

TEST(WireBufferTest, NulInStringIsCutAndTruncateDropsTail) {
  WireBuffer b;
  EncodeCommandComplete("A\0B"s, &b);
  EXPECT_EQ(b.data(), "C\0\0\0\x06" "A\0"s);
  size_t mark = b.size();
  EncodeNoData(&b);
  b.Truncate(mark);
  EXPECT_EQ(b.size(), mark);
  b.Truncate(mark + 100);  // beyond the end: no change
  EXPECT_EQ(b.size(), mark);
}

}  // namespace
}  // namespace shale::gate::pgwire
