// Conformance: Create/Get/Update/Delete/ListDir and path validation.

#include <optional>
#include <string>
#include <vector>

#include "topo/conformance/conformance_suite.h"

namespace shale::topo::conformance {
namespace {

TEST_P(TopoConformanceTest, CreateThenGet) {
  ASSERT_OK_AND_ASSIGN(Version version, conn_->Create("/global/a", "hello"));
  ASSERT_OK_AND_ASSIGN(Versioned got, conn_->Get("/global/a"));
  EXPECT_EQ(got.value, "hello");
  EXPECT_EQ(got.version, version);
  EXPECT_CODE(conn_->Create("/global/a", "again"), kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(got, conn_->Get("/global/a"));
  EXPECT_EQ(got.value, "hello");  // the failed Create changed nothing
  EXPECT_CODE(conn_->Get("/global/missing"), kNotFound);
  // A directory is not a node.
  EXPECT_CODE(conn_->Get("/global"), kNotFound);
}

TEST_P(TopoConformanceTest, ValuesAreBytes) {
  const std::string binary("\0\x01\xff\n'\"x\0", 8);
  ASSERT_OK(conn_->Create("/bin", binary));
  ASSERT_OK_AND_ASSIGN(Versioned got, conn_->Get("/bin"));
  EXPECT_EQ(got.value, binary);
  ASSERT_OK(conn_->Create("/empty", ""));
  ASSERT_OK_AND_ASSIGN(got, conn_->Get("/empty"));
  EXPECT_EQ(got.value, "");
}

TEST_P(TopoConformanceTest, ConnsShareOneStore) {
  std::unique_ptr<Conn> other = NewConn();
  ASSERT_NE(other, nullptr);
  ASSERT_OK_AND_ASSIGN(Version version, conn_->Create("/shared", "1"));
  ASSERT_OK_AND_ASSIGN(Versioned got, other->Get("/shared"));
  EXPECT_EQ(got.value, "1");
  EXPECT_EQ(got.version, version);
  ASSERT_OK(other->Update("/shared", "2", version));
  EXPECT_CODE(conn_->Update("/shared", "3", version), kAborted);
}

TEST_P(TopoConformanceTest, UpdateCompareAndSet) {
  ASSERT_OK_AND_ASSIGN(Version v1, conn_->Create("/cas", "1"));
  ASSERT_OK_AND_ASSIGN(Version v2, conn_->Update("/cas", "2", v1));
  EXPECT_NE(v2, v1);
  // A stale version is refused and leaves the value alone.
  EXPECT_CODE(conn_->Update("/cas", "stale", v1), kAborted);
  ASSERT_OK_AND_ASSIGN(Versioned got, conn_->Get("/cas"));
  EXPECT_EQ(got.value, "2");
  EXPECT_EQ(got.version, v2);
  // Writing the same bytes still makes a new version.
  ASSERT_OK_AND_ASSIGN(Version v3, conn_->Update("/cas", "2", v2));
  EXPECT_NE(v3, v2);
  EXPECT_CODE(conn_->Update("/cas", "x", v2), kAborted);
  // A conditional update of a missing node is NotFound, and creates nothing.
  EXPECT_CODE(conn_->Update("/missing", "x", v3), kNotFound);
  EXPECT_CODE(conn_->Get("/missing"), kNotFound);
}

TEST_P(TopoConformanceTest, UnconditionalUpdateCreatesAndOverwrites) {
  ASSERT_OK_AND_ASSIGN(Version v1, conn_->Update("/u", "created", std::nullopt));
  ASSERT_OK_AND_ASSIGN(Versioned got, conn_->Get("/u"));
  EXPECT_EQ(got.value, "created");
  EXPECT_EQ(got.version, v1);
  ASSERT_OK_AND_ASSIGN(Version v2, conn_->Update("/u", "overwritten", std::nullopt));
  EXPECT_NE(v2, v1);
  ASSERT_OK_AND_ASSIGN(got, conn_->Get("/u"));
  EXPECT_EQ(got.value, "overwritten");
  EXPECT_EQ(got.version, v2);
  EXPECT_CODE(conn_->Create("/u", "x"), kAlreadyExists);
}

TEST_P(TopoConformanceTest, DeleteWithAndWithoutVersion) {
  ASSERT_OK_AND_ASSIGN(Version v1, conn_->Create("/d1", "x"));
  ASSERT_OK_AND_ASSIGN(Version v2, conn_->Update("/d1", "y", v1));
  EXPECT_CODE(conn_->Delete("/d1", v1), kAborted);
  ASSERT_OK_AND_ASSIGN(Versioned got, conn_->Get("/d1"));
  EXPECT_EQ(got.value, "y");
  ASSERT_OK(conn_->Delete("/d1", v2));
  EXPECT_CODE(conn_->Get("/d1"), kNotFound);
  EXPECT_CODE(conn_->Delete("/d1", std::nullopt), kNotFound);
  EXPECT_CODE(conn_->Delete("/d1", v2), kNotFound);

  ASSERT_OK(conn_->Create("/d2", "x"));
  ASSERT_OK(conn_->Delete("/d2", std::nullopt));
  EXPECT_CODE(conn_->Get("/d2"), kNotFound);
  // The path can be created again.
  ASSERT_OK(conn_->Create("/d2", "again"));
  ASSERT_OK_AND_ASSIGN(got, conn_->Get("/d2"));
  EXPECT_EQ(got.value, "again");
}

TEST_P(TopoConformanceTest, DeletingAChildKeepsItsSiblingsAndParent) {
  ASSERT_OK(conn_->Create("/p", "parent"));
  ASSERT_OK(conn_->Create("/p/a", "a"));
  ASSERT_OK(conn_->Create("/p/b", "b"));
  ASSERT_OK(conn_->Delete("/p/a", std::nullopt));
  EXPECT_OK(conn_->Get("/p"));
  EXPECT_OK(conn_->Get("/p/b"));
  // Deleting the parent's value leaves the children.
  ASSERT_OK(conn_->Delete("/p", std::nullopt));
  EXPECT_OK(conn_->Get("/p/b"));
}

TEST_P(TopoConformanceTest, ListDirImmediateChildrenSorted) {
  for (const char* path : {"/ks/zeta", "/ks/alpha/x", "/ks/alpha/y/z", "/ks/beta", "/ks/beta/c",
                           "/ks/b-dash", "/ksx/outside", "/ks2"}) {
    ASSERT_OK(conn_->Create(path, path));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<DirEntry> entries, conn_->ListDir("/ks"));
  std::vector<DirEntry> want = {
      {"alpha", /*has_value=*/false, /*has_children=*/true},
      {"b-dash", true, false},
      {"beta", true, true},
      {"zeta", true, false},
  };
  EXPECT_EQ(entries, want);

  ASSERT_OK_AND_ASSIGN(entries, conn_->ListDir("/ks/alpha"));
  want = {{"x", true, false}, {"y", false, true}};
  EXPECT_EQ(entries, want);

  ASSERT_OK_AND_ASSIGN(entries, conn_->ListDir("/"));
  want = {{"ks", false, true}, {"ks2", true, false}, {"ksx", false, true}};
  EXPECT_EQ(entries, want);
}

TEST_P(TopoConformanceTest, ListDirOfEmptyDirIsNotFound) {
  EXPECT_CODE(conn_->ListDir("/nothing/here"), kNotFound);
  ASSERT_OK(conn_->Create("/leaf", "v"));
  // A node without children is not a directory with entries.
  EXPECT_CODE(conn_->ListDir("/leaf"), kNotFound);
  ASSERT_OK(conn_->Create("/gone/child", "v"));
  ASSERT_OK(conn_->Delete("/gone/child", std::nullopt));
  EXPECT_CODE(conn_->ListDir("/gone"), kNotFound);
}

TEST_P(TopoConformanceTest, BadPathsAreInvalidArgument) {
  const std::vector<std::string> bad = {"", "a", "a/b", "/a/", "//a", "/a//b", "/a/./b", "/a/../b"};
  for (const std::string& path : bad) {
    SCOPED_TRACE("path '" + path + "'");
    EXPECT_CODE(conn_->Create(path, "v"), kInvalidArgument);
    EXPECT_CODE(conn_->Get(path), kInvalidArgument);
    EXPECT_CODE(conn_->Update(path, "v", std::nullopt), kInvalidArgument);
    EXPECT_CODE(conn_->Update(path, "v", Version{1}), kInvalidArgument);
    EXPECT_CODE(conn_->Delete(path, std::nullopt), kInvalidArgument);
    EXPECT_CODE(conn_->ListDir(path), kInvalidArgument);
    EXPECT_CODE(conn_->Lock(path, "c", absl::Milliseconds(10)), kInvalidArgument);
    EXPECT_CODE(conn_->Watch(path, [](const WatchEvent&) {}), kInvalidArgument);
    EXPECT_CODE(conn_->WatchDir(path, [](const WatchEvent&) {}), kInvalidArgument);
  }
  // "/" is a directory, never a node.
  EXPECT_CODE(conn_->Create("/", "v"), kInvalidArgument);
  EXPECT_CODE(conn_->Get("/"), kInvalidArgument);
  EXPECT_CODE(conn_->Update("/", "v", std::nullopt), kInvalidArgument);
  EXPECT_CODE(conn_->Delete("/", std::nullopt), kInvalidArgument);
  EXPECT_CODE(conn_->Watch("/", [](const WatchEvent&) {}), kInvalidArgument);
  // Nothing was stored by the failed calls.
  EXPECT_CODE(conn_->ListDir("/"), kNotFound);
}

}  // namespace
}  // namespace shale::topo::conformance
