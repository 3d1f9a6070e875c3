#pragma once

// Path rules shared by every backend: absolute, slash-separated, no empty,
// "." or ".." components, no trailing slash. "/" is the root directory.

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace shale::topo {

// InvalidArgument naming the problem, or OK.
absl::Status ValidatePath(absl::string_view path);
// Like ValidatePath, but also accepts "/".
absl::Status ValidateDir(absl::string_view dir);

// "/a/b" + "c" -> "/a/b/c"; "/" + "c" -> "/c".
std::string JoinPath(absl::string_view dir, absl::string_view name);

// The prefix that every path strictly below dir starts with: "/a" -> "/a/", "/" -> "/".
std::string DirPrefix(absl::string_view dir);

// True if path is dir itself or lies below it.
bool PathIsUnder(absl::string_view path, absl::string_view dir);

}  // namespace shale::topo
