#pragma once

// gRPC credentials for Shale's cluster-internal gRPC, built from TlsOptions in
// one place: every gRPC server of a tablet or ctld takes ServerCredentials(),
// and every channel to a tablet or ctld is made by NewChannel().
//
// Client side is a process-wide setting: the shale binary calls
// SetClientTls() once at startup, from its --grpc-tls-* flags, before it makes
// any channel; NewChannel() then uses it for every channel (tablet clients,
// health streams, replication streams, the meta service). Until then, and
// when no TLS option is given, channels are plaintext. Thread-safe.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "base/grpc_tls/tls_options.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace shale::grpc_tls {

// Plaintext credentials when options carry no certificate; otherwise TLS with
// that certificate (and, with require_client_cert, client certificates
// verified against ca_file). InvalidArgument for an incomplete combination or
// a file that cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const TlsOptions& options);

// Sets the credentials NewChannel() uses from now on: TLS when options give a
// CA or a certificate, else plaintext. Channels made earlier keep theirs.
// InvalidArgument for an incomplete combination or an unreadable file.
absl::Status SetClientTls(const TlsOptions& options);

// Whether NewChannel() currently dials TLS.
bool ClientTlsEnabled();

// A channel to target ("host:port") with the process's client credentials
// and args (plus the server-name override, when set). Connects lazily.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& target,
                                          grpc::ChannelArguments args = {});

}  // namespace shale::grpc_tls
