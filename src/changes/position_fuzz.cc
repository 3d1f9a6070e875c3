// libFuzzer target for the keyspace position parser (`--from`, Gate.Subscribe's
// `from`: outside input). Whatever parses must print back to text that parses
// to the same positions.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "changes/keyspace_position.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<shale::changes::KeyspacePosition> p =
      shale::changes::KeyspacePosition::Parse(text);
  if (!p.ok()) return 0;
  absl::StatusOr<shale::changes::KeyspacePosition> again =
      shale::changes::KeyspacePosition::Parse(p->ToString());
  if (!again.ok() || again->ToString() != p->ToString()) std::abort();
  return 0;
}
