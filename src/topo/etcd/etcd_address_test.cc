#include "topo/etcd/etcd_address.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "topo/etcd/etcd_keys.h"

namespace shale::topo {
namespace {

TEST(EtcdAddressTest, ParsesGoodAddresses) {
  struct Case {
    std::string address;
    std::vector<std::string> endpoints;
    std::string root;
  };
  const std::vector<Case> cases = {
      {"etcd://127.0.0.1:2379/shale", {"127.0.0.1:2379"}, "/shale"},
      {"etcd://a:1,b:2,c:3/x/y", {"a:1", "b:2", "c:3"}, "/x/y"},
      {"etcd://etcd1/shale", {"etcd1:2379"}, "/shale"},
      {"etcd://h:2379", {"h:2379"}, ""},
      {"etcd://h:2379/", {"h:2379"}, ""},
      {"etcd://[::1]:2379,[fe80::1]/r", {"[::1]:2379", "[fe80::1]:2379"}, "/r"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.address);
    auto parsed = ParseEtcdAddress(c.address);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->endpoints, c.endpoints);
    EXPECT_EQ(parsed->root, c.root);
  }
}

TEST(EtcdAddressTest, RejectsBadAddresses) {
  const std::vector<std::string> bad = {
      "",           "zk://h:1/r",    "etcd://",      "etcd:///root", "etcd://h:1,/r",
      "etcd://h:/r", "etcd://h:0/r", "etcd://h:99999/r", "etcd://h:x/r", "etcd://h:1/r/",
      "etcd://h:1//r", "etcd://h:1/a/../b", "etcd://[::1/r", "etcd://:1/r",
  };
  for (const std::string& address : bad) {
    auto parsed = ParseEtcdAddress(address);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << "'" << address << "' gave " << parsed.status();
  }
}

TEST(EtcdKeysTest, PrefixEndAndRanges) {
  using etcd_internal::EtcdKeys;
  using etcd_internal::PrefixEnd;
  EXPECT_EQ(PrefixEnd("/a/"), "/a0");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff", 2)), std::string(1, '\0'));
  EtcdKeys keys("/root");
  EXPECT_EQ(keys.Key("/global/a"), "/root/global/a");
  EXPECT_EQ(keys.PathOf("/root/global/a"), "/global/a");
  EXPECT_EQ(keys.DirRange("/"), std::make_pair(std::string("/root/"), std::string("/root0")));
  EXPECT_EQ(keys.DirRange("/ks"), std::make_pair(std::string("/root/ks/"), std::string("/root/ks0")));
  EXPECT_EQ(keys.LockKey("/ks"), "/root/ks/locks/lock");
  EXPECT_EQ(keys.LockKey("/"), "/root/locks/lock");
  EXPECT_EQ(EtcdKeys("").Key("/x"), "/x");
}

}  // namespace
}  // namespace shale::topo
