#!/usr/bin/env bash
# Local Confluent-compatible Schema Registry: Apicurio Registry (Apache-2.0) from Maven Central,
# run as a plain JVM process with durable embedded H2 (file) storage.
#
#   infra/stack/schema-registry.sh install|start|stop|status|url
#
# The Confluent-compatible REST API is served under a path prefix:
#   http://127.0.0.1:8081/apis/ccompat/v7      (print it with: schema-registry.sh url)
# Point Confluent clients (e.g. @kafkajs/confluent-schema-registry `host`) at that URL.
#
# Env overrides: STACK_DIR (default <repo>/.stack), SR_VERSION, SR_PORT (8081),
# SR_MANAGEMENT_PORT (9081, health/metrics), SR_JAVA_OPTS, SR_START_TIMEOUT (60), JAVA_HOME.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
STACK_DIR="${STACK_DIR:-$REPO_ROOT/.stack}"

SR_VERSION="${SR_VERSION:-3.3.3}"
SR_ARTIFACT="io.apicurio:apicurio-registry-app:${SR_VERSION}:tar.gz:all"
SR_DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
SR_PORT="${SR_PORT:-8081}"
SR_MANAGEMENT_PORT="${SR_MANAGEMENT_PORT:-9081}"
SR_START_TIMEOUT="${SR_START_TIMEOUT:-60}"
SR_JAVA_OPTS="${SR_JAVA_OPTS:--Xms64m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}"

SR_DIR="$STACK_DIR/schema-registry"
SR_BIN_DIR="$SR_DIR/bin"
SR_APP_DIR="$SR_BIN_DIR/apicurio-registry-$SR_VERSION"
SR_JAR="$SR_APP_DIR/quarkus-run.jar"
SR_DATA_DIR="$SR_DIR/data"
SR_PID_FILE="$SR_DIR/registry.pid"
SR_LOG_FILE="$SR_DIR/registry.log"
SR_CONFIG_TEMPLATE="$REPO_ROOT/infra/schema-registry/application.properties"
SR_CONFIG="$SR_DIR/application.properties"

SR_BASE_URL="http://127.0.0.1:${SR_PORT}"
SR_URL="$SR_BASE_URL/apis/ccompat/v7"
SR_PROBE_URL="$SR_URL/subjects"

log() { echo "schema-registry: $*"; }
die() { echo "schema-registry: ERROR: $*" >&2; exit 1; }

