// End to end with libpq and raw sockets: the extended query protocol,
// prepared statements, binary formats, pipelining and portal suspension.

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/subprocess.h"
#include "gate/pgwire/byte_order.h"
#include "gate/pgwire/frontend_builder.h"
#include "gate/pgwire/pg_test_util.h"
#include "gate/pgwire/types.h"
#include "gtest/gtest.h"

namespace shale::gate::pgwire {
namespace {

using namespace std::string_literals;

class ExtendedQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_ = server_.Connect();
    ASSERT_EQ(PQstatus(conn_.get()), CONNECTION_OK) << PQerrorMessage(conn_.get());
    PgResult r = Exec(conn_.get(), "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, v REAL)");
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(r.get());
  }

  TestServer server_;
  PgConn conn_;
};

TEST_F(ExtendedQueryTest, TextParameters) {
  PGconn* c = conn_.get();
  const char* values[] = {"1", "alice", "2.5"};
  PgResult r(PQexecParams(c, "INSERT INTO t VALUES ($1, $2, $3)", 3, nullptr, values, nullptr,
                          nullptr, 0));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(r.get());
  EXPECT_STREQ(PQcmdStatus(r.get()), "INSERT 0 1");

  const char* id[] = {"1"};
  const Oid int8[] = {oid::kInt8};
  r.reset(PQexecParams(c, "SELECT name, v, id + 1 FROM t WHERE id = $1", 1, int8, id, nullptr,
                       nullptr, 0));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get());
  ASSERT_EQ(PQntuples(r.get()), 1);
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "alice");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 1), "2.5");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 2), "2");
  EXPECT_EQ(PQftype(r.get(), 2), oid::kInt8);

  const char* bad[] = {"x"};
  r.reset(PQexecParams(c, "SELECT $1", 1, int8, bad, nullptr, nullptr, 0));
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "22P02");
}

TEST_F(ExtendedQueryTest, BinaryParametersAndResults) {
  PGconn* c = conn_.get();
  std::string id, score;
  AppendBig64(42, &id);
  double d = -0.25;
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  AppendBig64(bits, &score);
  std::string blob = "\0\x01\xff"s;
  const Oid types[] = {oid::kInt8, oid::kFloat8, oid::kBytea, oid::kText};
  const char* values[] = {id.data(), score.data(), blob.data(), "héllo"};
  const int lengths[] = {8, 8, 3, 6};
  const int formats[] = {1, 1, 1, 1};
  PgResult r(PQexecParams(c, "SELECT $1 + 1, $2, $3, $4, NULL, $1 > 0 AS positive", 4, types,
                          values, lengths, formats, /*resultFormat=*/1));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get());
  ASSERT_EQ(PQnfields(r.get()), 6);
  EXPECT_EQ(PQftype(r.get(), 0), oid::kInt8);
  EXPECT_EQ(PQftype(r.get(), 1), oid::kFloat8);
  EXPECT_EQ(PQftype(r.get(), 2), oid::kBytea);
  EXPECT_EQ(PQftype(r.get(), 3), oid::kText);
  EXPECT_EQ(PQfformat(r.get(), 0), 1);
  ASSERT_EQ(PQgetlength(r.get(), 0, 0), 8);
  EXPECT_EQ(LoadBig64(PQgetvalue(r.get(), 0, 0)), 43u);
  ASSERT_EQ(PQgetlength(r.get(), 0, 1), 8);
  EXPECT_EQ(LoadBig64(PQgetvalue(r.get(), 0, 1)), bits);
  EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, 2), PQgetlength(r.get(), 0, 2)), blob);
  EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, 3)), "héllo");
  EXPECT_TRUE(PQgetisnull(r.get(), 0, 4));
  EXPECT_EQ(LoadBig64(PQgetvalue(r.get(), 0, 5)), 1u);
}

TEST_F(ExtendedQueryTest, BinaryResultThatCannotConvertIsAnError) {
  PGconn* c = conn_.get();
  Exec(c, "INSERT INTO t VALUES (1, 'x', 1.0)");
  Exec(c, "CREATE TABLE odd (n INTEGER)");
  Exec(c, "INSERT INTO odd VALUES (1), ('not a number')");
  PgResult r(PQexecParams(c, "SELECT n FROM odd", 0, nullptr, nullptr, nullptr, nullptr, 1));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "22P02");
  // Text format is fine, and the connection goes on.
  r.reset(PQexecParams(c, "SELECT n FROM odd", 0, nullptr, nullptr, nullptr, nullptr, 0));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  EXPECT_STREQ(PQgetvalue(r.get(), 1, 0), "not a number");
}

