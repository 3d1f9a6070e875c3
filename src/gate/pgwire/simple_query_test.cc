// End to end over real sockets with libpq and psql: startup and the simple
// query protocol.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/subprocess.h"
#include "gate/pgwire/pg_test_util.h"
#include "gate/pgwire/types.h"
#include "gtest/gtest.h"

namespace shale::gate::pgwire {
namespace {

class SimpleQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_ = server_.Connect("sslmode=disable application_name=simpletest");
    ASSERT_EQ(PQstatus(conn_.get()), CONNECTION_OK) << PQerrorMessage(conn_.get());
  }

  TestServer server_;
  PgConn conn_;
};

TEST_F(SimpleQueryTest, StartupReportsParametersAndSession) {
  PGconn* c = conn_.get();
  EXPECT_STREQ(PQparameterStatus(c, "server_version"), "15.0 (Shale)");
  EXPECT_STREQ(PQparameterStatus(c, "server_encoding"), "UTF8");
  EXPECT_STREQ(PQparameterStatus(c, "client_encoding"), "UTF8");
  EXPECT_STREQ(PQparameterStatus(c, "DateStyle"), "ISO, MDY");
  EXPECT_STREQ(PQparameterStatus(c, "integer_datetimes"), "on");
  EXPECT_STREQ(PQparameterStatus(c, "standard_conforming_strings"), "on");
  EXPECT_STREQ(PQparameterStatus(c, "TimeZone"), "UTC");
  EXPECT_STREQ(PQparameterStatus(c, "application_name"), "simpletest");
  EXPECT_STREQ(PQparameterStatus(c, "is_superuser"), "off");
  EXPECT_STREQ(PQparameterStatus(c, "session_authorization"), "u");
  EXPECT_EQ(PQserverVersion(c), 150000);
  EXPECT_GT(PQbackendPID(c), 0);
  std::vector<StartupInfo> opened = server_.factory().opened();
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0].user, "u");
  EXPECT_EQ(opened[0].database, "db");
  EXPECT_EQ(opened[0].application_name, "simpletest");
  EXPECT_EQ(opened[0].peer.rfind("127.0.0.1:", 0), 0u) << opened[0].peer;
}

TEST_F(SimpleQueryTest, DatabaseDefaultsToUserAndUnknownDatabaseIsFatal) {
  PgConn no_db(PQconnectdb(
      absl::StrCat("host=127.0.0.1 sslmode=disable port=", server_.port(), " user=alice").c_str()));
  ASSERT_EQ(PQstatus(no_db.get()), CONNECTION_OK) << PQerrorMessage(no_db.get());
  EXPECT_EQ(server_.factory().opened().back().database, "alice");

  PgConn bad(server_.Connect("sslmode=disable dbname=nosuchdb"));
  EXPECT_EQ(PQstatus(bad.get()), CONNECTION_BAD);
  EXPECT_NE(std::string(PQerrorMessage(bad.get())).find("database \"nosuchdb\" does not exist"),
            std::string::npos)
      << PQerrorMessage(bad.get());
}

TEST_F(SimpleQueryTest, RowsTypesAndTags) {
  PGconn* c = conn_.get();
  PgResult r = Exec(c, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, "
                       "ok BOOLEAN, data BLOB, amount NUMERIC)");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(r.get());
  EXPECT_STREQ(PQcmdStatus(r.get()), "CREATE TABLE");
  r = Exec(c, "INSERT INTO t VALUES (1, 'a', 1.5, 1, x'00ff', 12.5), "
              "(2, NULL, 1e20, 0, NULL, 3)");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(r.get());
  EXPECT_STREQ(PQcmdStatus(r.get()), "INSERT 0 2");
  EXPECT_STREQ(PQcmdTuples(r.get()), "2");

  r = Exec(c, "SELECT id, name, score, ok, data, amount, id * 2 AS twice FROM t ORDER BY id");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get());
  EXPECT_STREQ(PQcmdStatus(r.get()), "SELECT 2");
  ASSERT_EQ(PQntuples(r.get()), 2);
  ASSERT_EQ(PQnfields(r.get()), 7);
  const Oid types[] = {oid::kInt8, oid::kText,    oid::kFloat8, oid::kBool,
                       oid::kBytea, oid::kNumeric, oid::kInt8};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(PQftype(r.get(), i), types[i]) << PQfname(r.get(), i);
  EXPECT_STREQ(PQfname(r.get(), 6), "twice");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "1");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 1), "a");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 2), "1.5");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 3), "t");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 4), "\\x00ff");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 5), "12.5");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 6), "2");
  EXPECT_TRUE(PQgetisnull(r.get(), 1, 1));
  EXPECT_STREQ(PQgetvalue(r.get(), 1, 2), "1e+20");
  EXPECT_STREQ(PQgetvalue(r.get(), 1, 3), "f");
  EXPECT_TRUE(PQgetisnull(r.get(), 1, 4));

  r = Exec(c, "UPDATE t SET name = 'b'");
  EXPECT_STREQ(PQcmdStatus(r.get()), "UPDATE 2");
  r = Exec(c, "DELETE FROM t WHERE id = 2");
  EXPECT_STREQ(PQcmdStatus(r.get()), "DELETE 1");
  r = Exec(c, "SELECT * FROM t WHERE id > 100");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  EXPECT_EQ(PQntuples(r.get()), 0);
  EXPECT_EQ(PQnfields(r.get()), 6);
}

