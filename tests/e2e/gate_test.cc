// The gateway end to end (issue: gateway): a 2-shard cluster with 2 replicas
// per shard, a real `shale gate`, and real psql as the client.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "key/key_range.h"
#include "key/vindex.h"
#include "tests/e2e/gate_fixture.h"

namespace shale::e2e {
namespace {

using ::testing::HasSubstr;

class GateTest : public GateE2eTest {
 protected:
  void SetUp() override {
    GateE2eTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(StartCluster());
    ASSERT_NO_FATAL_FAILURE(StartGate());
  }
};

// The shard index (0: -80, 1: 80-) whose range holds id's keyspace id.
int ShardOfId(int64_t id) {
  return key::KeyRange::Parse("-80")->Contains(key::HashInt64(id)) ? 0 : 1;
}

TEST_F(GateTest, RowsLandOnTheShardTheirHashNames) {
  PsqlOk("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, score INTEGER)");
  std::vector<std::string> rows;
  int expected[2] = {0, 0};
  for (int id = 1; id <= 100; ++id) {
    rows.push_back(absl::StrCat("(", id, ", 'user", id, "', ", id % 7, ")"));
    ++expected[ShardOfId(id)];
  }
  EXPECT_EQ(PsqlOk("INSERT INTO users (id, name, score) VALUES " + absl::StrJoin(rows, ", ")), "");
  ASSERT_GT(expected[0], 0);
  ASSERT_GT(expected[1], 0);
  for (int s = 0; s < 2; ++s) {
    EXPECT_EQ(TabletRows(PrimaryOf(s), "SELECT count(*) FROM users"), expected[s]) << kShards[s];
  }
  // One row, by itself: on its own shard only.
  const int64_t id = 1000;
  PsqlOk("INSERT INTO users (id, name, score) VALUES (1000, 'solo', 1)");
  EXPECT_EQ(TabletRows(PrimaryOf(ShardOfId(id)), "SELECT count(*) FROM users WHERE id = 1000"), 1);
  EXPECT_EQ(TabletRows(PrimaryOf(1 - ShardOfId(id)), "SELECT count(*) FROM users WHERE id = 1000"),
            0);
  // Point reads and IN lists find them again through the gateway.
  EXPECT_EQ(PsqlOk("SELECT name FROM users WHERE id = 1000"), "solo");
  EXPECT_EQ(PsqlOk("SELECT count(*) FROM users WHERE id IN (1, 2, 3, 1000)"), "4");
}

// The rows of a query against a local SQLite database, as psql -A -t prints them.
std::string SqliteRows(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  std::vector<std::string> lines;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::vector<std::string> cols;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const unsigned char* t = sqlite3_column_text(stmt, i);
      cols.push_back(t == nullptr ? "" : reinterpret_cast<const char*>(t));
    }
    lines.push_back(absl::StrJoin(cols, "|"));
  }
  sqlite3_finalize(stmt);
  return absl::StrJoin(lines, "\n");
}

