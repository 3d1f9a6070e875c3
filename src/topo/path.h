#pragma once

// Path rules shared by every backend: absolute, slash-separated, no empty,
// "." or ".." components, no trailing slash. "/" is the root directory.

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace shale::topo {

// InvalidArgument naming the problem, or OK.
absl::Status ValidatePath(std::string_view path);
// Like ValidatePath, but also accepts "/".
absl::Status ValidateDir(std::string_view dir);

// "/a/b" + "c" -> "/a/b/c"; "/" + "c" -> "/c".
std::string JoinPath(std::string_view dir, std::string_view name);

// The prefix that every path strictly below dir starts with: "/a" -> "/a/", "/" -> "/".
std::string DirPrefix(std::string_view dir);

// True if path is dir itself or lies below it.
bool PathIsUnder(std::string_view path, std::string_view dir);

}  // namespace shale::topo
