// Fuzz target for the parsers of operator-supplied names: tablet aliases,
// topology paths, keyspace and cell names. Checks round trips and that
// errors stay one line.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "topo/path.h"
#include "topo/server.h"
#include "topo/tablet_alias.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "invariant violated: %s\n", what);
    abort();
  }
}

bool OneLine(const absl::Status& s) { return s.message().find('\n') == absl::string_view::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  auto alias = shale::topo::TabletAlias::Parse(input);
  if (alias.ok()) {
    auto again = shale::topo::TabletAlias::Parse(alias->ToString());
    Check(again.ok() && *again == *alias, "alias round trip");
  }
  absl::Status path = shale::topo::ValidatePath(input);
  if (path.ok()) {
    Check(shale::topo::PathIsUnder(input, "/"), "valid path lies under /");
    Check(shale::topo::ValidateDir(input).ok(), "valid path is a valid dir");
  }
  absl::Status name = shale::topo::ValidateName("keyspace", input);
  Check(path.ok() || OneLine(path), "path error is one line");
  Check(name.ok() || OneLine(name), "name error is one line");
  return 0;
}