# Apicurio 3.x needs Java >= 21 (the machine default may be 17).
java_major() { "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
find_java() {
  local c v
  for c in ${SR_JAVA:-} ${JAVA_HOME:+$JAVA_HOME/bin/java} /usr/lib/jvm/temurin-25-jdk-amd64/bin/java \
           /usr/lib/jvm/*-2[1-9]*/bin/java /usr/lib/jvm/*2[1-9]*/bin/java "$(command -v java || true)"; do
    [[ -n "$c" && -x "$c" ]] || continue
    v="$(java_major "$c")"
    if [[ -n "$v" && "$v" -ge 21 ]]; then echo "$c"; return 0; fi
  done
  return 1
}

probe() { curl -fsS -o /dev/null --max-time 2 "$SR_PROBE_URL" 2>/dev/null; }

# Echo the pid from the pid file if that process is alive, not a zombie, and is our registry JVM.
read_pid() {
  [[ -f "$SR_PID_FILE" ]] || return 1
  local pid state
  pid="$(cat "$SR_PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z && "$state" != X ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'quarkus-run.jar' || return 1
  echo "$pid"
}

# Wait until the API answers. 0 = ready, 1 = process died, 2 = timed out.
wait_ready() {
  local pid="$1" waited=0
  while (( waited < SR_START_TIMEOUT )); do
    if probe; then
      log "up at $SR_URL (pid $pid) after ${waited}s"
      return 0
    fi
    if ! read_pid >/dev/null; then return 1; fi
    if (( waited % 5 == 0 )); then log "waiting for $SR_PROBE_URL ... (${waited}s)"; fi
    sleep 1; waited=$((waited + 1))
  done
  return 2
}

cmd_install() {
  if [[ -f "$SR_JAR" && -f "$SR_APP_DIR/.installed" ]]; then
    log "Apicurio Registry $SR_VERSION already installed at $SR_APP_DIR"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (needed to fetch $SR_ARTIFACT from Maven Central)"
  find_java >/dev/null || die "no Java >= 21 found (set JAVA_HOME or SR_JAVA)"
  mkdir -p "$SR_BIN_DIR"
  local dl="$SR_BIN_DIR/.download" t0=$SECONDS
  rm -rf "$dl" "$SR_APP_DIR.tmp"; mkdir -p "$dl" "$SR_APP_DIR.tmp"
  log "fetching $SR_ARTIFACT from Maven Central (~160 MB) ..."
  # Run outside any project so no pom.xml is picked up.
  if ! (cd "$dl" && mvn -B -q "$SR_DEP_PLUGIN:copy" -Dartifact="$SR_ARTIFACT" \
        -DoutputDirectory="$dl" >"$dl/mvn.log" 2>&1); then
    tail -n 30 "$dl/mvn.log" >&2 || true
    die "maven download failed"
  fi
  local tgz; tgz="$(ls "$dl"/apicurio-registry-app-*-all.tar.gz)"
  log "unpacking $(basename "$tgz") ..."
  tar -xzf "$tgz" -C "$SR_APP_DIR.tmp"
  [[ -f "$SR_APP_DIR.tmp/quarkus-run.jar" ]] || die "unexpected archive layout (no quarkus-run.jar)"
  rm -rf "$SR_APP_DIR"; mv "$SR_APP_DIR.tmp" "$SR_APP_DIR"
  echo "$SR_ARTIFACT" >"$SR_APP_DIR/.installed"
  rm -rf "$dl"
  log "installed Apicurio Registry $SR_VERSION in $((SECONDS - t0))s -> $SR_APP_DIR"
}

cmd_start() {
  if probe; then
    local pid; pid="$(read_pid || true)"
    log "already up at $SR_URL${pid:+ (pid $pid)}"
    return 0
  fi
  local pid java rc=0
  if pid="$(read_pid)"; then
    log "process $pid exists but is not answering yet; waiting for it"
    wait_ready "$pid" || rc=$?
    if (( rc == 0 )); then return 0; fi
    if (( rc == 2 )); then
      log "pid $pid not ready after ${SR_START_TIMEOUT}s; last log lines ($SR_LOG_FILE):"
      tail -n 40 "$SR_LOG_FILE" >&2 || true
      exit 1
    fi
    log "pid $pid died; starting a new instance"
  fi
  rm -f "$SR_PID_FILE"
  [[ -f "$SR_JAR" ]] || cmd_install
  java="$(find_java)" || die "no Java >= 21 found (set JAVA_HOME or SR_JAVA)"
  [[ -f "$SR_CONFIG_TEMPLATE" ]] || die "missing config template $SR_CONFIG_TEMPLATE"
  mkdir -p "$SR_DATA_DIR/tmp"
  cp "$SR_CONFIG_TEMPLATE" "$SR_CONFIG"
  log "starting Apicurio Registry $SR_VERSION ($java, data in $SR_DATA_DIR, log $SR_LOG_FILE)"
  echo "---- $(date '+%F %T') start ----" >>"$SR_LOG_FILE"
  # shellcheck disable=SC2086
  (
    cd "$SR_DIR"
    SR_PORT="$SR_PORT" SR_MANAGEMENT_PORT="$SR_MANAGEMENT_PORT" SR_DATA_DIR="$SR_DATA_DIR" \
      nohup "$java" $SR_JAVA_OPTS -Dquarkus.config.locations="$SR_CONFIG" \
      -jar "$SR_JAR" >>"$SR_LOG_FILE" 2>&1 </dev/null &
    echo $! >"$SR_PID_FILE"
  )
  pid="$(cat "$SR_PID_FILE")"
  rc=0; wait_ready "$pid" || rc=$?
  if (( rc == 0 )); then return 0; fi
  if (( rc == 1 )); then
    log "process $pid exited during startup; last log lines ($SR_LOG_FILE):"
    rm -f "$SR_PID_FILE"
  else
    log "not ready after ${SR_START_TIMEOUT}s (pid $pid left running); last log lines ($SR_LOG_FILE):"
  fi
  tail -n 40 "$SR_LOG_FILE" >&2 || true
  exit 1
}

cmd_stop() {
  local pid
  if ! pid="$(read_pid)"; then
    rm -f "$SR_PID_FILE"
    if probe; then
      log "something answers at $SR_URL but has no live pid file here; not stopping it"
    else
      log "not running"
    fi
    return 0
  fi
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 30; i++)); do
    read_pid >/dev/null || break
    sleep 1
  done
  if read_pid >/dev/null; then
    log "pid $pid still alive after 30s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$SR_PID_FILE"
  log "stopped"
}

cmd_status() {
  local pid
  if probe; then
    pid="$(read_pid || true)"
    echo "schema-registry: up $SR_URL (pid ${pid:-unknown})"
  else
    echo "schema-registry: down"
  fi
  return 0
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  url) echo "$SR_URL" ;;
  *) echo "usage: $0 {install|start|stop|restart|status|url}" >&2; exit 2 ;;
esac
