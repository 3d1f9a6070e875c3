#include "base/grpc_tls/credentials.h"

#include <stdlib.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/grpc_tls/test_certs.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"

namespace shale::grpc_tls {
namespace {

// Certificates from openssl in a temp dir, removed at the end; a gRPC server
// (no services: the handshake is what is tested) started per test with the given options.
class CredentialsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/shale_grpc_tls_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = new std::string(tmpl);
    absl::Status s = WriteTestCerts(*dir_);
    ASSERT_TRUE(s.ok()) << s;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    ASSERT_TRUE(SetClientTls({}).ok());  // back to plaintext for the next test
  }

  static std::string File(const std::string& name) { return absl::StrCat(*dir_, "/", name); }
  static TlsOptions ServerTls(bool client_auth = false) {
    TlsOptions o;
    o.cert_file = File("server.crt");
    o.key_file = File("server.key");
    o.ca_file = File("ca.crt");
    o.require_client_cert = client_auth;
    return o;
  }

  // Starts the server on a free loopback port; returns "localhost:PORT".
  std::string Serve(const TlsOptions& options) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds = ServerCredentials(options);
    EXPECT_TRUE(creds.ok()) << creds.status();
    if (!creds.ok()) return "";
    grpc::ServerBuilder builder;
    builder.RegisterCallbackGenericService(&service_);
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", *creds, &port);
    server_ = builder.BuildAndStart();
    EXPECT_NE(server_, nullptr);
    EXPECT_GT(port, 0);
    return absl::StrCat("localhost:", port);
  }

  // Whether a channel made by NewChannel (with the client TLS set before)
  // completes its handshake within two seconds.
  static bool Connects(const std::string& target) {
    std::shared_ptr<grpc::Channel> channel = NewChannel(target);
    return channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }

  static std::string* dir_;
  grpc::CallbackGenericService service_;  // answers UNIMPLEMENTED; outlives server_
  std::unique_ptr<grpc::Server> server_;
};

std::string* CredentialsTest::dir_ = nullptr;

TEST_F(CredentialsTest, PlaintextByDefault) {
  EXPECT_FALSE(ClientTlsEnabled());
  EXPECT_TRUE(Connects(Serve({})));
}

TEST_F(CredentialsTest, TlsClientWithTheCaConnects) {
  const std::string target = Serve(ServerTls());
  TlsOptions client;
  client.ca_file = File("ca.crt");
  ASSERT_TRUE(SetClientTls(client).ok());
  EXPECT_TRUE(ClientTlsEnabled());
  EXPECT_TRUE(Connects(target));
}

TEST_F(CredentialsTest, PlaintextClientFailsAgainstTls) {
  EXPECT_FALSE(Connects(Serve(ServerTls())));
}

TEST_F(CredentialsTest, ClientTrustingAnotherCaFails) {
  const std::string target = Serve(ServerTls());
  TlsOptions client;
  client.ca_file = File("other-ca.crt");
  ASSERT_TRUE(SetClientTls(client).ok());
  EXPECT_FALSE(Connects(target));
}

TEST_F(CredentialsTest, ServerNameOverride) {
  // One certificate for every tablet, naming shale-tablet rather than hosts:
  // a client accepts it only when told to expect that name.
  TlsOptions server = ServerTls();
  server.cert_file = File("shared.crt");
  server.key_file = File("shared.key");
  const std::string target = Serve(server);
  TlsOptions client;
  client.ca_file = File("ca.crt");
  ASSERT_TRUE(SetClientTls(client).ok());
  EXPECT_FALSE(Connects(target));
  client.server_name = "shale-tablet";
  ASSERT_TRUE(SetClientTls(client).ok());
  EXPECT_TRUE(Connects(target));
}

TEST_F(CredentialsTest, MutualTlsNeedsAClientCertificate) {
  const std::string target = Serve(ServerTls(/*client_auth=*/true));
  TlsOptions client;
  client.ca_file = File("ca.crt");
  ASSERT_TRUE(SetClientTls(client).ok());
  EXPECT_FALSE(Connects(target));  // no certificate: refused
  client.cert_file = File("client.crt");
  client.key_file = File("client.key");
  ASSERT_TRUE(SetClientTls(client).ok());
  EXPECT_TRUE(Connects(target));
}

TEST_F(CredentialsTest, IncompleteOptionsAreRefused) {
  TlsOptions o;
  o.cert_file = File("server.crt");
  EXPECT_EQ(ServerCredentials(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.key_file = File("server.key");
  o.require_client_cert = true;  // without a CA
  EXPECT_EQ(ServerCredentials(o).status().code(), absl::StatusCode::kInvalidArgument);
  TlsOptions missing;
  missing.ca_file = File("no-such.crt");
  absl::Status s = SetClientTls(missing);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--grpc-tls-ca"), std::string::npos) << s;
}

}  // namespace
}  // namespace shale::grpc_tls
