#include "gate/copy/utf8_check.h"

#include <string>

#include "gtest/gtest.h"

namespace shale::gate::copy {
namespace {

struct Utf8Case {
  std::string input;
  std::string message;  // "" when valid
};

TEST(Utf8CheckTest, FindsTheFirstBadSequence) {
  const Utf8Case cases[] = {
      {"", ""},
      {"plain ascii", ""},
      {"\xc2\x80 \xdf\xbf", ""},                       // 2-byte range ends
      {"\xe0\xa0\x80 \xef\xbf\xbf \xed\x9f\xbf", ""},  // 3-byte, below the surrogates
      {"\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf", ""},       // 4-byte up to U+10FFFF
      {"ab\x80", "0x80"},                              // stray continuation
      {"\xc1\xbf", "0xc1 0xbf"},                       // overlong 2-byte
      {"\xe0\x9f\xbf", "0xe0 0x9f 0xbf"},              // overlong 3-byte
      {"\xed\xa0\x80", "0xed 0xa0 0x80"},              // surrogate
      {"\xf0\x8f\xbf\xbf", "0xf0 0x8f 0xbf 0xbf"},     // overlong 4-byte
      {"\xf4\x90\x80\x80", "0xf4 0x90 0x80 0x80"},     // above U+10FFFF
      {"\xf5\x80\x80\x80", "0xf5 0x80 0x80 0x80"},     // no such lead byte
      {"\xfe", "0xfe"},
      {"x\xe2\x82", "0xe2 0x82"},        // cut short at the end
      {"\xe2(\xa1", "0xe2 0x28 0xa1"},   // bad continuation
      {std::string("ok\0", 3), "0x00"},  // NUL
  };
  for (const Utf8Case& c : cases) {
    const std::optional<Utf8Error> error = FindInvalidUtf8(c.input);
    if (c.message.empty()) {
      EXPECT_FALSE(error.has_value()) << c.input;
      continue;
    }
    ASSERT_TRUE(error.has_value()) << c.message;
    EXPECT_EQ(InvalidUtf8Message(c.input, *error),
              "invalid byte sequence for encoding \"UTF8\": " + c.message);
  }
}

TEST(Utf8CheckTest, ReportsTheOffset) {
  const std::optional<Utf8Error> error = FindInvalidUtf8("h\xc3\xa9\xff!");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->offset, 3u);
  EXPECT_EQ(error->length, 1u);
}

}  // namespace
}  // namespace shale::gate::copy