TEST_F(ExtendedQueryTest, BinaryConversionErrorAfterRowsWereSent) {
  PGconn* c = conn_.get();
  Exec(c, "CREATE TABLE big (n INTEGER)");
  PgResult r = Exec(c, "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
                       "WHERE i < 60000) INSERT INTO big SELECT i FROM s");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(r.get());
  Exec(c, "INSERT INTO big VALUES ('last one is text')");
  // More than one flush of rows leaves before the bad row is met.
  r.reset(PQexecParams(c, "SELECT n, n FROM big ORDER BY rowid", 0, nullptr, nullptr, nullptr,
                       nullptr, 1));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "22P02")
      << PQresultErrorMessage(r.get());
  r = Exec(c, "SELECT count(*) FROM big");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "60001");
}

TEST_F(ExtendedQueryTest, NamedPreparedStatements) {
  PGconn* c = conn_.get();
  PgResult r(PQprepare(c, "ins", "INSERT INTO t (id, name) VALUES ($1, $2)", 0, nullptr));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(r.get());
  for (int i = 1; i <= 5; ++i) {
    std::string id = std::to_string(i), name = absl::StrCat("n", i);
    const char* values[] = {id.c_str(), name.c_str()};
    r.reset(PQexecPrepared(c, "ins", 2, values, nullptr, nullptr, 0));
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(r.get());
  }
  r.reset(PQprepare(c, "sel", "SELECT id, name, v FROM t WHERE id > $1 ORDER BY id", 0, nullptr));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK);
  r.reset(PQdescribePrepared(c, "sel"));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(r.get());
  EXPECT_EQ(PQnparams(r.get()), 1);
  EXPECT_EQ(PQparamtype(r.get(), 0), oid::kText);
  ASSERT_EQ(PQnfields(r.get()), 3);
  EXPECT_EQ(PQftype(r.get(), 0), oid::kInt8);
  EXPECT_EQ(PQftype(r.get(), 1), oid::kText);
  EXPECT_EQ(PQftype(r.get(), 2), oid::kFloat8);

  const char* three[] = {"3"};
  r.reset(PQexecPrepared(c, "sel", 1, three, nullptr, nullptr, 0));
  ASSERT_EQ(PQntuples(r.get()), 2);
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 1), "n4");

  r.reset(PQprepare(c, "sel", "SELECT 1", 0, nullptr));
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "42P05");
  r.reset(PQexecPrepared(c, "nope", 0, nullptr, nullptr, nullptr, 0));
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "26000");
  // Wrong number of parameters.
  r.reset(PQexecPrepared(c, "ins", 1, three, nullptr, nullptr, 0));
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "08P01");
  EXPECT_EQ(PQstatus(c), CONNECTION_OK);
}

TEST_F(ExtendedQueryTest, PipelineMode) {
  PGconn* c = conn_.get();
  ASSERT_EQ(PQenterPipelineMode(c), 1);
  for (int i = 1; i <= 3; ++i) {
    std::string id = std::to_string(i);
    const char* values[] = {id.c_str()};
    ASSERT_EQ(PQsendQueryParams(c, "INSERT INTO t (id) VALUES ($1)", 1, nullptr, values, nullptr,
                                nullptr, 0),
              1);
  }
  ASSERT_EQ(PQsendQueryParams(c, "SELECT count(*) FROM t", 0, nullptr, nullptr, nullptr, nullptr,
                              0),
            1);
  ASSERT_EQ(PQpipelineSync(c), 1);
  // A second batch in flight before the first is read.
  ASSERT_EQ(PQsendQueryParams(c, "SELECT max(id) FROM t", 0, nullptr, nullptr, nullptr, nullptr,
                              0),
            1);
  ASSERT_EQ(PQpipelineSync(c), 1);

  std::vector<std::string> seen;
  for (int i = 0; i < 7; ++i) {
    PgResult r(PQgetResult(c));
    ASSERT_NE(r, nullptr);
    ExecStatusType status = PQresultStatus(r.get());
    if (status == PGRES_PIPELINE_SYNC) {
      seen.push_back("sync");
      continue;
    }
    if (status == PGRES_TUPLES_OK) {
      seen.push_back(absl::StrCat("rows ", PQgetvalue(r.get(), 0, 0)));
    } else {
      seen.push_back(PQcmdStatus(r.get()));
    }
    EXPECT_EQ(PQgetResult(c), nullptr);  // end of this query's results
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"INSERT 0 1", "INSERT 0 1", "INSERT 0 1", "rows 3",
                                            "sync", "rows 3", "sync"}));
  ASSERT_EQ(PQexitPipelineMode(c), 1);
}

