#pragma once

// GateContext: what every client session of the gateway shares. Built and
// owned by the Gateway (gateway.h), borrowed by sessions, which never outlive
// it. Every member is thread-safe.

#include <string>

#include "base/metrics/registry.h"
#include "discovery/health_check.h"
#include "discovery/srv_keyspace_watcher.h"
#include "discovery/tablet_picker.h"
#include "gate/buffer.h"
#include "gate/schema_cache.h"
#include "gate/table_ddl.h"
#include "gate/tablet_stream.h"
#include "topo/server.h"

namespace shale::gate {

enum class TransactionMode {
  kSingle,  // a transaction may touch one shard; more is an error
  kMulti,   // a transaction may touch several shards; commits run in order, best effort
};

struct GateMetrics {
  metrics::CounterFamily* statements = nullptr;  // shale_gate_statements_total{kind}
  metrics::CounterFamily* errors = nullptr;      // shale_gate_errors_total{sqlstate_class}
  metrics::Counter* retries = nullptr;           // shale_gate_retries_total
  metrics::Counter* scatters = nullptr;          // shale_gate_scatter_statements_total
};

struct GateContext {
  std::string cell;
  TransactionMode transaction_mode = TransactionMode::kMulti;
  topo::Server* ts = nullptr;
  discovery::HealthCheck* health = nullptr;
  discovery::SrvKeyspaceWatcher* serving = nullptr;
  discovery::TabletPicker* picker = nullptr;
  SchemaCache* schemas = nullptr;
  StreamPool* pool = nullptr;
  PrimaryBuffer* buffer = nullptr;
  TableCreator* table_creator = nullptr;  // schema changes go to ctld (table_ddl.h)
  TableDropper* table_dropper = nullptr;
  GateMetrics metrics;
};

}  // namespace shale::gate
