#include "tests/e2e/shale_cli.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "base/status_macros.h"
#include "base/subprocess.h"

namespace shale::e2e {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "shale-e2e-XXXXXX").string();
  if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

absl::StatusOr<CliResult> RunShale(const std::vector<std::string>& args) {
  std::string shale = FindBinary("shale");
  if (shale.empty()) return absl::NotFoundError("shale binary not found; set SHALE_BIN_DIR");
  std::vector<std::string> argv = {shale};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv);
}

absl::StatusOr<CliResult> RunProgram(const std::vector<std::string>& program) {
  TempDir dir;
  std::string err_file = dir.path() + "/stderr";
  // sh keeps stderr apart from stdout, which Subprocess reads.
  std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$@\" 2>\"$ERR_FILE\"", "sh"};
  argv.insert(argv.end(), program.begin(), program.end());
  Subprocess p;
  SubprocessOptions options;
  options.env.emplace_back("ERR_FILE", err_file);
  RETURN_IF_ERROR(p.Start(argv, options));
  RETURN_IF_ERROR(p.CloseStdin());
  CliResult result;
  for (;;) {
    absl::StatusOr<std::string> line = p.ReadLine(absl::Seconds(60));
    if (absl::IsOutOfRange(line.status())) break;
    RETURN_IF_ERROR(line.status());
    absl::StrAppend(&result.out, *line, "\n");
  }
  ASSIGN_OR_RETURN(result.exit_code, p.WaitFor(absl::Seconds(60)));
  std::ifstream in(err_file);
  std::stringstream buf;
  buf << in.rdbuf();
  result.err = buf.str();
  return result;
}

CliResult RunCtl(const std::string& topo, std::vector<std::string> args) {
  args.insert(args.begin(), {"ctl", "--topo", topo});
  absl::StatusOr<CliResult> r = RunShale(args);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : CliResult{};
}

nlohmann::json RunCtlJson(const std::string& topo, std::vector<std::string> args) {
  CliResult r = RunCtl(topo, args);
  EXPECT_EQ(r.exit_code, 0) << absl::StrJoin(args, " ") << ": " << r.err;
  return nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
}

}  // namespace shale::e2e
