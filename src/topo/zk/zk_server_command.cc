#include "topo/zk/zk_server_command.h"

#include <stdlib.h>

#include <filesystem>

#include "absl/strings/str_cat.h"

namespace shale::topo {
namespace {

std::string JavaBinary() {
  const char* home = getenv("JAVA_HOME");
  if (home != nullptr && *home != '\0') return absl::StrCat(home, "/bin/java");
  return "java";
}

// Debian's zookeeper.jar names its dependencies in its manifest Class-Path;
// slf4j-simple (errors only) keeps the server quiet but not mute.
absl::StatusOr<std::string> ServerClasspath() {
  const char* override_cp = getenv("SHALE_ZK_CLASSPATH");
  if (override_cp != nullptr && *override_cp != '\0') return std::string(override_cp);
  const std::string jar = "/usr/share/java/zookeeper.jar";
  if (!std::filesystem::exists(jar)) {
    return absl::NotFoundError(
        absl::StrCat(jar, " not found: install Debian's zookeeper package (scripts/install-deps)"));
  }
  std::string cp = jar;
  for (const char* logger : {"/usr/share/java/slf4j-simple.jar", "/usr/share/java/slf4j-nop.jar"}) {
    if (std::filesystem::exists(logger)) {
      absl::StrAppend(&cp, ":", logger);
      break;
    }
  }
  return cp;
}

// The server's log level: SHALE_ZK_LOG_LEVEL (info, warn, ...), errors by default.
std::string LogLevel() {
  const char* level = getenv("SHALE_ZK_LOG_LEVEL");
  return level != nullptr && *level != '\0' ? level : "error";
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ZkServerArgv(const std::string& config_path) {
  absl::StatusOr<std::string> classpath = ServerClasspath();
  if (!classpath.ok()) return classpath.status();
  return std::vector<std::string>{
      JavaBinary(),
      "-Xms32m",
      "-Xmx256m",
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",
      absl::StrCat("-Dorg.slf4j.simpleLogger.defaultLogLevel=", LogLevel()),
      "-Dzookeeper.jmx.log4j.disable=true",
      "-cp",
      *classpath,
      "org.apache.zookeeper.server.quorum.QuorumPeerMain",
      config_path};
}

}  // namespace shale::topo