TEST_F(SimpleQueryTest, MultipleStatementsStopAtTheFirstError) {
  PGconn* c = conn_.get();
  ASSERT_TRUE(PQsendQuery(c, "CREATE TABLE m (x INTEGER); INSERT INTO m VALUES (1); "
                             "SELECT x FROM m; SELECT * FROM missing; INSERT INTO m VALUES (2)"));
  std::vector<std::string> outcomes;
  while (PGresult* raw = PQgetResult(c)) {
    PgResult r(raw);
    if (PQresultStatus(r.get()) == PGRES_FATAL_ERROR) {
      outcomes.push_back(absl::StrCat("error ", PQresultErrorField(r.get(), PG_DIAG_SQLSTATE)));
    } else {
      outcomes.push_back(PQcmdStatus(r.get()));
    }
  }
  EXPECT_EQ(outcomes, (std::vector<std::string>{"CREATE TABLE", "INSERT 0 1", "SELECT 1",
                                                "error 42P01"}));
  PgResult r = Exec(c, "SELECT count(*) FROM m");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "1");  // the last INSERT never ran
}

TEST_F(SimpleQueryTest, EmptyQueryAndErrorFields) {
  PGconn* c = conn_.get();
  PgResult r = Exec(c, "  ");
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_EMPTY_QUERY);
  r = Exec(c, ";");
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_EMPTY_QUERY);
  r = Exec(c, "SELEKT 1");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SEVERITY), "ERROR");
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SEVERITY_NONLOCALIZED), "ERROR");
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "42601");
  EXPECT_NE(std::string(PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY)).find("syntax"),
            std::string::npos);
  // The connection is still usable.
  r = Exec(c, "SELECT 7");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "7");
  EXPECT_EQ(server_.server().stats().errors, 1);
}

TEST_F(SimpleQueryTest, TransactionStatusByte) {
  PGconn* c = conn_.get();
  Exec(c, "CREATE TABLE x (a INTEGER UNIQUE)");
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_IDLE);
  Exec(c, "BEGIN");
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_INTRANS);
  Exec(c, "INSERT INTO x VALUES (1)");
  PgResult r = Exec(c, "INSERT INTO x VALUES (1)");
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "23505");
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_INERROR);
  r = Exec(c, "SELECT 1");
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "25P02");
  r = Exec(c, "COMMIT");
  EXPECT_STREQ(PQcmdStatus(r.get()), "ROLLBACK");
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_IDLE);
}

TEST_F(SimpleQueryTest, LargeResultSpansManyWrites) {
  PGconn* c = conn_.get();
  PgResult r = Exec(c, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                       "WHERE i < 50000) SELECT i, printf('%0100d', i) FROM n");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get());
  ASSERT_EQ(PQntuples(r.get()), 50000);
  EXPECT_STREQ(PQgetvalue(r.get(), 49999, 0), "50000");
  EXPECT_EQ(std::string(PQgetvalue(r.get(), 49999, 1)).size(), 100u);
}

TEST_F(SimpleQueryTest, Psql) {
  Subprocess psql;
  ASSERT_TRUE(psql.Start({"/usr/bin/psql", "-X", "-h", "127.0.0.1", "-p",
                          std::to_string(server_.port()), "-U", "u", "-d", "db", "-c",
                          "select 1 as one, 'x' as two, 2.5 as three"})
                  .ok());
  std::vector<std::string> lines;
  while (true) {
    absl::StatusOr<std::string> line = psql.ReadLine(absl::Seconds(20));
    if (!line.ok()) break;
    lines.push_back(*line);
  }
  EXPECT_EQ(*psql.WaitFor(absl::Seconds(20)), 0);
  EXPECT_EQ(lines, (std::vector<std::string>{" one | two | three ", "-----+-----+-------",
                                             "   1 | x   |   2.5", "(1 row)", ""}));
}

}  // namespace
}  // namespace shale::gate::pgwire
