#include "topo/etcd/etcd_server_command.h"

#include <stdlib.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace shale::topo {

std::string FindEtcdBinary() {
  const char* env = getenv("SHALE_ETCD_BINARY");
  if (env != nullptr && *env != '\0') return env;
  if (access("/usr/bin/etcd", X_OK) == 0) return "/usr/bin/etcd";
  const char* path = getenv("PATH");
  if (path == nullptr) return "";
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    std::string candidate = absl::StrCat(dir, "/etcd");
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

}  // namespace shale::topo
