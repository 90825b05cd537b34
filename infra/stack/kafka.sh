#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, combined broker+controller) for development and CI.
#
#   infra/stack/kafka.sh install   # resolve jars from Maven Central into $STACK_DIR/kafka/libs (idempotent)
#   infra/stack/kafka.sh start     # format storage once, start the broker, wait until it answers (idempotent)
#   infra/stack/kafka.sh stop      # SIGTERM, wait, then SIGKILL
#   infra/stack/kafka.sh status    # "kafka: up 127.0.0.1:9092 (pid N)" or "kafka: down"; exit 0 either way
#   infra/stack/kafka.sh check     # deeper check with the Java admin client (BrokerApiVersionsCommand)
#   infra/stack/kafka.sh reset     # stop and delete data + cluster id (jars are kept)
#   infra/stack/kafka.sh topics ARGS...   # kafka-topics (TopicCommand) against the broker, e.g. `topics --list`
#   infra/stack/kafka.sh perf CLASS ARGS...  # a Kafka perf tool (e.g. org.apache.kafka.tools.ProducerPerformance)
#   infra/stack/kafka.sh logs      # tail of the broker log
#   infra/stack/kafka.sh hanging [--abort | --abort-safe]  # transactions left open on a partition that
#                                  # their coordinator no longer tracks (Kafka's find-hanging); --abort aborts
#                                  # each, --abort-safe only those whose abort loses nothing (see kafka_hanging)
#
# Can also be sourced: `source infra/stack/kafka.sh` defines kafka_install, kafka_start, kafka_stop,
# kafka_status, kafka_check, kafka_reset, kafka_topics and kafka_main without running anything.
#
# Broker: PLAINTEXT on 127.0.0.1:9092, controller on 127.0.0.1:9093 (env KAFKA_PORT, KAFKA_CONTROLLER_PORT override).
# Layout under $STACK_DIR/kafka: libs/ (jars), data/ (KRaft log dirs), logs/ (server.log, kafka.out, ...),
# server.properties (generated from infra/kafka/server.properties), cluster.id, kafka.pid.
#
# Environment (all optional):
#   STACK_DIR              default <repo root>/.stack
#   KAFKA_JAVA             java binary (default $JAVA_HOME/bin/java, else `java` on PATH; needs Java >= 17)
#   KAFKA_HEAP_OPTS        default "-Xms256m -Xmx1g"
#   KAFKA_START_TIMEOUT    seconds to wait for readiness (default 90)
#   KAFKA_STOP_TIMEOUT     seconds to wait after SIGTERM before SIGKILL (default 30)
#   MVN                    maven binary (default mvn)
#
# A second broker of the same stack (infra/stack/kafka-secure.sh) sources this file with KAFKA__NAME,
# KAFKA__TEMPLATE, KAFKA_PORT, KAFKA_CONTROLLER_PORT (and KAFKA__CLIENT_CONFIG, KAFKA__FORMAT_ARGS, its own
# kafka__render) set: the same helpers and jars, its own directory $STACK_DIR/$KAFKA__NAME and ports.
set -euo pipefail

KAFKA_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_REPO_ROOT="$(cd "$KAFKA_SCRIPT_DIR/../.." && pwd)"
STACK_DIR="${STACK_DIR:-$KAFKA_REPO_ROOT/.stack}"

