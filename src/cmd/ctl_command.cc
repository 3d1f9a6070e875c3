#include "cmd/ctl_command.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cmd/grpc_tls_flags.h"
#include "ctl/output.h"
#include "spdlog/spdlog.h"
#include "topo/open/open.h"

namespace shale::cmd {
namespace {

constexpr char kSqlitePrefix[] = "sqlite:";

std::string LocalTopoPath() {
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : ".", "/.shale/local/topo.db");
}

// Exit codes: 0 success, 1 the operation failed, 2 bad usage (CLI11's).
constexpr int kExitFailed = 1;

int Fail(const absl::Status& status) {
  std::string msg(status.message());
  for (char& c : msg) {
    if (c == '\n') c = ' ';
  }
  std::cerr << "error: " << msg << "\n";
  return kExitFailed;
}

}  // namespace

std::string DefaultTopoAddress() {
  const char* env = std::getenv("SHALE_TOPO");
  if (env != nullptr && *env != '\0') return env;
  return absl::StrCat(kSqlitePrefix, LocalTopoPath());
}

absl::StatusOr<std::pair<std::string, std::string>> SplitKeyspaceShard(const std::string& arg) {
  size_t slash = arg.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == arg.size() ||
      arg.find('/', slash + 1) != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected KEYSPACE/SHARD (e.g. app/-80), got \"", arg, "\""));
  }
  return std::make_pair(arg.substr(0, slash), arg.substr(slash + 1));
}

void AddCtlCommand(CLI::App& app, CtlContext* ctx) {
  ctx->topo = DefaultTopoAddress();
  CLI::App* ctl = app.add_subcommand(
      "ctl", "Admin commands against the topology: keyspaces, shards, cells, tablets, graphs");
  ctl->require_subcommand(1);
  ctl->add_option("--topo", ctx->topo,
                  "Topology address: sqlite:PATH, etcd://HOST:PORT/ROOT, zk://HOST:PORT/ROOT or "
                  "memory: (default: $SHALE_TOPO, else the local cluster's sqlite file)")
      ->capture_default_str();
  ctl->add_flag("-v,--verbose", ctx->verbose,
                "Show the topology clients' logs on stderr (hidden by default)");
  ctl->add_option("--format", ctx->format, "Output format: json or table")
      ->check(CLI::IsMember({"json", "table"}))
      ->capture_default_str();
  AddGrpcTlsFlags(ctl, &ctx->grpc_tls, GrpcTlsRole::kClient);
  AddRecordCommands(ctl, ctx);
  AddGraphCommands(ctl, ctx);
  AddTabletRpcCommands(ctl, ctx);
  AddReparentCommands(ctl, ctx);
  AddVSchemaCommands(ctl, ctx);
  AddDdlCommands(ctl, ctx);
  AddSubscribeCommand(ctl, ctx);
  AddVDiffCommand(ctl, ctx);
  AddReshardCommands(ctl, ctx);
}

int RunCtl(const CtlContext& ctx) {
  absl::StatusOr<ctl::OutputFormat> format = ctl::ParseOutputFormat(ctx.format);
  if (!format.ok()) return Fail(format.status());
  if (absl::Status s = ApplyClientTls(ctx.grpc_tls); !s.ok()) return Fail(s);

  // Library logs (e.g. a ZooKeeper client retrying) would bury the one error line.
  spdlog::set_level(ctx.verbose ? spdlog::level::info : spdlog::level::off);
  topo::ConnOptions options;
  options.create_if_missing = ctx.writes;
  if (ctx.writes && ctx.topo == absl::StrCat(kSqlitePrefix, LocalTopoPath())) {
    // The default location is ours to create; an explicit path's directory is the operator's.
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(LocalTopoPath()).parent_path(), ec);
  }
  absl::StatusOr<std::unique_ptr<topo::Conn>> conn = topo::OpenConn(ctx.topo, options);
  if (!conn.ok()) {
    if (absl::IsNotFound(conn.status())) {
      return Fail(absl::NotFoundError(absl::StrCat(
          conn.status().message(),
          "; is the address right? (a new topology is created by AddCellInfo or "
          "CreateKeyspace, or by scripts/run-local)")));
    }
    return Fail(conn.status());
  }
  topo::Server ts(*std::move(conn), [](absl::string_view address) {
    return topo::OpenConn(address, topo::ConnOptions{});
  });
  absl::StatusOr<nlohmann::json> result = ctx.action(ts);
  if (!result.ok()) return Fail(result.status());
  if (!result->is_null()) std::cout << ctl::FormatOutput(*result, *format);
  return 0;
}

}  // namespace shale::cmd