TEST_F(GateTest, ScatterResultsEqualOneSqliteDatabase) {
  const std::string create = "CREATE TABLE t (id INTEGER PRIMARY KEY, g TEXT, v INTEGER)";
  PsqlOk(create);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, create.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  std::vector<std::string> rows;
  for (int id = 1; id <= 300; ++id) {
    std::string v = id % 11 == 0 ? "NULL" : absl::StrCat((id * 37) % 101 - 50);
    rows.push_back(absl::StrCat("(", id, ", 'g", id % 5, "', ", v, ")"));
  }
  const std::string insert = "INSERT INTO t (id, g, v) VALUES " + absl::StrJoin(rows, ", ");
  PsqlOk(insert);
  ASSERT_EQ(sqlite3_exec(db, insert.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  const std::vector<std::string> queries = {
      "SELECT count(*) FROM t",
      "SELECT count(v), sum(v), min(v), max(v) FROM t",
      "SELECT g, count(*), sum(v) FROM t GROUP BY g",
      "SELECT g, count(*) FROM t GROUP BY g ORDER BY 2 DESC, g LIMIT 3",
      "SELECT id, v FROM t ORDER BY v DESC, id LIMIT 7",
      "SELECT id FROM t ORDER BY id LIMIT 5 OFFSET 10",
      "SELECT DISTINCT g FROM t ORDER BY g",
      "SELECT id, g FROM t WHERE v > 40 ORDER BY id",
      "SELECT max(g), min(id) FROM t WHERE v IS NULL",
      "SELECT g, max(v) FROM t WHERE id > 100 GROUP BY g ORDER BY g DESC",
      "SELECT count(*) FROM t WHERE id < 0",
  };
  for (const std::string& q : queries) {
    EXPECT_EQ(PsqlOk(q), SqliteRows(db, q)) << q;
  }
  sqlite3_close(db);
}

TEST_F(GateTest, ReplicaReadsGoToReplicas) {
  PsqlOk("CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)");
  PsqlOk("INSERT INTO kv (id, v) VALUES (1, 'one'), (2, 'two')");
  // Replicas catch up, then stop applying: new rows reach the primary only.
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return PsqlOk("SELECT count(*) FROM kv", "app@replica") == "2"; }));
  for (int s = 0; s < 2; ++s) {
    for (int n = 1; n <= 2; ++n) {
      ASSERT_EQ(Ctl({"StopReplication", Alias(s, n)}).exit_code, 0);
    }
  }
  PsqlOk("INSERT INTO kv (id, v) VALUES (3, 'three'), (4, 'four'), (5, 'five')");
  EXPECT_EQ(PsqlOk("SELECT count(*) FROM kv"), "5");
  EXPECT_EQ(PsqlOk("SELECT count(*) FROM kv", "app@replica"), "2");
  EXPECT_EQ(PsqlOk("SELECT count(*) FROM kv WHERE id = 3", "app@replica"), "0");
  // Writes are refused on a replica target, with the read-only SQLSTATE.
  CliResult w = Psql("INSERT INTO kv (id, v) VALUES (9, 'nine')", "app@replica");
  EXPECT_NE(w.exit_code, 0);
  EXPECT_THAT(w.err, HasSubstr("read-only"));
  for (int s = 0; s < 2; ++s) {
    for (int n = 1; n <= 2; ++n) ASSERT_EQ(Ctl({"StartReplication", Alias(s, n)}).exit_code, 0);
  }
  EXPECT_TRUE(WaitFor(absl::Seconds(20), [&] { return PsqlOk("SELECT count(*) FROM kv", "app@replica") == "5"; }));
}

TEST_F(GateTest, OneShardTargetsAndIntrospection) {
  PsqlOk("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  PsqlOk("INSERT INTO t (id) VALUES (1), (2), (3), (4), (5), (6), (7), (8)");
  int per_shard[2] = {0, 0};
  for (int id = 1; id <= 8; ++id) ++per_shard[ShardOfId(id)];
  EXPECT_EQ(PsqlOk("SELECT count(*) FROM t", "app:-80"), absl::StrCat(per_shard[0]));
  EXPECT_EQ(PsqlOk("SELECT count(*) FROM t", "app:80-@primary"), absl::StrCat(per_shard[1]));
  EXPECT_EQ(PsqlOk("SHOW KEYSPACES"), "app");
  std::string shards = PsqlOk("SHOW SHARDS");
  EXPECT_THAT(shards, HasSubstr("app|-80|-80|" + PrimaryOf(0)));
  EXPECT_THAT(shards, HasSubstr("app|80-|80-|" + PrimaryOf(1)));
  EXPECT_EQ(ServingTablets(), 6);
}

TEST_F(GateTest, BadSqlAndBadTargetsGetErrorsAndTheGatewayStaysUp) {
  CliResult r = Psql("SELEC 1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("syntax error"));
  r = Psql("SELECT * FROM nosuch");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("no such table"));
  r = Psql("SELECT 1", "nosuchkeyspace");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("nosuchkeyspace"));
  r = Psql("SELECT 1", "app@spare");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("unknown tablet type"));
  PsqlOk("CREATE TABLE a (id INTEGER PRIMARY KEY, x INTEGER)");
  PsqlOk("CREATE TABLE b (id INTEGER PRIMARY KEY, y INTEGER)");
  r = Psql("SELECT * FROM a JOIN b ON a.id = b.id", "app", {"-v", "VERBOSITY=verbose"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("0A000"));
  // A failed statement inside a transaction fails the block until ROLLBACK.
  r = Psql("BEGIN; INSERT INTO a (id, x) VALUES (1, 1); SELEC; COMMIT;", "app",
           {"-v", "ON_ERROR_STOP=0"});
  EXPECT_THAT(r.err, HasSubstr("syntax error"));
  EXPECT_EQ(PsqlOk("SELECT count(*) FROM a"), "0");
  // Still serving.
  EXPECT_EQ(PsqlOk("SELECT 1 + 1"), "2");
}

// Sends raw bytes to the gateway's PostgreSQL port; returns what it answers
// before closing the connection (at most 4 KiB).
std::string RawExchange(int port, const std::string& bytes) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())) {
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4096];
    ssize_t n;
    while (out.size() < sizeof(buf) && (n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  }
  close(fd);
  return out;
}

