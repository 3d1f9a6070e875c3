#pragma once

// How to run Debian's ZooKeeper server (the zookeeper package on the system
// JRE): the command line of a standalone server for a given zoo.cfg. Shared
// by the tests' ZkTestServer and `shale local up --topo zk` (src/local).
// Pure functions of the environment.
//
// Environment: SHALE_ZK_CLASSPATH overrides the server classpath; JAVA_HOME
// picks the java binary (default: java in $PATH); SHALE_ZK_LOG_LEVEL sets the
// server's log level on stderr (default: error).

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace shale::topo {

// java ... org.apache.zookeeper.server.quorum.QuorumPeerMain config_path.
// NotFound (naming the package to install) when the ZooKeeper jars are missing.
absl::StatusOr<std::vector<std::string>> ZkServerArgv(const std::string& config_path);

}  // namespace shale::topo
