# A local Shale cluster for the benchmark scripts under bench/, sourced by
# them (bash, after `set -euo pipefail` and `cd` to the repository root):
#
#   source bench/lib/cluster.sh
#   bench_binaries cdc_bench         # $SHALE (built unless set) + other targets
#   bench_workdir shale-cdc-bench    # $WORK, removed with every process at exit
#   cluster_start app semi_sync 1 -80 80-   # topology, shards, ctld, gateway
#   gate_psql -c "SELECT 1"
#
# What it sets: SHALE, WORK, PIDS (processes to kill at exit), TOPO,
# GATE_PORT, GATE_PID, and TABLET_PID[uid] for every tablet it started.
# A script that needs more at exit (stopping PostgreSQL, say) defines
# bench_cleanup_extra before it exits; it runs before the temp dir goes.
#
# The cluster: cell zone1; keyspace KS (sharding column id); per shard a
# primary and REPLICAS replicas (tablets zone1-100, 101, ... in shard order)
# elected with PlannedReparentShard; ctld (schema changes through the
# gateway go to it) and a gateway on a free PostgreSQL port (user bench).

# bench_binaries [TARGET...]: SHALE is the shale binary: $SHALE if set, else
# built into $BUILD_DIR (default build). Every other target T is built too,
# unless the variable named T in upper case (cdc_bench: CDC_BENCH) points at
# a binary already; each variable ends up naming the binary's full path.
bench_binaries() {
  local want=() t var
  [ -n "${SHALE:-}" ] || want+=(shale)
  for t in "$@"; do
    var=$(echo "$t" | tr '[:lower:]' '[:upper:]')
    [ -n "${!var:-}" ] || want+=("$t")
  done
  BUILD_DIR=${BUILD_DIR:-build}
  if [ ${#want[@]} -gt 0 ]; then
    if [ ! -f "$BUILD_DIR/build.ninja" ]; then
      cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} >/dev/null
    fi
    cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target "${want[@]}" >/dev/null
  fi
  SHALE=$(realpath "${SHALE:-$BUILD_DIR/bin/shale}")
  for t in "$@"; do
    var=$(echo "$t" | tr '[:lower:]' '[:upper:]')
    printf -v "$var" '%s' "$(realpath "${!var:-$BUILD_DIR/bin/$t}")"
  done
}

# bench_workdir NAME: a fresh temp dir $WORK; at exit every process in PIDS
# is killed, bench_cleanup_extra runs if defined, and $WORK is removed.
bench_workdir() {
  WORK=$(mktemp -d "/tmp/$1-XXXXXX")
  chmod 755 "$WORK"
  PIDS=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}
bench_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if declare -F bench_cleanup_extra >/dev/null; then bench_cleanup_extra || true; fi
  rm -rf "$WORK"
}

# The first line of every report: date, cores, CPU, load average.
machine_line() {
  echo "# $(date -u '+%F %H:%M UTC') $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
now_us() { date +%s%6N; }

# ctl ARGS...: shale ctl on the cluster's topology; stdout to $WORK/ctl.out,
# stderr appended to $WORK/ctl.log. On failure it prints the command's
# stderr and returns its exit code.
ctl() {
  local rc=0
  "$SHALE" ctl --topo "$TOPO" "$@" >"$WORK/ctl.out" 2>"$WORK/ctl.err" || rc=$?
  cat "$WORK/ctl.err" >>"$WORK/ctl.log"
  if [ "$rc" -ne 0 ]; then
    echo "shale ctl $* failed (exit $rc):" >&2
    cat "$WORK/ctl.out" "$WORK/ctl.err" >&2
  fi
  return "$rc"
}

# wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds; fails
# (naming CMD) after SECONDS.
wait_until() {
  local limit=$(($1 * 10)) i
  shift
  for ((i = 0; i < limit; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "timed out waiting for: $*" >&2
  return 1
}

gate_psql() { psql -X -q -h 127.0.0.1 -p "$GATE_PORT" -U bench -d "$CLUSTER_KS" "$@"; }

# start_tablet UID KS SHARD: a replica tablet zone1-UID; returns once it
# answers Ping.
declare -A TABLET_PID
start_tablet() {
  "$SHALE" tablet --topo "$TOPO" --alias "zone1-$1" --keyspace "$2" --shard "$3" \
    --init-type replica --data-dir "$WORK/zone1-$1" --grpc-port 0 --http-port 0 \
    >"$WORK/tablet-$1.log" 2>&1 &
  PIDS+=($!)
  TABLET_PID[$1]=$!
  wait_until 30 "$SHALE" ctl --topo "$TOPO" Ping "zone1-$1"
}

# add_shard KS SHARD FIRST_UID REPLICAS: CreateShard, a tablet FIRST_UID
# and REPLICAS more (FIRST_UID+1, ...), then FIRST_UID elected primary.
add_shard() {
  local ks=$1 shard=$2 first=$3 replicas=$4 n
  ctl CreateShard "$ks/$shard"
  for n in $(seq 0 "$replicas"); do start_tablet $((first + n)) "$ks" "$shard"; done
  ctl PlannedReparentShard "$ks/$shard" --new-primary "zone1-$first"
}

# cluster_start KS DURABILITY REPLICAS SHARD...: the whole cluster (above);
# the gateway answers when it returns.
cluster_start() {
  local ks=$1 durability=$2 replicas=$3 uid=100 shard
  shift 3
  CLUSTER_KS=$ks
  TOPO="sqlite:$WORK/topo.db"
  ctl AddCellInfo zone1
  ctl CreateKeyspace "$ks" --sharding-column id --durability "$durability"
  for shard in "$@"; do
    add_shard "$ks" "$shard" "$uid" "$replicas"
    uid=$((uid + replicas + 1))
  done
  ctl RebuildKeyspaceGraph "$ks"
  "$SHALE" ctld --topo "$TOPO" --grpc-port 0 --http-port 0 >"$WORK/ctld.out" 2>"$WORK/ctld.log" &
  PIDS+=($!)
  wait_until 10 grep -q grpc_port= "$WORK/ctld.out"
  GATE_PORT=$(free_port)
  "$SHALE" gate --topo "$TOPO" --cell zone1 --pg-port "$GATE_PORT" --grpc-port -1 --http-port 0 \
    >"$WORK/gate.out" 2>"$WORK/gate.log" &
  PIDS+=($!)
  GATE_PID=$!
  wait_until 10 gate_psql -c "SELECT 1"
}

# load_accounts ROWS: accounts(id, bal) with ids 1..ROWS and bal 0, loaded
# with \copy through the gateway; writes $WORK/update.sql, pgbench's point
# update over those rows.
load_accounts() {
  gate_psql -c "CREATE TABLE accounts (id INTEGER PRIMARY KEY, bal INTEGER NOT NULL)"
  seq 1 "$1" | sed 's/$/,0/' >"$WORK/accounts.csv"
  gate_psql -c "\\copy accounts (id, bal) from '$WORK/accounts.csv' with (format csv)"
  printf '\\set aid random(1, %d)\nUPDATE accounts SET bal = bal + 1 WHERE id = :aid;\n' "$1" \
    >"$WORK/update.sql"
}
