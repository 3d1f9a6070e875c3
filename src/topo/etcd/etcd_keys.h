#pragma once

// Internal to topo/etcd: how topology paths map onto etcd keys.
//
// The key of a path is ROOT + path ("/shale" + "/global/a" = "/shale/global/a").
// Everything below a directory is the key range with prefix ROOT + DirPrefix(dir)
// (ROOT + "/global/" for "/global", ROOT + "/" for "/"), so a directory's own
// value is never part of its listing or directory watch. The lock of DIR is
// the key of DIR/locks/lock.

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "topo/path.h"

namespace shale::topo::etcd_internal {

// The end of the range of every key starting with prefix: prefix with its
// last byte below 0xff incremented (and what follows dropped); "\0" (the end
// of the keyspace, in etcd's convention) if there is none.
inline std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

class EtcdKeys {
 public:
  explicit EtcdKeys(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string Key(absl::string_view path) const { return absl::StrCat(root_, path); }
  // The path of a key below the root.
  std::string PathOf(absl::string_view key) const { return std::string(key.substr(root_.size())); }
  // [first, end) of every key strictly below dir.
  std::pair<std::string, std::string> DirRange(absl::string_view dir) const {
    std::string first = absl::StrCat(root_, DirPrefix(dir));
    std::string end = PrefixEnd(first);
    return {std::move(first), std::move(end)};
  }
  std::string LockKey(absl::string_view dir) const {
    return Key(JoinPath(JoinPath(dir, "locks"), "lock"));
  }

 private:
  const std::string root_;
};

}  // namespace shale::topo::etcd_internal