TEST_F(ExtendedQueryTest, ErrorMidPipelineSkipsToSync) {
  PGconn* c = conn_.get();
  ASSERT_EQ(PQenterPipelineMode(c), 1);
  const char* one[] = {"1"};
  ASSERT_EQ(PQsendQueryParams(c, "INSERT INTO t (id) VALUES ($1)", 1, nullptr, one, nullptr,
                              nullptr, 0),
            1);
  ASSERT_EQ(PQsendQueryParams(c, "INSERT INTO t (id) VALUES ($1)", 1, nullptr, one, nullptr,
                              nullptr, 0),
            1);  // duplicate key
  ASSERT_EQ(PQsendQueryParams(c, "INSERT INTO t (id) VALUES (5)", 0, nullptr, nullptr, nullptr,
                              nullptr, 0),
            1);  // skipped
  ASSERT_EQ(PQpipelineSync(c), 1);
  ASSERT_EQ(PQsendQueryParams(c, "SELECT count(*) FROM t", 0, nullptr, nullptr, nullptr, nullptr,
                              0),
            1);
  ASSERT_EQ(PQpipelineSync(c), 1);

  PgResult r(PQgetResult(c));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK);
  EXPECT_EQ(PQgetResult(c), nullptr);
  r.reset(PQgetResult(c));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "23505");
  EXPECT_EQ(PQgetResult(c), nullptr);
  r.reset(PQgetResult(c));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_PIPELINE_ABORTED);
  EXPECT_EQ(PQgetResult(c), nullptr);
  r.reset(PQgetResult(c));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_PIPELINE_SYNC);
  r.reset(PQgetResult(c));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "1");
  EXPECT_EQ(PQgetResult(c), nullptr);
  r.reset(PQgetResult(c));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_PIPELINE_SYNC);
  ASSERT_EQ(PQexitPipelineMode(c), 1);
}

// Raw protocol: Execute with a row limit suspends the portal and the next
// Execute resumes it; unnamed statement with Describe of both kinds.
TEST(ExtendedRawTest, PortalSuspensionAndDescribe) {
  TestServer server;
  absl::StatusOr<std::unique_ptr<RawClient>> client = RawClient::Connect(server.port());
  ASSERT_TRUE(client.ok());
  RawClient& raw = **client;
  ASSERT_TRUE(raw.Startup().ok());
  FrontendBuilder b;
  b.Parse("", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) "
              "SELECT i FROM n")
      .Describe('S', "")
      .Bind("", "", {}, {}, {})
      .Describe('P', "")
      .Execute("", 2)
      .Execute("", 2)
      .Execute("", 2)
      .Sync();
  ASSERT_TRUE(raw.Send(b.bytes()).ok());
  absl::StatusOr<std::vector<BackendMessage>> messages = raw.ReadUntil('Z');
  ASSERT_TRUE(messages.ok()) << messages.status();
  std::string types;
  for (const BackendMessage& m : *messages) types.push_back(m.type);
  // ParseComplete, ParameterDescription, RowDescription (expression: text
  // before running), BindComplete, RowDescription (int8 after running),
  // 2 rows + suspended, 2 rows + suspended, 1 row + complete, ReadyForQuery.
  EXPECT_EQ(types, "1tT2TDDsDDsDCZ");
  ASSERT_EQ(messages->size(), 14u);
  const std::string& described = (*messages)[4].body;
  // One field "i", then table oid, attnum, type oid.
  EXPECT_EQ(LoadBig32(described.data() + 2 + 2 + 6), oid::kInt8);
  EXPECT_EQ((*messages)[12].body, "SELECT 5"s + '\0');
}

