#include "topo/zk/zk_address.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace shale::topo {
namespace {

TEST(ZkAddressTest, ParsesHostsAndRoot) {
  auto one = ParseZkAddress("zk://127.0.0.1:2181/shale");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->hosts, "127.0.0.1:2181");
  EXPECT_EQ(one->root, "/shale");

  auto many = ParseZkAddress("zk://zk1:2181,zk2:2182,10.0.0.3:2183/prod/shale");
  ASSERT_TRUE(many.ok()) << many.status();
  EXPECT_EQ(many->hosts, "zk1:2181,zk2:2182,10.0.0.3:2183");
  EXPECT_EQ(many->root, "/prod/shale");
}

TEST(ZkAddressTest, RejectsMalformedAddresses) {
  const std::vector<std::string> bad = {
      "",
      "zk:/h:1/r",
      "etcd://h:1/r",
      "zk://h:1",          // no root
      "zk://h:1/",         // root "/"
      "zk:///r",           // no host
      "zk://h/r",          // no port
      "zk://h:0/r",        // port out of range
      "zk://h:65536/r",
      "zk://h:x/r",
      "zk://h:1,/r",       // empty host
      "zk://h:1,h2/r",     // second host without port
      "zk://h:1/r/",       // trailing slash
      "zk://h:1/r//s",
  };
  for (const std::string& address : bad) {
    auto parsed = ParseZkAddress(address);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << "'" << address << "' gave " << parsed.status();
  }
}

}  // namespace
}  // namespace shale::topo
