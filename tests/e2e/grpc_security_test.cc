// Security defaults and internal gRPC TLS, end to end with real processes:
// - every port of a default-started tablet, ctld and gateway listens on
//   127.0.0.1 only (read from /proc/net/tcp{,6});
// - a tablet started with --grpc-tls-cert/--grpc-tls-key serves TLS: a client
//   with the CA reaches it (in this process, `shale ctl`, another tablet
//   replicating from it and taking over as primary, a TLS ctld running DDL on
//   it for `shale ctl`, a gateway's health streams), a plaintext one does not.
// Certificates are made with the openssl command line in the test's temp dir.

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/grpc_tls/credentials.h"
#include "base/grpc_tls/test_certs.h"
#include "tests/e2e/ctld_fixture.h"
#include "tests/e2e/tablet_fixture.h"

namespace shale::e2e {
namespace {

// The local addresses (hex, as the kernel prints them, e.g. "0100007F") of
// the TCP sockets listening on port, over IPv4 and IPv6.
std::set<std::string> ListeningAddresses(int port) {
  std::set<std::string> out;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (f.size() < 4 || f[3] != "0A") continue;  // 0A: LISTEN
      std::vector<std::string> addr = absl::StrSplit(f[1], ':');
      int p = 0;
      if (addr.size() == 2 && absl::SimpleHexAtoi(addr[1], &p) && p == port) out.insert(addr[0]);
    }
  }
  return out;
}

// Expects the port to be listened on, by 127.0.0.1 only: as an IPv4 socket,
// or an IPv6 one bound to ::ffff:127.0.0.1 (as gRPC binds it).
void ExpectLoopbackOnly(const std::string& what, int port) {
  ASSERT_GT(port, 0) << what;
  const std::set<std::string> loopback = {"0100007F", "0000000000000000FFFF00000100007F"};
  const std::set<std::string> found = ListeningAddresses(port);
  EXPECT_FALSE(found.empty()) << what << " port " << port << " is not listening";
  for (const std::string& address : found) {
    EXPECT_TRUE(loopback.count(address) > 0)
        << what << " port " << port << " listens on " << address << ", not 127.0.0.1";
  }
}

class GrpcSecurityTest : public TabletE2eTest {
 protected:
  void TearDown() override {
    ASSERT_TRUE(grpc_tls::SetClientTls({}).ok());  // this process dials plaintext again
  }

  // The tablet's published ports.
  std::map<std::string, int> Ports(const std::string& alias) {
    auto info = ts_->GetTablet(*topo::TabletAlias::Parse(alias));
    EXPECT_TRUE(info.ok()) << info.status();
    std::map<std::string, int> ports;
    if (info.ok()) ports.insert(info->record.port_map().begin(), info->record.port_map().end());
    return ports;
  }

  // Makes the test certificates once; the flags of a TLS tablet.
  std::vector<std::string> TlsFlags() {
    if (certs_.empty()) {
      certs_ = absl::StrCat(dir_.path(), "/certs");
      std::filesystem::create_directories(certs_);
      absl::Status s = grpc_tls::WriteTestCerts(certs_);
      EXPECT_TRUE(s.ok()) << s;
    }
    return {"--grpc-tls-cert",  Cert("server.crt"), "--grpc-tls-key",
            Cert("server.key"), "--grpc-tls-ca",    Cert("ca.crt")};
  }
  std::string Cert(const std::string& name) const { return absl::StrCat(certs_, "/", name); }

  // Whether a Ping through the tablet's record answers, with the client TLS
  // this process has now.
  bool Pings(const std::string& alias) {
    auto c = tablet::TabletClient::ForTablet(*ts_, *topo::TabletAlias::Parse(alias));
    if (!c.ok()) return false;
    return (*c)
        ->Call((*c)->manager(), &tablet::TabletManager::Stub::Ping, tablet::PingRequest(),
               absl::Seconds(2))
        .ok();
  }

  // The client flags of a TLS `shale ctl` or gateway: the CA, and the name
  // the test certificate carries (tablets may publish another address).
  std::vector<std::string> ClientTlsFlags() const {
    return {"--grpc-tls-ca", Cert("ca.crt"), "--grpc-tls-server-name", "localhost"};
  }
  // `shale ctl` with those flags.
  CliResult TlsCtl(std::vector<std::string> args) {
    const std::vector<std::string> tls = ClientTlsFlags();
    args.insert(args.begin(), tls.begin(), tls.end());
    return Ctl(std::move(args));
  }

  void UseClientCa() {
    grpc_tls::TlsOptions client;
    client.ca_file = Cert("ca.crt");
    ASSERT_TRUE(grpc_tls::SetClientTls(client).ok());
  }

