#!/usr/bin/env bash
# A three-broker KRaft cluster beside the stack's single broker (not started by stack:up): nodes 1-3,
# each broker and controller (a three-voter quorum), replication factor 3, min.insync.replicas 2
# (infra/kafka/server-cluster.properties). For the fault run's "kill one broker for good":
#   CHAOS_CLUSTER=3 npm run chaos    (test/chaos/chaos.ts starts it, provisions it and kills node 3)
#
#   infra/stack/kafka-cluster.sh start|stop|status|reset|bootstrap|balance
#   infra/stack/kafka-cluster.sh kill N       crash node N (kill -9), as a lost machine would
#
# Node N: clients on 127.0.0.1:(KAFKA_CLUSTER_BASE_PORT + 2(N-1)), its controller one port up;
# default base 19092 (19092/19093, 19094/19095, 19096/19097). Data under $STACK_DIR/kafka-cluster-N.
# Same jars and helpers as infra/stack/kafka.sh (sourced once per node, in a subshell).
set -euo pipefail
KAFKA_CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_CLUSTER_ROOT="$(cd "$KAFKA_CLUSTER_DIR/../.." && pwd)"
CLUSTER_STACK_DIR="${STACK_DIR:-$KAFKA_CLUSTER_ROOT/.stack}"
BASE_PORT="${KAFKA_CLUSTER_BASE_PORT:-19092}"
NODES=(1 2 3)

client_port() { echo $((BASE_PORT + 2 * ($1 - 1))); }
controller_port() { echo $((BASE_PORT + 2 * ($1 - 1) + 1)); }

voters() {
  local n out=()
  for n in "${NODES[@]}"; do out+=("$n@127.0.0.1:$(controller_port "$n")"); done
  (IFS=,; echo "${out[*]}")
}

bootstrap() {
  local n out=()
  for n in "${NODES[@]}"; do out+=("127.0.0.1:$(client_port "$n")"); done
  (IFS=,; echo "${out[*]}")
}

# Runs kafka.sh's function "$2..." for node $1, in a subshell with that node's settings.
on_node() {
  local n="$1"
  shift
  (
    KAFKA__NAME="kafka-cluster-$n"
    KAFKA_PORT="$(client_port "$n")"
    KAFKA_CONTROLLER_PORT="$(controller_port "$n")"
    KAFKA__TEMPLATE="$KAFKA_CLUSTER_DIR/../kafka/server-cluster.properties"
    KAFKA_HEAP_OPTS="${KAFKA_CLUSTER_HEAP_OPTS:--Xms64m -Xmx512m}"
    KAFKA__JVM_OPTS="${KAFKA_CLUSTER_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=48m}"
    # shellcheck source=kafka.sh
    source "$KAFKA_CLUSTER_DIR/kafka.sh"
    VOTERS="$(voters)"
    kafka__render() { sed -e "s|@NODE_ID@|$n|g" -e "s|@VOTERS@|$VOTERS|g"; }
    "$@"
  )
}

# Every node formats its storage with the same cluster id (made once).
shared_cluster_id() {
  local file="$CLUSTER_STACK_DIR/kafka-cluster.id" n
  if [[ ! -s "$file" ]]; then
    mkdir -p "$CLUSTER_STACK_DIR"
    (source "$KAFKA_CLUSTER_DIR/kafka.sh" && kafka__new_cluster_id) >"$file"
  fi
  for n in "${NODES[@]}"; do
    mkdir -p "$CLUSTER_STACK_DIR/kafka-cluster-$n"
    cp "$file" "$CLUSTER_STACK_DIR/kafka-cluster-$n/cluster.id"
  done
}

start() {
  (source "$KAFKA_CLUSTER_DIR/kafka.sh" && kafka_install) >/dev/null
  shared_cluster_id
  # All at once: a node is ready only once a majority of the quorum runs.
  local n pids=() failed=0
  for n in "${NODES[@]}"; do
    on_node "$n" kafka_start &
    pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || failed=1; done
  ((failed == 0)) || { echo "kafka-cluster: a node did not start" >&2; return 1; }
  echo "kafka-cluster: up $(bootstrap)"
}

stop() { local n; for n in "${NODES[@]}"; do on_node "$n" kafka_stop; done; }
status() { local n; for n in "${NODES[@]}"; do on_node "$n" kafka_status; done; }
reset() {
  local n
  for n in "${NODES[@]}"; do on_node "$n" kafka_reset; done
  rm -f "$CLUSTER_STACK_DIR/kafka-cluster.id"
}
# Leadership back to each partition's preferred replica (a restarted node leads nothing until the
# controller's periodic rebalance): the fault run starts from a balanced cluster, as a fresh one is.
balance() {
  on_node 1 kafka_perf org.apache.kafka.tools.LeaderElectionCommand --bootstrap-server "$(bootstrap)" \
    --election-type preferred --all-topic-partitions >/dev/null 2>&1 || true
  echo "kafka-cluster: preferred leaders elected"
}

kill_node() {
  [[ "${1:-}" =~ ^[1-3]$ ]] || { echo "usage: $0 kill 1|2|3" >&2; return 2; }
  KAFKA_STOP_SIGNAL=KILL on_node "$1" kafka_stop
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  reset) reset ;;
  bootstrap) bootstrap ;;
  balance) balance ;;
  kill) kill_node "${2:-}" ;;
  *) echo "usage: $0 start|stop|status|reset|bootstrap|balance|kill N" >&2; exit 2 ;;
esac
