#pragma once

// TlsOptions: the PEM files that turn on TLS for Shale's cluster-internal
// gRPC (tablets, ctld and their callers), as the --grpc-tls-* flags give
// them. A plain value; empty fields mean "not given". Read by
// credentials.h; owned by whoever builds a server or sets the process's
// client credentials.

#include <string>

#include "absl/status/status.h"

namespace shale::grpc_tls {

struct TlsOptions {
  // This process's certificate chain and private key (PEM files). A server
  // serves them; a client presents them to servers that ask for one (mTLS).
  std::string cert_file;
  std::string key_file;
  // CA bundle (PEM) that peers' certificates must chain to. A client needs it
  // to verify servers (without it, the system's roots are used); a server
  // uses it only with require_client_cert.
  std::string ca_file;
  // Server side: refuse clients that present no certificate signed by
  // ca_file (mutual TLS).
  bool require_client_cert = false;
  // Client side: the name servers' certificates must carry, instead of the
  // host name dialled (for one certificate shared by every tablet).
  std::string server_name;

  // Whether this process serves gRPC over TLS (a certificate is given).
  bool ServerEnabled() const { return !cert_file.empty(); }
  // Whether this process dials gRPC over TLS (a CA or a certificate is given).
  bool ClientEnabled() const { return !ca_file.empty() || !cert_file.empty(); }

  // InvalidArgument naming the flag when the combination is incomplete
  // (a certificate without its key, client auth without a CA, ...).
  absl::Status Validate() const;
};

}  // namespace shale::grpc_tls
