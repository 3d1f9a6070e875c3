#include "topo/path.h"

#include "gtest/gtest.h"

namespace shale::topo {
namespace {

TEST(PathTest, ValidatePath) {
  struct Case {
    const char* path;
    bool ok;
  } cases[] = {
      {"/a", true},     {"/a/b/c", true}, {"", false},       {"a", false},  {"/", false},
      {"/a/", false},   {"//a", false},   {"/a//b", false},  {"/a/./b", false},
      {"/a/../b", false}, {"/global/keyspaces/app/Keyspace", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ValidatePath(c.path).ok(), c.ok) << c.path;
  }
  EXPECT_TRUE(ValidateDir("/").ok());
}

TEST(PathTest, JoinAndPrefix) {
  EXPECT_EQ(JoinPath("/", "a"), "/a");
  EXPECT_EQ(JoinPath("/a", "b"), "/a/b");
  EXPECT_EQ(DirPrefix("/"), "/");
  EXPECT_EQ(DirPrefix("/a"), "/a/");
  EXPECT_TRUE(PathIsUnder("/a/b", "/a"));
  EXPECT_TRUE(PathIsUnder("/a", "/a"));
  EXPECT_FALSE(PathIsUnder("/ab", "/a"));
  EXPECT_TRUE(PathIsUnder("/x", "/"));
}

}  // namespace
}  // namespace shale::topo
