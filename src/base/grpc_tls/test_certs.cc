#include "base/grpc_tls/test_certs.h"

#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "base/subprocess.h"

namespace shale::grpc_tls {
namespace {

absl::Status RunOpenssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  Subprocess p;
  RETURN_IF_ERROR(p.Start(args));
  ASSIGN_OR_RETURN(int code, p.WaitFor(absl::Seconds(60)));
  if (code != 0) {
    return absl::InternalError(absl::StrCat("exit ", code, ": ", absl::StrJoin(args, " ")));
  }
  return absl::OkStatus();
}

// A self-signed CA: NAME.crt and NAME.key in dir.
absl::Status MakeCa(const std::string& dir, const std::string& name) {
  return RunOpenssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                     "-nodes", "-days", "2", "-subj", absl::StrCat("/CN=", name),
                     "-keyout", absl::StrCat(dir, "/", name, ".key"),
                     "-out", absl::StrCat(dir, "/", name, ".crt")});
}

// NAME.crt and NAME.key in dir, signed by ca.crt, with the given
// subjectAltName ("" for none).
absl::Status MakeLeaf(const std::string& dir, const std::string& name, const std::string& cn,
                      const std::string& san) {
  std::vector<std::string> args = {
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-days", "2", "-subj", absl::StrCat("/CN=", cn),
      "-CA", absl::StrCat(dir, "/ca.crt"), "-CAkey", absl::StrCat(dir, "/ca.key"),
      "-keyout", absl::StrCat(dir, "/", name, ".key"),
      "-out", absl::StrCat(dir, "/", name, ".crt"),
      "-addext", "basicConstraints=critical,CA:FALSE"};
  if (!san.empty()) {
    args.push_back("-addext");
    args.push_back(absl::StrCat("subjectAltName=", san));
  }
  return RunOpenssl(std::move(args));
}

}  // namespace

absl::Status WriteTestCerts(const std::string& dir) {
  RETURN_IF_ERROR(MakeCa(dir, "ca"));
  RETURN_IF_ERROR(MakeCa(dir, "other-ca"));
  RETURN_IF_ERROR(MakeLeaf(dir, "server", "localhost", "DNS:localhost,IP:127.0.0.1"));
  RETURN_IF_ERROR(MakeLeaf(dir, "shared", "shale-tablet", "DNS:shale-tablet"));
  return MakeLeaf(dir, "client", "shale-client", "");
}

}  // namespace shale::grpc_tls
