#pragma once

// For tests: a throw-away certificate authority and certificates made with
// the openssl command line, as an operator would make them (docs/operations.md
// shows the same commands). Stateless; safe from any thread.

#include <string>

#include "absl/status/status.h"

namespace shale::grpc_tls {

// Writes into dir (which must exist):
//   ca.crt, ca.key            a self-signed CA (openssl req -x509 -newkey)
//   server.crt, server.key    signed by it, for DNS:localhost and IP:127.0.0.1
//   shared.crt, shared.key    signed by it, for DNS:shale-tablet only (one
//                             certificate for every server, --grpc-tls-server-name)
//   client.crt, client.key    signed by it, CN=shale-client (for mTLS)
//   other-ca.crt, other-ca.key  an unrelated CA (a client that trusts it fails)
// Internal naming the failing openssl command when openssl fails.
absl::Status WriteTestCerts(const std::string& dir);

}  // namespace shale::grpc_tls
