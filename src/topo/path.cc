#include "topo/path.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace shale::topo {

absl::Status ValidatePath(absl::string_view path) {
  // The path is quoted escaped, so an error stays one line whatever it holds.
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("topology path '", absl::CHexEscape(path), "' ", why));
  };
  if (path.empty() || path[0] != '/') return bad("must start with /");
  if (path == "/") return absl::InvalidArgumentError("topology path '/' is a directory, not a node");
  if (path.back() == '/') return bad("ends with /");
  for (absl::string_view part : absl::StrSplit(path.substr(1), '/')) {
    if (part.empty() || part == "." || part == "..") {
      return bad("has an empty, '.' or '..' component");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDir(absl::string_view dir) {
  if (dir == "/") return absl::OkStatus();
  return ValidatePath(dir);
}

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  if (dir == "/") return absl::StrCat("/", name);
  return absl::StrCat(dir, "/", name);
}

std::string DirPrefix(absl::string_view dir) {
  if (dir == "/") return "/";
  return absl::StrCat(dir, "/");
}

bool PathIsUnder(absl::string_view path, absl::string_view dir) {
  if (path == dir) return true;
  std::string prefix = DirPrefix(dir);
  return path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix;
}

}  // namespace shale::topo
