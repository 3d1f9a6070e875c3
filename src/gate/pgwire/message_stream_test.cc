#include "gate/pgwire/message_stream.h"

#include <string>

#include "base/sqlstate.h"
#include "gate/pgwire/byte_order.h"
#include "gate/pgwire/frontend_builder.h"
#include "gtest/gtest.h"

namespace shale::gate::pgwire {
namespace {

// Hands out `input` at most `chunk` bytes per Read, then end of stream;
// keeps what is written.
class FakeTransport : public Transport {
 public:
  FakeTransport(std::string input, size_t chunk, std::string* written)
      : input_(std::move(input)), chunk_(chunk), written_(written) {}
  absl::StatusOr<size_t> Read(char* buf, size_t size, absl::Time) override {
    size_t n = std::min({size, chunk_, input_.size() - pos_});
    input_.copy(buf, n, pos_);
    pos_ += n;
    return n;
  }
  absl::Status Write(absl::string_view data) override {
    written_->append(data.data(), data.size());
    return absl::OkStatus();
  }

 private:
  std::string input_;
  size_t pos_ = 0;
  size_t chunk_;
  std::string* written_;
};

MessageStream Stream(const std::string& input, size_t chunk, std::string* written) {
  return MessageStream(std::make_unique<FakeTransport>(input, chunk, written));
}

TEST(MessageStreamTest, FramesStartupAndMessagesWhateverTheReadSizes) {
  FrontendBuilder b;
  b.Startup({{"user", "u"}}).Query("select 1").Sync().CopyData(std::string(200000, 'x'));
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{1} << 20}) {
    SCOPED_TRACE(chunk);
    std::string written;
    MessageStream s = Stream(b.bytes(), chunk, &written);
    absl::StatusOr<absl::string_view> startup = s.ReadStartupPacket();
    ASSERT_TRUE(startup.ok()) << startup.status();
    EXPECT_TRUE(DecodeStartupPacket(*startup).ok());
    absl::StatusOr<MessageStream::Message> q = s.ReadMessage();
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_EQ(q->type, 'Q');
    EXPECT_EQ(q->body, std::string("select 1") + '\0');
    absl::StatusOr<MessageStream::Message> sync = s.ReadMessage();
    ASSERT_TRUE(sync.ok());
    EXPECT_EQ(sync->type, 'S');
    EXPECT_TRUE(sync->body.empty());
    absl::StatusOr<MessageStream::Message> copy = s.ReadMessage();
    ASSERT_TRUE(copy.ok());
    EXPECT_EQ(copy->body.size(), 200000u);
    absl::StatusOr<MessageStream::Message> end = s.ReadMessage();
    EXPECT_TRUE(IsConnectionLost(end.status())) << end.status();
  }
}

TEST(MessageStreamTest, EndOfStreamMidMessageIsConnectionLost) {
  std::string bytes = FrontendBuilder().Query("select 1").bytes();
  std::string written;
  MessageStream s = Stream(bytes.substr(0, bytes.size() - 2), 3, &written);
  absl::StatusOr<MessageStream::Message> m = s.ReadMessage();
  EXPECT_TRUE(IsConnectionLost(m.status())) << m.status();
  EXPECT_EQ(m.status().code(), absl::StatusCode::kUnavailable);
}

TEST(MessageStreamTest, BadLengthsAreProtocolErrorsBeforeTheBodyIsRead) {
  std::string huge = "Q";
  AppendBig32(kMaxMessage + 1, &huge);
  std::string written;
  MessageStream s = Stream(huge, 64, &written);
  absl::StatusOr<MessageStream::Message> m = s.ReadMessage();
  EXPECT_EQ(SqlState(m.status()), "08P01") << m.status();

  std::string startup;
  AppendBig32(kMaxStartupPacket + 1, &startup);
  MessageStream t = Stream(startup, 64, &written);
  EXPECT_EQ(SqlState(t.ReadStartupPacket().status()), "08P01");
}

TEST(MessageStreamTest, BufferedMessagesAndFlush) {
  FrontendBuilder b;
  b.Sync().Sync();
  std::string written;
  MessageStream s = Stream(b.bytes(), 1 << 20, &written);
  ASSERT_TRUE(s.ReadMessage().ok());
  EXPECT_TRUE(s.has_buffered_input());
  EXPECT_TRUE(s.HasBufferedMessage());  // the second Sync came in the same read
  ASSERT_TRUE(s.ReadMessage().ok());
  EXPECT_FALSE(s.HasBufferedMessage());

  EncodeReadyForQuery('I', &s.out());
  EXPECT_TRUE(s.FlushIfLarge().ok());
  EXPECT_TRUE(written.empty());  // small output waits
  EXPECT_EQ(s.flush_count(), 0u);
  ASSERT_TRUE(s.Flush().ok());
  EXPECT_EQ(written, std::string("Z\0\0\0\x05I", 6));
  EXPECT_EQ(s.flush_count(), 1u);
  EXPECT_TRUE(s.out().empty());
}

}  // namespace
}  // namespace shale::gate::pgwire
