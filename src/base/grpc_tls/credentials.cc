#include "base/grpc_tls/credentials.h"

#include <fstream>
#include <sstream>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/status_macros.h"
#include "grpcpp/create_channel.h"

namespace shale::grpc_tls {
namespace {

// The whole file, or InvalidArgument naming the flag and the file.
absl::StatusOr<std::string> ReadPem(const char* flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  if (!in || text.str().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path));
  }
  return text.str();
}

// The process's client credentials (SetClientTls); mu protects both fields.
struct ClientState {
  absl::Mutex mu;
  std::shared_ptr<grpc::ChannelCredentials> credentials ABSL_GUARDED_BY(mu);
  std::string server_name ABSL_GUARDED_BY(mu);
  bool tls ABSL_GUARDED_BY(mu) = false;
};

ClientState& Client() {
  static ClientState* state = new ClientState;  // never destroyed: channels may outlive main
  return *state;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const TlsOptions& options) {
  RETURN_IF_ERROR(options.Validate());
  if (!options.ServerEnabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ASSIGN_OR_RETURN(pair.private_key, ReadPem("--grpc-tls-key", options.key_file));
  ASSIGN_OR_RETURN(pair.cert_chain, ReadPem("--grpc-tls-cert", options.cert_file));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (options.require_client_cert) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem("--grpc-tls-ca", options.ca_file));
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

absl::Status SetClientTls(const TlsOptions& options) {
  RETURN_IF_ERROR(options.Validate());
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.ClientEnabled()) {
    grpc::SslCredentialsOptions ssl;
    if (!options.ca_file.empty()) {
      ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem("--grpc-tls-ca", options.ca_file));
    }
    if (!options.cert_file.empty()) {
      ASSIGN_OR_RETURN(ssl.pem_private_key, ReadPem("--grpc-tls-key", options.key_file));
      ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadPem("--grpc-tls-cert", options.cert_file));
    }
    credentials = grpc::SslCredentials(ssl);
  }
  ClientState& state = Client();
  absl::MutexLock lock(&state.mu);
  state.credentials = std::move(credentials);
  state.server_name = options.server_name;
  state.tls = options.ClientEnabled();
  return absl::OkStatus();
}

bool ClientTlsEnabled() {
  ClientState& state = Client();
  absl::MutexLock lock(&state.mu);
  return state.tls;
}

std::shared_ptr<grpc::Channel> NewChannel(const std::string& target,
                                          grpc::ChannelArguments args) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  {
    ClientState& state = Client();
    absl::MutexLock lock(&state.mu);
    credentials = state.credentials;
    if (!state.server_name.empty()) args.SetSslTargetNameOverride(state.server_name);
  }
  if (credentials == nullptr) credentials = grpc::InsecureChannelCredentials();
  return grpc::CreateCustomChannel(target, credentials, args);
}

}  // namespace shale::grpc_tls