  // Starts `shale gate` with extra flags (a 1 s buffer window); returns its
  // PostgreSQL port.
  int StartGate(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {
        FindBinary("shale"), "gate", "--topo",      topo(), "--cell",      "zone1",
        "--pg-port",         "0",    "--grpc-port", "-1",   "--http-port", "0",
        "--buffer-window",   "1s"};
    args.insert(args.end(), extra.begin(), extra.end());
    gates_.push_back(std::make_unique<Subprocess>());
    EXPECT_TRUE(gates_.back()->Start(args).ok());
    absl::StatusOr<std::string> line = gates_.back()->ReadLine(absl::Seconds(30));
    EXPECT_TRUE(line.ok()) << line.status();
    int port = 0;
    if (line.ok()) {
      for (absl::string_view part : absl::StrSplit(*line, ' ')) {
        if (absl::ConsumePrefix(&part, "pg_port=")) {
          EXPECT_TRUE(absl::SimpleAtoi(part, &port));
        }
      }
    }
    return port;
  }

  // psql -c sql against db ks through the gateway on port: its output
  // (unaligned, tuples only), or "error: " and its stderr when it fails.
  static std::string Psql(int port, const std::string& sql) {
    absl::StatusOr<CliResult> r =
        RunProgram({"psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                    "-p", absl::StrCat(port), "-U", "tester", "-d", "ks", "-c", sql});
    if (!r.ok()) return absl::StrCat("error: ", r.status().ToString());
    if (r->exit_code != 0) return absl::StrCat("error: ", r->err);
    return std::string(absl::StripTrailingAsciiWhitespace(r->out));
  }

  std::string certs_;
  std::vector<std::unique_ptr<Subprocess>> gates_;
};

TEST_F(GrpcSecurityTest, DefaultPortsListenOnLoopbackOnly) {
  StartTablet("zone1-101", {"--keyspace", "ks", "--shard", "0", "--init-type", "primary"});
  std::map<std::string, int> ports = Ports("zone1-101");
  for (const char* what : {"grpc", "session", "http"}) {
    ExpectLoopbackOnly(absl::StrCat("tablet ", what), ports[what]);
  }
  auto rec = ts_->GetTablet({"zone1", 101});
  ASSERT_TRUE(rec.ok()) << rec.status();
  EXPECT_EQ(rec->record.hostname(), "localhost");  // reachable through the bind address

  CtldProcess ctld = StartCtldProcess(topo(), {});
  ExpectLoopbackOnly("ctld grpc", ctld.grpc_port);
  ExpectLoopbackOnly("ctld http", ctld.http_port);

  Subprocess gate;
  ASSERT_TRUE(gate.Start({FindBinary("shale"), "gate", "--topo", topo(), "--cell", "zone1",
                          "--pg-port", "0", "--grpc-port", "0", "--http-port", "0"})
                  .ok());
  absl::StatusOr<std::string> line = gate.ReadLine(absl::Seconds(30));  // shale gate: pg_port=N ...
  ASSERT_TRUE(line.ok()) << line.status();
  for (absl::string_view part : absl::StrSplit(*line, ' ')) {
    std::pair<std::string, std::string> kv = absl::StrSplit(part, '=');
    int port = 0;
    if (absl::EndsWith(kv.first, "_port") && absl::SimpleAtoi(kv.second, &port)) {
      ExpectLoopbackOnly(absl::StrCat("gate ", kv.first), port);
    }
  }
}

TEST_F(GrpcSecurityTest, TlsTabletAcceptsTlsClientsOnly) {
  const std::vector<std::string> tls = TlsFlags();
  std::vector<std::string> flags = {"--keyspace", "ks", "--shard", "0", "--init-type", "primary"};
  flags.insert(flags.end(), tls.begin(), tls.end());
  UseClientCa();  // StartTablet waits for a Ping through TLS
  StartTablet("zone1-101", flags);
  EXPECT_TRUE(Pings("zone1-101"));

  ASSERT_TRUE(grpc_tls::SetClientTls({}).ok());  // plaintext: the handshake fails
  EXPECT_FALSE(Pings("zone1-101"));

  // `shale ctl`, with and without the CA.
  CliResult with_ca = Ctl({"--grpc-tls-ca", Cert("ca.crt"), "Ping", "zone1-101"});
  EXPECT_EQ(with_ca.exit_code, 0) << with_ca.err;
  CliResult plain = Ctl({"Ping", "zone1-101"});
  EXPECT_EQ(plain.exit_code, 1) << plain.out;
  CliResult wrong_ca = Ctl({"--grpc-tls-ca", Cert("other-ca.crt"), "Ping", "zone1-101"});
  EXPECT_EQ(wrong_ca.exit_code, 1) << wrong_ca.out;
}

TEST_F(GrpcSecurityTest, ReplicationAndReparentOverTls) {
  // Two TLS tablets: the replica clones and streams from the primary over
  // TLS; `shale ctl` elects and then hands over the primary through TLS.
  const std::vector<std::string> tls = TlsFlags();
  UseClientCa();
  for (const char* alias : {"zone1-101", "zone1-102"}) {
    std::vector<std::string> flags = {"--keyspace", "ks", "--shard", "0", "--init-type", "replica"};
    flags.insert(flags.end(), tls.begin(), tls.end());
    StartTablet(alias, flags);
  }
  const std::vector<std::string> ca = ClientTlsFlags();
  CliResult r = TlsCtl({"PlannedReparentShard", "ks/0", "--new-primary", "zone1-101"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = TlsCtl({"ExecuteFetchAsDba", "zone1-101", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = TlsCtl({"ExecuteFetchAsDba", "zone1-101", "INSERT INTO t VALUES (1, 'over tls')"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(WaitFor(absl::Seconds(30), [&] {
    CliResult q = TlsCtl({"ExecuteFetchAsDba", "zone1-102", "SELECT v FROM t"});
    return q.exit_code == 0 && absl::StrContains(q.out, "over tls");
  })) << "the replica did not receive the row";

  r = TlsCtl({"PlannedReparentShard", "ks/0", "--new-primary", "zone1-102"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = TlsCtl({"ExecuteFetchAsDba", "zone1-102", "INSERT INTO t VALUES (2, 'after the hand-over')"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(WaitFor(absl::Seconds(30), [&] {
    CliResult q = TlsCtl({"ExecuteFetchAsDba", "zone1-101", "SELECT v FROM t WHERE id = 2"});
    return q.exit_code == 0 && absl::StrContains(q.out, "after the hand-over");
  })) << "the old primary did not follow the new one";

  // DDL: shale ctl -> ctld's meta service (TLS) -> the primary (TLS).
  CtldProcess ctld = StartCtldProcess(topo(), tls);
  EXPECT_TRUE(WaitFor(absl::Seconds(30), [&] {
    return TlsCtl({"TopoCat", "/global/ctld/CtldLeader"}).exit_code == 0;
  })) << "ctld did not lead";
  r = TlsCtl({"CreateTable", "ks", "--sql", "CREATE TABLE u (id INTEGER PRIMARY KEY)"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = TlsCtl({"ExecuteFetchAsDba", "zone1-102", "SELECT count(*) FROM u"});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // ctld's gRPC port completes a TLS handshake, and refuses a plaintext one
  // (a plaintext `shale ctl` DDL would wait for a reachable leader instead).
  auto connects = [&] {
    return grpc_tls::NewChannel(absl::StrCat("localhost:", ctld.grpc_port))
        ->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(2));
  };
  EXPECT_TRUE(connects());
  ASSERT_TRUE(grpc_tls::SetClientTls({}).ok());
  EXPECT_FALSE(connects());

  // A gateway with the CA keeps its health streams to the TLS tablets and
  // serves psql; one without it sees no serving primary.
  r = TlsCtl({"RebuildKeyspaceGraph", "ks"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Psql(StartGate(ca), "SELECT v FROM t WHERE id = 2"), "after the hand-over");
  const std::string plain = Psql(StartGate({}), "SELECT v FROM t WHERE id = 2");
  EXPECT_TRUE(absl::StrContains(plain, "no serving primary")) << plain;
}

// This machine's first non-loopback IPv4 address, or "" if it has none.
std::string NonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* a = list; a != nullptr && found.empty(); a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    if ((a->ifa_flags & IFF_LOOPBACK) != 0 || (a->ifa_flags & IFF_UP) == 0) continue;
    char text[INET_ADDRSTRLEN] = {};
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)) != nullptr) found = text;
  }
  ::freeifaddrs(list);
  return found;
}

TEST_F(GrpcSecurityTest, InternalTlsKeepsTheSessionPortOnLoopback) {
  // A TLS tablet reachable on all addresses and published under a
  // non-loopback address (as on a real network): its plaintext session port
  // listens on 127.0.0.1 only and is published as "session-local", so a
  // gateway that does not see the tablet's host as its own carries the
  // query sessions over the TLS gRPC port.
  const std::string address = NonLoopbackAddress();
  if (address.empty()) GTEST_SKIP() << "this machine has no non-loopback IPv4 address";
  std::vector<std::string> flags = {"--keyspace",  "ks",      "--shard",        "0",
                                    "--init-type", "replica", "--bind-address", "0.0.0.0",
                                    "--hostname",  address};
  for (const std::string& f : TlsFlags()) flags.push_back(f);
  // The test certificate names localhost, not this address.
  grpc_tls::TlsOptions client;
  client.ca_file = Cert("ca.crt");
  client.server_name = "localhost";
  ASSERT_TRUE(grpc_tls::SetClientTls(client).ok());
  StartTablet("zone1-101", flags);
  const std::map<std::string, int> ports = Ports("zone1-101");
  EXPECT_EQ(ports.count("session"), 0u);
  ASSERT_EQ(ports.count("session-local"), 1u);
  ExpectLoopbackOnly("session-local", ports.at("session-local"));

  const std::vector<std::string> ca = ClientTlsFlags();
  CliResult r = TlsCtl({"PlannedReparentShard", "ks/0", "--new-primary", "zone1-101"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = TlsCtl({"ExecuteFetchAsDba", "zone1-101", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = TlsCtl({"RebuildKeyspaceGraph", "ks"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const int pg = StartGate(ca);
  EXPECT_EQ(Psql(pg, "INSERT INTO t VALUES (7, 'over grpc sessions')"), "");
  EXPECT_EQ(Psql(pg,
                 "BEGIN; UPDATE t SET v = v || '!' WHERE id = 7; COMMIT; "
                 "SELECT v FROM t WHERE id = 7"),
            "over grpc sessions!");
}

}  // namespace
}  // namespace shale::e2e
