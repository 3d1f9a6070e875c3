#pragma once

// How to run Debian's etcd server: the binary to start. Shared by the tests'
// EtcdTestServer and `shale local up --topo etcd` (src/local), which build
// their own command lines around it. Pure functions of the environment.

#include <string>

namespace shale::topo {

// $SHALE_ETCD_BINARY if set, else /usr/bin/etcd, else `etcd` found in $PATH;
// empty when there is none (install Debian's etcd-server: scripts/install-deps).
std::string FindEtcdBinary();

}  // namespace shale::topo