KAFKA_INFRA_DIR="$KAFKA_REPO_ROOT/infra/kafka"
KAFKA_POM="$KAFKA_INFRA_DIR/pom.xml"
KAFKA_NAME="${KAFKA__NAME:-kafka}"
KAFKA_DIR="$STACK_DIR/$KAFKA_NAME"
# jars are shared by every broker of the stack
KAFKA_LIBS="$STACK_DIR/kafka/libs"
KAFKA_TEMPLATE="${KAFKA__TEMPLATE:-$KAFKA_INFRA_DIR/server.properties}"
# client settings (a properties file) for the Java tools; unset: PLAINTEXT, no authentication
KAFKA_CLIENT_CONFIG="${KAFKA__CLIENT_CONFIG:-}"
# extra arguments of the one-time storage format (e.g. --add-scram ...)
declare -p KAFKA__FORMAT_ARGS >/dev/null 2>&1 || KAFKA__FORMAT_ARGS=()
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_LOGS="$KAFKA_DIR/logs"
KAFKA_CONF="$KAFKA_DIR/server.properties"
KAFKA_PIDFILE="$KAFKA_DIR/kafka.pid"
KAFKA_CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"
KAFKA_HOST=127.0.0.1
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"

kafka__log() { echo "$KAFKA_NAME: $*"; }
kafka__err() { echo "$KAFKA_NAME: ERROR: $*" >&2; }

kafka__java() {
  if [[ -n "${KAFKA_JAVA:-}" ]]; then
    echo "$KAFKA_JAVA"
  elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    echo "$JAVA_HOME/bin/java"
  else
    command -v java || { kafka__err "java not found (Java >= 17 needed)"; return 1; }
  fi
}

