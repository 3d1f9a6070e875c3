// Fuzz target for the decoders `shale ctl` applies to outside bytes: stored
// topology values (DecodeTopoValue, by record type) and operator JSON
// (JsonToRecord). Neither may crash, and decoded values must print as JSON.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ctl/record_json.h"
#include "topodata.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  for (const char* path : {"/global/keyspaces/app/Keyspace", "/global/keyspaces/app/shards/0/Shard",
                           "/zone1/keyspaces/app/SrvKeyspace", "/global/keyspaces/app/locks/x",
                           "/global/meta/next_table_id"}) {
    auto j = shale::ctl::DecodeTopoValue(path, input);
    if (j.ok()) (void)j->dump();
  }
  shale::topodata::RoutingPolicy policy;
  if (shale::ctl::JsonToRecord(input, &policy).ok()) {
    (void)shale::ctl::RecordToJson(policy).dump();
  }
  return 0;
}
