// Parse cost of typical statements (Google Benchmark). Not a ctest; run
// build/bin/gate_sql_bench by hand. DESIGN §5: the gateway parses every
// statement, point selects at 100k/s.

#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "gate/sql/lexer.h"
#include "gate/sql/params.h"
#include "gate/sql/parser.h"

namespace shale::gate::sql {
namespace {

void BM_Parse(benchmark::State& state, const std::string& sql) {
  for (auto _ : state) {
    absl::StatusOr<Statement> st = Parse(sql);
    benchmark::DoNotOptimize(st);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * sql.size()));
}

void BM_Lex(benchmark::State& state, const std::string& sql) {
  for (auto _ : state) {
    absl::StatusOr<std::vector<Token>> tokens = Lex(sql);
    benchmark::DoNotOptimize(tokens);
  }
}

void BM_RewriteParams(benchmark::State& state, const std::string& sql) {
  for (auto _ : state) benchmark::DoNotOptimize(RewriteParams(sql));
}

const std::string kPointSelect = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
const std::string kUpdate = "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2";
const std::string kInsert =
    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, "
    "CURRENT_TIMESTAMP)";
const std::string kPsql =
    "SELECT n.nspname as \"Schema\", c.relname as \"Name\" FROM pg_catalog.pg_class c LEFT JOIN "
    "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN "
    "('r','p','v','m','S','f','') AND n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' AND "
    "pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1,2;";

std::string MultiRowInsert(int rows) {
  std::string sql = "INSERT INTO t (id, name, v) VALUES ";
  for (int i = 0; i < rows; ++i) absl::StrAppend(&sql, i ? ", " : "", "(", i, ", 'n", i, "', 1.5)");
  return sql;
}

BENCHMARK_CAPTURE(BM_Parse, point_select, kPointSelect);
BENCHMARK_CAPTURE(BM_Parse, pgbench_update, kUpdate);
BENCHMARK_CAPTURE(BM_Parse, pgbench_insert, kInsert);
BENCHMARK_CAPTURE(BM_Parse, psql_describe, kPsql);
BENCHMARK_CAPTURE(BM_Parse, insert_1000_rows, MultiRowInsert(1000));
BENCHMARK_CAPTURE(BM_Lex, point_select, kPointSelect);
BENCHMARK_CAPTURE(BM_RewriteParams, point_select, kPointSelect);

}  // namespace
}  // namespace shale::gate::sql

BENCHMARK_MAIN();