TEST_F(GateTest, ProtocolGarbageGetsAnErrorAndTheGatewayStaysUp) {
  // A startup packet with an impossible length, then plain noise.
  std::string bad_length("\xff\xff\xff\xff\x00\x03\x00\x00", 8);
  std::string reply = RawExchange(pg_port_, bad_length);
  ASSERT_FALSE(reply.empty());
  EXPECT_EQ(reply[0], 'E') << reply;
  EXPECT_THAT(reply, HasSubstr("08P01"));
  reply = RawExchange(pg_port_, std::string(64, '\x42'));
  ASSERT_FALSE(reply.empty());
  EXPECT_EQ(reply[0], 'E');
  // An unsupported protocol version.
  std::string v2("\x00\x00\x00\x08\x00\x02\x00\x00", 8);
  reply = RawExchange(pg_port_, v2);
  ASSERT_FALSE(reply.empty());
  EXPECT_EQ(reply[0], 'E');
  EXPECT_EQ(PsqlOk("SELECT 40 + 2"), "42");
}

TEST_F(GateTest, TransactionsCommitAndRollBackAcrossShards) {
  PsqlOk("CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER)");
  PsqlOk("INSERT INTO acct (id, bal) VALUES (1, 100), (2, 100), (3, 100), (4, 100)");
  PsqlOk("BEGIN; UPDATE acct SET bal = bal - 10 WHERE id = 1; "
         "UPDATE acct SET bal = bal + 10 WHERE id = 4; COMMIT;");
  EXPECT_EQ(PsqlOk("SELECT bal FROM acct ORDER BY id"), "90\n100\n100\n110");
  PsqlOk("BEGIN; UPDATE acct SET bal = 0; ROLLBACK;");
  EXPECT_EQ(PsqlOk("SELECT sum(bal) FROM acct"), "400");
}

// The gateway with SCRAM-SHA-256 users and TLS, through real psql.
class GateAuthTest : public GateE2eTest {
 protected:
  void SetUp() override {
    GateE2eTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(StartCluster(/*replicas=*/0));
    const std::string dir = data_dir("auth");
    ASSERT_EQ(RunProgram({"mkdir", "-p", dir})->exit_code, 0);
    std::ofstream(dir + "/users") << "# test users\nalice:s3cret\n";
    absl::StatusOr<CliResult> cert =
        RunProgram({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=localhost", "-days", "1", "-keyout", dir + "/key.pem", "-out",
                    dir + "/cert.pem"});
    ASSERT_TRUE(cert.ok() && cert->exit_code == 0) << (cert.ok() ? cert->err : "");
    ASSERT_NO_FATAL_FAILURE(StartGate({"--auth-file", dir + "/users", "--tls-cert",
                                       dir + "/cert.pem", "--tls-key", dir + "/key.pem"},
                                      /*wait_for_tablets=*/false));
  }
  // psql as user with password, asking for TLS or refusing it.
  CliResult PsqlAs(const std::string& user, const std::string& password,
                   const std::string& sslmode, const std::string& sql) {
    absl::StatusOr<CliResult> r = RunProgram(
        {"env", "PGPASSWORD=" + password, "PGSSLMODE=" + sslmode, "PGCONNECT_TIMEOUT=10", "psql",
         "-X", "-A", "-t", "-h", "127.0.0.1", "-p", absl::StrCat(pg_port_), "-U", user, "-d",
         "app", "-c", sql});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : CliResult{};
  }
};

TEST_F(GateAuthTest, ScramOverTlsWithPsql) {
  CliResult ok = PsqlAs("alice", "s3cret", "require", "SELECT 6 * 7");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "42\n");
  // The connection really is TLS: psql's \conninfo says so.
  CliResult info = PsqlAs("alice", "s3cret", "require", "\\conninfo");
  EXPECT_THAT(info.out, HasSubstr("SSL connection"));
  CliResult wrong = PsqlAs("alice", "nope", "require", "SELECT 1");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_THAT(wrong.err, HasSubstr("password authentication failed for user \"alice\""));
  CliResult unknown = PsqlAs("mallory", "s3cret", "require", "SELECT 1");
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_THAT(unknown.err, HasSubstr("password authentication failed for user \"mallory\""));
  // Without TLS, SCRAM still guards the door.
  CliResult plain = PsqlAs("alice", "s3cret", "disable", "SELECT 1");
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
}

}  // namespace
}  // namespace shale::e2e