// A driver that decodes by the statement's Describe (and never describes the
// portal) gets values in the types announced there: an expression column was
// announced as text, so binary format sends its text, not an int8.
TEST(ExtendedRawTest, UndescribedPortalKeepsTheStatementTypes) {
  TestServer server;
  absl::StatusOr<std::unique_ptr<RawClient>> client = RawClient::Connect(server.port());
  ASSERT_TRUE(client.ok());
  RawClient& raw = **client;
  ASSERT_TRUE(raw.Startup().ok());
  FrontendBuilder b;
  b.Parse("two", "SELECT 1 + 1 AS two").Describe('S', "two").Sync();
  b.Bind("", "two", {}, {}, {1}).Execute("", 0).Sync();
  b.Bind("", "two", {}, {}, {1}).Describe('P', "").Execute("", 0).Sync();
  ASSERT_TRUE(raw.Send(b.bytes()).ok());
  absl::StatusOr<std::vector<BackendMessage>> described = raw.ReadUntil('Z');
  ASSERT_TRUE(described.ok());
  ASSERT_EQ(described->size(), 4u);  // 1 t T Z
  EXPECT_EQ(LoadBig32((*described)[2].body.data() + 2 + 4 + 4 + 2), oid::kText);

  absl::StatusOr<std::vector<BackendMessage>> undescribed = raw.ReadUntil('Z');
  ASSERT_TRUE(undescribed.ok());
  ASSERT_EQ(undescribed->size(), 4u);  // 2 D C Z
  EXPECT_EQ((*undescribed)[1].body, "\0\x01\0\0\0\x01"s "2");

  absl::StatusOr<std::vector<BackendMessage>> exact = raw.ReadUntil('Z');
  ASSERT_TRUE(exact.ok());
  ASSERT_EQ(exact->size(), 5u);  // 2 T D C Z
  EXPECT_EQ(LoadBig32((*exact)[1].body.data() + 2 + 4 + 4 + 2), oid::kInt8);
  EXPECT_EQ((*exact)[2].body, "\0\x01\0\0\0\x08\0\0\0\0\0\0\0\x02"s);
}

TEST(ExtendedRawTest, ErrorsSkipToSyncAndEmptyQuery) {
  TestServer server;
  absl::StatusOr<std::unique_ptr<RawClient>> client = RawClient::Connect(server.port());
  ASSERT_TRUE(client.ok());
  RawClient& raw = **client;
  ASSERT_TRUE(raw.Startup().ok());
  FrontendBuilder b;
  b.Bind("", "missing", {}, {}, {})  // 26000, then skip
      .Execute("", 0)
      .Sync()
      .Parse("", "  ")
      .Bind("", "", {}, {}, {})
      .Describe('P', "")
      .Execute("", 0)
      .Execute("nope", 0)  // 34000
      .Sync()
      .Parse("s1", "SELECT 1")
      .Bind("p1", "s1", {}, {}, {})
      .Close('S', "s1")  // closes p1 too
      .Close('P', "never existed")
      .Execute("p1", 0)  // 34000
      .Sync();
  ASSERT_TRUE(raw.Send(b.bytes()).ok());
  absl::StatusOr<std::vector<BackendMessage>> first = raw.ReadUntil('Z');
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].type, 'E');
  EXPECT_EQ(ErrorFields((*first)[0].body)['C'], "26000");
  absl::StatusOr<std::vector<BackendMessage>> second = raw.ReadUntil('Z');
  ASSERT_TRUE(second.ok());
  std::string types;
  for (const BackendMessage& m : *second) types.push_back(m.type);
  EXPECT_EQ(types, "12nIEZ");
  EXPECT_EQ(ErrorFields((*second)[4].body)['C'], "34000");
  absl::StatusOr<std::vector<BackendMessage>> third = raw.ReadUntil('Z');
  ASSERT_TRUE(third.ok());
  types.clear();
  for (const BackendMessage& m : *third) types.push_back(m.type);
  EXPECT_EQ(types, "1233EZ");
  EXPECT_EQ(ErrorFields((*third)[4].body)['C'], "34000");
}

// pgbench in each query mode (-M prepared relies on named statements and
// pipelined Bind/Execute/Sync). Only success is checked, never speed.
TEST(PgbenchTest, AllQueryModes) {
  TestServer server;
  TempDir dir;
  std::string script = dir.WriteFile(
      "bench.sql", "\\set x random(1, 1000)\nSELECT :x + 1;\nSELECT 'abc', :x * 2.5;\n");
  for (const char* mode : {"simple", "extended", "prepared"}) {
    SCOPED_TRACE(mode);
    Subprocess pgbench;
    ASSERT_TRUE(pgbench
                    .Start({"pgbench", "-n", "-M", mode, "-c", "4", "-j", "2", "-t", "50", "-f",
                            script, "-h", "127.0.0.1", "-p", std::to_string(server.port()),
                            "-U", "u", "db"})
                    .ok());
    bool processed = false;
    while (true) {
      absl::StatusOr<std::string> line = pgbench.ReadLine(absl::Seconds(60));
      if (!line.ok()) break;
      if (absl::StrContains(*line, "number of transactions actually processed: 200/200")) {
        processed = true;
      }
    }
    EXPECT_TRUE(processed);
    EXPECT_EQ(*pgbench.WaitFor(absl::Seconds(60)), 0);
  }
}

}  // namespace
}  // namespace shale::gate::pgwire
