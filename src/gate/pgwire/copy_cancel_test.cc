// End to end with libpq: COPY FROM STDIN, CancelRequest, and Server::Stop
// with busy and idle connections.

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gate/pgwire/pg_test_util.h"
#include "gtest/gtest.h"

namespace shale::gate::pgwire {
namespace {

class CopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_ = server_.Connect();
    ASSERT_EQ(PQstatus(conn_.get()), CONNECTION_OK) << PQerrorMessage(conn_.get());
    PgResult r = Exec(conn_.get(), "CREATE TABLE c (id INTEGER, name TEXT)");
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK);
  }

  std::string Count() {
    PgResult r = Exec(conn_.get(), "SELECT count(*) FROM c");
    return PQgetvalue(r.get(), 0, 0);
  }

  TestServer server_;
  PgConn conn_;
};

TEST_F(CopyTest, CopyFromStdin) {
  PGconn* c = conn_.get();
  PgResult r = Exec(c, "COPY c FROM STDIN");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COPY_IN) << PQresultErrorMessage(r.get());
  EXPECT_EQ(PQnfields(r.get()), 2);
  EXPECT_EQ(PQbinaryTuples(r.get()), 0);
  std::string data;
  for (int i = 0; i < 1000; ++i) absl::StrAppend(&data, i, "\tname", i, "\n");
  data += "1000\t\\N\n";
  // Chunks that do not line up with rows.
  for (size_t pos = 0; pos < data.size(); pos += 777) {
    std::string chunk = data.substr(pos, 777);
    ASSERT_EQ(PQputCopyData(c, chunk.data(), static_cast<int>(chunk.size())), 1);
  }
  ASSERT_EQ(PQputCopyEnd(c, nullptr), 1);
  r.reset(PQgetResult(c));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(r.get());
  EXPECT_STREQ(PQcmdStatus(r.get()), "COPY 1001");
  EXPECT_EQ(PQgetResult(c), nullptr);
  EXPECT_EQ(Count(), "1001");
  r = Exec(c, "SELECT count(*) FROM c WHERE name IS NULL");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "1");
}

TEST_F(CopyTest, ClientAbortsCopy) {
  PGconn* c = conn_.get();
  PgResult r = Exec(c, "COPY c FROM STDIN");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COPY_IN);
  ASSERT_EQ(PQputCopyData(c, "1\ta\n", 4), 1);
  ASSERT_EQ(PQputCopyEnd(c, "changed my mind"), 1);
  r.reset(PQgetResult(c));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "57014");
  EXPECT_NE(std::string(PQresultErrorMessage(r.get())).find("changed my mind"), std::string::npos);
  EXPECT_EQ(PQgetResult(c), nullptr);
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_IDLE);
  r = Exec(c, "SELECT 1");
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
}

TEST_F(CopyTest, BadRowFailsTheCopyAndTheRestIsIgnored) {
  PGconn* c = conn_.get();
  PgResult r = Exec(c, "COPY c FROM STDIN");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COPY_IN);
  std::string data = "1\ta\nonly-one-field\n2\tb\n3\tc\n";
  PQputCopyData(c, data.data(), static_cast<int>(data.size()));
  PQputCopyEnd(c, nullptr);
  r.reset(PQgetResult(c));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "22P04");
  EXPECT_EQ(PQgetResult(c), nullptr);
  r = Exec(c, "SELECT 1");
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get());
}

TEST_F(CopyTest, CopyIntoMissingTableIsAnError) {
  PgResult r = Exec(conn_.get(), "COPY nope FROM STDIN");
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "42P01");
}

TEST(CancelTest, CancelRequestStopsABlockedStatement) {
  TestServer server;
  PgConn conn = server.Connect();
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK);
  ASSERT_EQ(PQsendQuery(conn.get(), "SELECT wait_for_cancel()"), 1);
  PGcancel* cancel = PQgetCancel(conn.get());
  ASSERT_NE(cancel, nullptr);
  char err[256];
  EXPECT_EQ(PQcancel(cancel, err, sizeof(err)), 1) << err;
  PQfreeCancel(cancel);
  PgResult r(PQgetResult(conn.get()));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "57014");
  EXPECT_EQ(PQgetResult(conn.get()), nullptr);
  r = Exec(conn.get(), "SELECT 2");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "2");
}

TEST(CancelTest, WrongSecretCancelsNothing) {
  TestServer server;
  PgConn conn = server.Connect();
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK);
  absl::StatusOr<std::unique_ptr<RawClient>> raw = RawClient::Connect(server.port());
  ASSERT_TRUE(raw.ok());
  std::string packet;
  // CancelRequest: length 16, code, pid, wrong secret (the pid is right).
  for (uint32_t v : {16u, 80877102u, static_cast<uint32_t>(PQbackendPID(conn.get())), 0u}) {
    packet.push_back(static_cast<char>(v >> 24));
    packet.push_back(static_cast<char>(v >> 16));
    packet.push_back(static_cast<char>(v >> 8));
    packet.push_back(static_cast<char>(v));
  }
  ASSERT_TRUE((*raw)->Send(packet).ok());
  EXPECT_TRUE((*raw)->ClosedByServer());  // a CancelRequest gets no answer
  ASSERT_EQ(PQsendQuery(conn.get(), "SELECT 5"), 1);
  PgResult r(PQgetResult(conn.get()));
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "5");
}

// Sends a query and gathers the error messages of every result (PQexec keeps
// only the last one, and libpq reports the server's FATAL and the closed
// socket as two results) after the notices (libpq hands an ErrorResponse
// that arrives while it is idle to the notice processor).
std::string AllErrors(PGconn* conn, const std::string& notices) {
  std::string errors = notices;
  if (PQsendQuery(conn, "SELECT 1") != 1) return PQerrorMessage(conn);
  while (PGresult* raw = PQgetResult(conn)) {
    PgResult r(raw);
    errors += PQresultErrorMessage(r.get());
  }
  return errors;
}

TEST(StopTest, StopEndsBusyAndIdleConnectionsWithAdminShutdown) {
  TestServer server;
  PgConn busy = server.Connect();
  PgConn idle = server.Connect();
  ASSERT_EQ(PQstatus(busy.get()), CONNECTION_OK);
  ASSERT_EQ(PQstatus(idle.get()), CONNECTION_OK);
  std::string notices[2];
  auto collect = [](void* arg, const char* message) { *static_cast<std::string*>(arg) += message; };
  PQsetNoticeProcessor(busy.get(), collect, &notices[0]);
  PQsetNoticeProcessor(idle.get(), collect, &notices[1]);
  ASSERT_EQ(PQsendQuery(busy.get(), "SELECT wait_for_cancel()"), 1);
  ASSERT_TRUE(WaitFor([&] { return server.server().stats().queries >= 1; }));
  server.server().Stop();
  EXPECT_EQ(server.server().stats().connections_open, 0);

  PgResult r(PQgetResult(busy.get()));
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "57014");
  EXPECT_EQ(PQgetResult(busy.get()), nullptr);
  for (int i = 0; i < 2; ++i) {
    PGconn* conn = i == 0 ? busy.get() : idle.get();
    std::string errors = AllErrors(conn, notices[i]);
    EXPECT_NE(errors.find("FATAL:  terminating connection due to administrator command"),
              std::string::npos)
        << (i == 0 ? "busy: " : "idle: ") << errors;
  }
  // Nothing listens any more.
  PgConn late = server.Connect();
  EXPECT_EQ(PQstatus(late.get()), CONNECTION_BAD);
}

}  // namespace
}  // namespace shale::gate::pgwire
