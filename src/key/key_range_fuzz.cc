// Fuzz target for KeyRange::Parse: any input either fails to parse or yields a
// valid range whose canonical name parses back to the same range.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include "absl/strings/string_view.h"

#include "key/key_range.h"

namespace {

[[noreturn]] void Fail(absl::string_view input, const char* what) {
  std::fprintf(stderr, "key_range_fuzz: invariant violated for input of %zu bytes: %s\n",
               input.size(), what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = shale::key::KeyRange::Parse(input);
  if (!parsed.ok()) {
    if (parsed.status().code() != absl::StatusCode::kInvalidArgument) {
      Fail(input, "Parse failed with a code other than InvalidArgument");
    }
    if (parsed.status().message().find('\n') != absl::string_view::npos) {
      Fail(input, "Parse error message spans more than one line");
    }
    return 0;
  }
  const shale::key::KeyRange& r = *parsed;
  if (r.has_end() && r.start() >= r.end()) Fail(input, "bounded range with start >= end");
  if (!r.has_end() && r.end() != 0) Fail(input, "unbounded range with a nonzero end");
  std::string name = r.ToString();
  auto again = shale::key::KeyRange::Parse(name);
  if (!again.ok()) Fail(input, "canonical name does not parse");
  if (!(*again == r)) Fail(input, "canonical name parses to a different range");
  if (again->ToString() != name) Fail(input, "canonical name is not stable");
  if (!(shale::key::KeyRange::FromProto(r.ToProto()) == r)) Fail(input, "proto round trip differs");
  if (!r.Covers(r) || !r.Overlaps(r)) Fail(input, "range does not cover or overlap itself");
  if (!r.Contains(shale::key::KeyspaceId{r.start()}))
    Fail(input, "range does not contain its start");
  return 0;
}