# Run a Kafka CLI main class with the installed jars, logging warnings to stderr only.
kafka__tool() {
  local java pre=()
  java="$(kafka__java)"
  [[ -n "${KAFKA__TOOL_TIMEOUT:-}" ]] && pre=(timeout "$KAFKA__TOOL_TIMEOUT")
  "${pre[@]}" "$java" -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_INFRA_DIR/tools-log4j2.xml" \
    -cp "$KAFKA_LIBS/*" "$@"
}

kafka__pom_hash() { sha256sum "$KAFKA_POM" | cut -d' ' -f1; }

kafka__installed() {
  compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" >/dev/null &&
    [[ -f "$KAFKA_LIBS/.pom.sha256" && "$(cat "$KAFKA_LIBS/.pom.sha256")" == "$(kafka__pom_hash)" ]]
}

kafka_install() {
  local kafka_version
  kafka_version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM")"
  if kafka__installed; then
    kafka__log "jars already present in $KAFKA_LIBS (kafka $kafka_version), skipping install"
    return 0
  fi
  local mvn="${MVN:-mvn}"
  command -v "$mvn" >/dev/null || { kafka__err "maven ($mvn) not found"; return 1; }
  kafka__java >/dev/null
  local home="${KAFKA_LIBS%/*}"
  mkdir -p "$home"
  local tmp="$home/libs.tmp.$$" log="$home/install.log" t0=$SECONDS
  rm -rf "$tmp"
  kafka__log "installing kafka $kafka_version: resolving jars from Maven Central (log: $log) ..."
  if ! "$mvn" -B -q -f "$KAFKA_POM" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$log" 2>&1; then
    kafka__err "maven failed; last lines of $log:"
    tail -n 30 "$log" >&2
    rm -rf "$tmp"
    return 1
  fi
  if ! compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null; then
    kafka__err "maven succeeded but no kafka_2.13 jar in $tmp"
    rm -rf "$tmp"
    return 1
  fi
  kafka__pom_hash >"$tmp/.pom.sha256"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  kafka__log "installed $(ls "$KAFKA_LIBS"/*.jar | wc -l) jars ($(du -sh "$KAFKA_LIBS" | cut -f1)) into $KAFKA_LIBS in $((SECONDS - t0))s"
}

# pid from the pid file, if that process is alive and is our broker
kafka__pid() {
  [[ -f "$KAFKA_PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$KAFKA_PIDFILE" 2>/dev/null)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}

# does anything accept TCP connections on host:port?
kafka__port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$KAFKA_HOST/${1:-$KAFKA_PORT}" 2>/dev/null
}

# Does the broker answer a real Kafka request? Sends ApiVersions v0 (correlation id 1, client id "probe")
# over bash's /dev/tcp and expects a response with that correlation id and error code 0. No JVM start, ~ms.
# Kafka only enables request processing on the PLAINTEXT listener after the broker has caught up with
# the metadata log and been unfenced, so an answer here means clients can create topics/produce/consume.
kafka__api_ready() {
  local port="${1:-$KAFKA_PORT}" out bytes
  out="$(timeout 3 bash -c "exec 3<>/dev/tcp/$KAFKA_HOST/$port &&
    printf '\\x00\\x00\\x00\\x0f\\x00\\x12\\x00\\x00\\x00\\x00\\x00\\x01\\x00\\x05probe' >&3 &&
    head -c 10 <&3 | od -An -tx1" 2>/dev/null)" || return 1
  read -r -a bytes <<<"$out"
  [[ "${bytes[*]:4:6}" == "00 00 00 01 00 00" ]]
}

# Deeper check through the Java admin client (BrokerApiVersionsCommand): ~1-2 s of JVM start.
kafka_check() {
  local cfg="$KAFKA_DIR/probe.properties"
  kafka__installed || { kafka__err "not installed; run: $0 install"; return 1; }
  printf 'request.timeout.ms=3000\ndefault.api.timeout.ms=5000\nsocket.connection.setup.timeout.ms=1000\n' >"$cfg"
  if [[ -n "$KAFKA_CLIENT_CONFIG" ]]; then cat "$KAFKA_CLIENT_CONFIG" >>"$cfg"; fi
  if KAFKA__TOOL_TIMEOUT=20 kafka__tool org.apache.kafka.tools.BrokerApiVersionsCommand \
    --bootstrap-server "$KAFKA_BOOTSTRAP" --command-config "$cfg" >"$KAFKA_DIR/check.out" 2>&1 &&
    grep -q "$KAFKA_BOOTSTRAP .*isFenced: false" "$KAFKA_DIR/check.out"; then
    kafka__log "check ok: $(grep -c '): ' "$KAFKA_DIR/check.out") APIs advertised by $KAFKA_BOOTSTRAP (details: $KAFKA_DIR/check.out)"
  else
    kafka__err "check failed:"
    tail -n 20 "$KAFKA_DIR/check.out" >&2
    return 1
  fi
}

kafka__new_cluster_id() {
  # Kafka Uuid: 16 random bytes, base64url without padding (22 chars); Kafka never hands out one starting with '-'
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" != -* && ${#id} -eq 22 ]] && break
  done
  echo "$id"
}

# further substitutions of the config template (stdin to stdout); a second broker redefines it
kafka__render() { cat; }

kafka__write_config() {
  mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
  # Ports are overridable (KAFKA_PORT, KAFKA_CONTROLLER_PORT) so a second stack can run beside the first.
  sed -e "s|@DATA_DIR@|$KAFKA_DATA|g" -e "s|127.0.0.1:9092|$KAFKA_HOST:$KAFKA_PORT|g" -e "s|127.0.0.1:9093|$KAFKA_HOST:$KAFKA_CONTROLLER_PORT|g" \
    "$KAFKA_TEMPLATE" | kafka__render >"$KAFKA_CONF.tmp"
  mv "$KAFKA_CONF.tmp" "$KAFKA_CONF"
}

kafka__format() {
  if [[ -f "$KAFKA_DATA/meta.properties" ]]; then
    return 0
  fi
  local cid
  if [[ -s "$KAFKA_CLUSTER_ID_FILE" ]]; then
    cid="$(cat "$KAFKA_CLUSTER_ID_FILE")"
  else
    cid="$(kafka__new_cluster_id)"
    echo "$cid" >"$KAFKA_CLUSTER_ID_FILE"
  fi
  kafka__log "formatting KRaft storage in $KAFKA_DATA (cluster id $cid) ..."
  if ! kafka__tool kafka.tools.StorageTool format -t "$cid" -c "$KAFKA_CONF" --ignore-formatted \
      "${KAFKA__FORMAT_ARGS[@]}" >"$KAFKA_LOGS/format.log" 2>&1; then
    kafka__err "storage format failed:"
    cat "$KAFKA_LOGS/format.log" >&2
    return 1
  fi
}

# byte offset of server.log when this start began, so failures show only this run's lines
KAFKA__LOG_OFFSET=0

kafka__fail_tail() {
  kafka__err "$1"
  if [[ -s "$KAFKA_LOGS/kafka.out" ]]; then
    echo "----- last lines of $KAFKA_LOGS/kafka.out -----" >&2
    tail -n 20 "$KAFKA_LOGS/kafka.out" >&2
  fi
  if [[ -s "$KAFKA_LOGS/server.log" ]]; then
    echo "----- last lines of $KAFKA_LOGS/server.log (this run) -----" >&2
    tail -c +"$((KAFKA__LOG_OFFSET + 1))" "$KAFKA_LOGS/server.log" | tail -n 40 >&2
  fi
}

kafka__wait_ready() {
  local pid="$1" timeout="${KAFKA_START_TIMEOUT:-90}" t0=$SECONDS
  printf '%s: waiting for broker on %s ' "$KAFKA_NAME" "$KAFKA_BOOTSTRAP"
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo
      rm -f "$KAFKA_PIDFILE"
      kafka__fail_tail "broker process $pid exited during startup"
      return 1
    fi
    if kafka__api_ready; then
      echo
      kafka__log "up $KAFKA_BOOTSTRAP (pid $pid), ready after $((SECONDS - t0))s"
      return 0
    fi
    if ((SECONDS - t0 >= timeout)); then
      echo
      kafka__fail_tail "broker not ready after ${timeout}s; stopping it"
      kafka_stop >&2 || true
      return 1
    fi
    printf '.'
    sleep 0.5
  done
}

kafka_start() {
  local pid
  if pid="$(kafka__pid)"; then
    if kafka__api_ready; then
      kafka__log "already running: up $KAFKA_BOOTSTRAP (pid $pid)"
      return 0
    fi
    kafka__log "already starting (pid $pid)"
    kafka__wait_ready "$pid"
    return
  fi
  if kafka__api_ready; then
    kafka__log "something already answers on $KAFKA_BOOTSTRAP (a Kafka broker not started by this script); using it"
    return 0
  fi
  if kafka__port_open; then
    kafka__err "port $KAFKA_BOOTSTRAP is taken by a process that does not speak the Kafka protocol"
    return 1
  fi
  if kafka__port_open "$KAFKA_CONTROLLER_PORT"; then
    kafka__err "port $KAFKA_HOST:$KAFKA_CONTROLLER_PORT (controller) is taken by another process"
    return 1
  fi
  kafka_install
  kafka__write_config
  kafka__format

  local java
  java="$(kafka__java)"
  # shellcheck disable=SC2206
  local heap=(${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g})
  KAFKA__LOG_OFFSET="$(stat -c %s "$KAFKA_LOGS/server.log" 2>/dev/null || echo 0)"
  kafka__log "starting broker (KRaft broker+controller, logs in $KAFKA_LOGS) ..."
  # GC and JIT flags; a second broker may choose lighter ones (KAFKA__JVM_OPTS)
  # shellcheck disable=SC2206
  local jvm=(${KAFKA__JVM_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15})
  nohup "$java" "${heap[@]}" "${jvm[@]}" -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_LOGS" \
    -Dlog4j2.configurationFile="$KAFKA_INFRA_DIR/log4j2.xml" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_CONF" \
    >"$KAFKA_LOGS/kafka.out" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$KAFKA_PIDFILE"
  kafka__wait_ready "$pid"
}

kafka_stop() {
  local pid timeout="${KAFKA_STOP_TIMEOUT:-30}" t0=$SECONDS
  if ! pid="$(kafka__pid)"; then
    rm -f "$KAFKA_PIDFILE"
    if kafka__port_open; then
      kafka__log "not running from $KAFKA_PIDFILE, but something answers on $KAFKA_BOOTSTRAP; leaving it alone"
    else
      kafka__log "not running"
    fi
    return 0
  fi
  # KAFKA_STOP_SIGNAL=KILL stops it as a crash would (the fault run's broker crash).
  local signal="${KAFKA_STOP_SIGNAL:-TERM}"
  printf '%s: stopping pid %s (SIG%s) ' "$KAFKA_NAME" "$pid" "$signal"
  kill "-$signal" "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS - t0 >= timeout)); then
      echo
      kafka__log "still alive after ${timeout}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    printf '.'
    sleep 0.5
  done
  echo
  rm -f "$KAFKA_PIDFILE"
  kafka__log "stopped after $((SECONDS - t0))s"
}

kafka_status() {
  local pid
  if pid="$(kafka__pid)"; then
    if kafka__api_ready; then
      echo "$KAFKA_NAME: up $KAFKA_BOOTSTRAP (pid $pid)"
    else
      echo "$KAFKA_NAME: down (pid $pid is alive but $KAFKA_BOOTSTRAP does not answer yet)"
    fi
  elif kafka__api_ready; then
    echo "$KAFKA_NAME: up $KAFKA_BOOTSTRAP (pid unknown: not started by this script)"
  elif kafka__port_open; then
    echo "$KAFKA_NAME: down ($KAFKA_BOOTSTRAP is taken by a non-Kafka process)"
  else
    echo "$KAFKA_NAME: down"
  fi
  return 0
}

kafka_reset() {
  kafka_stop
  rm -rf "$KAFKA_DATA" "$KAFKA_CLUSTER_ID_FILE" "$KAFKA_CONF"
  kafka__log "data and cluster id removed ($KAFKA_DATA); jars kept"
}

kafka_topics() {
  kafka__installed || { kafka__err "not installed; run: $0 install"; return 1; }
  local auth=()
  if [[ -n "$KAFKA_CLIENT_CONFIG" ]]; then auth=(--command-config "$KAFKA_CLIENT_CONFIG"); fi
  kafka__tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" "${auth[@]}" "$@"
}

# Kafka's own load generators (ProducerPerformance, ConsumerPerformance) with a full JIT and a
# larger heap than the CLI tools get: the bench measures the broker's ceiling with them.
# A hanging transaction: records of a transaction left open on a partition (no commit or abort
# marker) while its coordinator has finished it or never knew it. It holds the partition's last
# stable offset, so read_committed readers stop there; on __consumer_offsets it makes the group's
# committed offsets unstable, so its consumers cannot start. Seen on this single broker when it
# is stopped (SIGTERM) while a transaction commits: the coordinator logged CompleteCommit but one
# partition never got the marker. Lists them (Kafka's `kafka-transactions find-hanging`, KIP-664);
# with --abort, writes an ABORT marker for each (`kafka-transactions abort`), which releases the
# partition and discards that transaction's records there. --abort-safe aborts only where that
# loses nothing: (1) offset commits on __consumer_offsets (the group re-reads from its previous
# commit, which every stage here tolerates: README, Hanging transactions); (2) a data partition
# whose marker the broker's own log says it skipped ("Couldn't find leader endpoint ... likely
# deleted") for a transaction it rolled back: the ABORT marker is what the coordinator meant to
# write. Any other hanging data partition is only listed, for an operator to look at.
# Output, one line per transaction:
#   hanging <topic> <partition> producer <id> epoch <epoch> from offset <start>
#   aborted <topic> <partition> producer <id>            (when aborted)
kafka_hanging() {
  kafka__installed || { kafka__err "not installed; run: $0 install"; return 1; }
  local mode=list found=0 line topic partition pid epoch start
  case "${1:-}" in
    --abort) mode=all ;;
    --abort-safe) mode=safe ;;
    "") ;;
    *) kafka__err "hanging: unknown option ${1} (use --abort or --abort-safe)"; return 2 ;;
  esac
  local tx=(org.apache.kafka.tools.TransactionsCommand --bootstrap-server "$KAFKA_BOOTSTRAP")
  # --max-transaction-timeout (minutes): open longer than any producer's transaction timeout (60 s here).
  while read -r topic partition pid epoch _coordinator_epoch start _rest; do
    [[ "$partition" =~ ^[0-9]+$ ]] || continue
    found=$((found + 1))
    echo "hanging $topic $partition producer $pid epoch $epoch from offset $start"
    if [[ "$mode" == all ]] || { [[ "$mode" == safe ]] && { [[ "$topic" == __consumer_offsets ]] || kafka__skipped_abort_marker "$topic" "$partition" "$pid"; }; }; then
      if kafka_perf "${tx[@]}" abort --topic "$topic" --partition "$partition" --start-offset "$start" >/dev/null 2>&1; then
        echo "aborted $topic $partition producer $pid"
      else
        kafka__err "could not abort the transaction of producer $pid on $topic-$partition"
      fi
    fi
  done < <(kafka_perf "${tx[@]}" find-hanging --broker-id 1 --max-transaction-timeout 1 2>/dev/null)
  echo "hanging transactions: $found"
}

# True when the broker's log says it skipped the marker for <topic>-<partition> of a transaction
# it rolled back, and that transaction's producer is <pid> (Kafka 4.4, seen after a restart: the
# coordinator sent markers while its metadata cache did not yet hold the partitions).
declare -gA KAFKA__TXN_PRODUCER=()
kafka__skipped_abort_marker() {
  local topic="$1" partition="$2" pid="$3" txn
  while read -r txn; do
    [[ -n "$txn" ]] || continue
    grep -qF "Completed rollback of ongoing transaction for transactionalId $txn " "$KAFKA_LOGS"/server.log* || continue
    # one JVM per transactional id, not per partition
    [[ -n "${KAFKA__TXN_PRODUCER[$txn]:-}" ]] || KAFKA__TXN_PRODUCER[$txn]="$(kafka_perf org.apache.kafka.tools.TransactionsCommand --bootstrap-server "$KAFKA_BOOTSTRAP" describe --transactional-id "$txn" 2>/dev/null | awk 'NR == 2 { print $3 }')"
    [[ "${KAFKA__TXN_PRODUCER[$txn]}" == "$pid" ]] && return 0
  done < <(grep -hF "Couldn't find leader endpoint for partitions" "$KAFKA_LOGS"/server.log* |
    grep -F -e "($topic-$partition," -e "($topic-$partition)" -e " $topic-$partition," -e " $topic-$partition)" |
    sed -n 's/.*while trying to send transaction markers for \(.*\), these partitions.*/\1/p' | sort -u)
  return 1
}

kafka_perf() {
  kafka__installed || { kafka__err "not installed; run: $0 install"; return 1; }
  local java
  java="$(kafka__java)"
  "$java" -Xms256m -Xmx768m -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_INFRA_DIR/tools-log4j2.xml" \
    -cp "$KAFKA_LIBS/*" "$@"
}

kafka_logs() {
  tail -n "${1:-50}" "$KAFKA_LOGS/server.log"
}

kafka_main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    install) kafka_install ;;
    start) kafka_start ;;
    stop) kafka_stop ;;
    restart) kafka_stop && kafka_start ;;
    status) kafka_status ;;
    check) kafka_check ;;
    reset) kafka_reset ;;
    topics) kafka_topics "$@" ;;
    perf) kafka_perf "$@" ;;
    logs) kafka_logs "$@" ;;
    hanging) kafka_hanging "$@" ;;
    *)
      echo "usage: $0 {install|start|stop|restart|status|check|reset|topics ARGS...|perf CLASS ARGS...|logs [N]}" >&2
      return 2
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  kafka_main "$@"
fi
