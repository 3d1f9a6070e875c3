#include "base/grpc_tls/tls_options.h"

namespace shale::grpc_tls {

absl::Status TlsOptions::Validate() const {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(
        "--grpc-tls-cert and --grpc-tls-key must be given together");
  }
  if (require_client_cert && (cert_file.empty() || ca_file.empty())) {
    return absl::InvalidArgumentError(
        "--grpc-tls-client-auth needs --grpc-tls-cert, --grpc-tls-key and --grpc-tls-ca");
  }
  if (!server_name.empty() && !ClientEnabled()) {
    return absl::InvalidArgumentError(
        "--grpc-tls-server-name needs --grpc-tls-ca (or a client certificate)");
  }
  return absl::OkStatus();
}

}  // namespace shale::grpc_tls
