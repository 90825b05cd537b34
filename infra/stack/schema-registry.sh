#!/usr/bin/env bash
# Local Confluent-compatible Schema Registry at http://127.0.0.1:8081 (Confluent's URL layout: /subjects,
# /schemas/ids/<id>, /config, /compatibility/..., /mode at the root):
#   - Apicurio Registry (Apache-2.0) from Maven Central, run as a plain JVM process with durable embedded
#     H2 (file) storage; it serves the Confluent-compatible API under
#     http://127.0.0.1:8085/apis/ccompat/v7 (management/health on 127.0.0.1:9081);
#   - nginx (Debian package) as a reverse proxy on 127.0.0.1:8081 that maps / onto that prefix
#     (infra/schema-registry/nginx.conf). It is started by this script with its own prefix, config, pid
#     file and logs under $STACK_DIR/schema-registry/nginx; the system nginx service is not used.
#
#   infra/stack/schema-registry.sh install|start|stop|restart|status|url
#
#   install  fetch Apicurio (mvn) and, only if `nginx` is missing, apt-get install nginx-light (idempotent)
#   start    start Apicurio, then nginx; wait until GET http://127.0.0.1:8081/subjects answers (idempotent;
#            a changed config template is applied: Apicurio restarted, nginx reloaded)
#   stop     stop nginx, then Apicurio
#   status   "schema-registry: up http://127.0.0.1:8081 (apicurio pid N, nginx pid M)" or
#            "schema-registry: down[ (details)]"; exit 0 either way
#   url      print http://127.0.0.1:8081 (point Confluent clients, e.g. @kafkajs/confluent-schema-registry
#            `host`, at it)
#
# Env overrides: STACK_DIR (default <repo>/.stack), SR_VERSION, SR_PORT (8081, nginx),
# SR_BACKEND_PORT (8085, Apicurio HTTP), SR_MANAGEMENT_PORT (9081, Apicurio health/metrics), SR_JAVA_OPTS,
# SR_START_TIMEOUT (60), JAVA_HOME / SR_JAVA, SR_NGINX (nginx binary).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
STACK_DIR="${STACK_DIR:-$REPO_ROOT/.stack}"

SR_VERSION="${SR_VERSION:-3.3.3}"
SR_ARTIFACT="io.apicurio:apicurio-registry-app:${SR_VERSION}:tar.gz:all"
SR_DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
SR_PORT="${SR_PORT:-8081}"
SR_BACKEND_PORT="${SR_BACKEND_PORT:-8085}"
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

NGX_DIR="$SR_DIR/nginx"
NGX_CONF_TEMPLATE="$REPO_ROOT/infra/schema-registry/nginx.conf"
NGX_CONF="$NGX_DIR/nginx.conf"
NGX_PID_FILE="$NGX_DIR/nginx.pid"      # written by nginx itself (`pid` in the template)
NGX_ERROR_LOG="$NGX_DIR/error.log"     # `error_log` in the template
NGX_START_OUT="$NGX_DIR/start.out"

SR_URL="http://127.0.0.1:${SR_PORT}"
SR_PROBE_URL="$SR_URL/subjects"
SR_BACKEND_URL="http://127.0.0.1:${SR_BACKEND_PORT}/apis/ccompat/v7"
SR_BACKEND_PROBE_URL="$SR_BACKEND_URL/subjects"

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

# nginx lives in /usr/sbin, which a non-root PATH may lack.
find_nginx() {
  local c
  for c in ${SR_NGINX:-} "$(command -v nginx || true)" /usr/sbin/nginx; do
    [[ -n "$c" && -x "$c" ]] && { echo "$c"; return 0; }
  done
  return 1
}

# GET <url> answers 2xx with a JSON array (the subject list).
probe_url() {
  local body
  body="$(curl -fsS --max-time 5 "$1" 2>/dev/null)" || return 1
  [[ "$body" == \[* ]]
}
probe() { probe_url "$SR_PROBE_URL"; }
probe_backend() { probe_url "$SR_BACKEND_PROBE_URL"; }

# Echo the pid from pid file $1 if that process is alive, not a zombie, and its command line contains $2.
read_pid_file() {
  local file="$1" marker="$2" pid state
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z && "$state" != X ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker" || return 1
  echo "$pid"
}
read_pid() { read_pid_file "$SR_PID_FILE" 'quarkus-run.jar'; }
# The master's title is "nginx: master process <binary> -p <dir> -c <conf>"; workers do not match.
read_nginx_pid() { read_pid_file "$NGX_PID_FILE" "master process"; }

# SIGTERM (or $3), wait up to $4 s for `$2` (a pid reader) to stop matching, then SIGKILL.
stop_pid() {
  local pid="$1" reader="$2" sig="${3:-TERM}" timeout="${4:-30}" i
  kill -"$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 5; i++)); do
    "$reader" >/dev/null || return 0
    sleep 0.2
  done
  log "pid $pid still alive after ${timeout}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.2
}

# ---------------------------------------------------------------------------------------------- install

install_apicurio() {
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

# The Debian package's postinst may start the system nginx service (port 80) where services can be
# started; we never use it, so stop it again right after installing.
stop_system_nginx() {
  local pid
  pid="$(cat /run/nginx.pid 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 0
  log "stopping the system nginx service started by the package install (pid $pid; not used here)"
  if command -v service >/dev/null && service nginx stop >/dev/null 2>&1; then :; else
    kill -QUIT "$pid" 2>/dev/null || true
  fi
  command -v update-rc.d >/dev/null && update-rc.d nginx disable >/dev/null 2>&1 || true
  command -v systemctl >/dev/null && systemctl disable nginx >/dev/null 2>&1 || true
}

install_nginx() {
  local ngx
  if ngx="$(find_nginx)"; then
    log "nginx already installed ($ngx)"
    return 0
  fi
  command -v apt-get >/dev/null || die "nginx not found and no apt-get to install it (install nginx or set SR_NGINX)"
  [[ "$(id -u)" == 0 ]] || die "nginx not found; install it as root: apt-get install -y nginx-light"
  log "installing nginx (apt-get install nginx-light) ..."
  local t0=$SECONDS apt_log="$STACK_DIR/apt-nginx.log"
  mkdir -p "$STACK_DIR"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends nginx-light >"$apt_log" 2>&1; then
    log "apt-get install failed; running apt-get update and retrying"
    apt-get update >>"$apt_log" 2>&1 || true
    apt-get install -y --no-install-recommends nginx-light >>"$apt_log" 2>&1 \
      || apt-get install -y --no-install-recommends nginx >>"$apt_log" 2>&1 \
      || { tail -n 30 "$apt_log" >&2; die "could not install nginx (log: $apt_log)"; }
  fi
  stop_system_nginx
  ngx="$(find_nginx)" || die "nginx still not found after install (log: $apt_log)"
  log "installed nginx ($("$ngx" -v 2>&1 | sed 's/.*: //')) in $((SECONDS - t0))s"
}

cmd_install() {
  install_apicurio
  install_nginx
}

# ---------------------------------------------------------------------------------------------- apicurio

# Apicurio's effective config: the template plus the environment it is launched with. A running
# instance whose recorded config differs from this one is restarted by `start`.
render_sr_config() {
  cat "$SR_CONFIG_TEMPLATE"
  printf '\n# launched by schema-registry.sh with: SR_BACKEND_PORT=%s SR_MANAGEMENT_PORT=%s SR_DATA_DIR=%s SR_JAVA_OPTS=%s\n' \
    "$SR_BACKEND_PORT" "$SR_MANAGEMENT_PORT" "$SR_DATA_DIR" "$SR_JAVA_OPTS"
}

stop_apicurio() {
  local pid
  if pid="$(read_pid)"; then
    log "stopping Apicurio (pid $pid)"
    stop_pid "$pid" read_pid TERM 30
  fi
  rm -f "$SR_PID_FILE"
}

# Wait until Apicurio answers on its own port. 0 = ready, 1 = process died, 2 = timed out.
wait_backend() {
  local pid="$1" t0=$SECONDS next=5
  while (( SECONDS - t0 < SR_START_TIMEOUT )); do
    if probe_backend; then
      log "Apicurio up at $SR_BACKEND_URL (pid $pid) after $((SECONDS - t0))s"
      return 0
    fi
    read_pid >/dev/null || return 1
    if (( SECONDS - t0 >= next )); then log "waiting for $SR_BACKEND_PROBE_URL ... ($((SECONDS - t0))s)"; next=$((next + 5)); fi
    sleep 0.5
  done
  return 2
}

# Make sure Apicurio runs with the current config and answers. Sets STARTED=1 if it (re)started it.
ensure_apicurio() {
  local pid java rc=0 want
  want="$(render_sr_config)"
  if pid="$(read_pid)"; then
    if [[ "$want" != "$(cat "$SR_CONFIG" 2>/dev/null || true)" ]]; then
      log "Apicurio config changed since pid $pid was started; restarting it"
      stop_apicurio
    else
      probe_backend && return 0
      log "Apicurio pid $pid exists but is not answering yet; waiting for it"
      wait_backend "$pid" || rc=$?
      case $rc in
        0) return 0 ;;
        1) log "pid $pid died; starting a new instance" ;;
        *) log "pid $pid not ready after ${SR_START_TIMEOUT}s; last log lines ($SR_LOG_FILE):"
           tail -n 40 "$SR_LOG_FILE" >&2 || true
           exit 1 ;;
      esac
    fi
  elif probe_backend; then
    log "something answers at $SR_BACKEND_URL without a live pid file here; using it as the backend"
    return 0
  fi
  rm -f "$SR_PID_FILE"
  [[ -f "$SR_JAR" ]] || install_apicurio
  java="$(find_java)" || die "no Java >= 21 found (set JAVA_HOME or SR_JAVA)"
  [[ -f "$SR_CONFIG_TEMPLATE" ]] || die "missing config template $SR_CONFIG_TEMPLATE"
  mkdir -p "$SR_DATA_DIR/tmp"
  printf '%s\n' "$want" >"$SR_CONFIG"
  log "starting Apicurio Registry $SR_VERSION on 127.0.0.1:$SR_BACKEND_PORT ($java, data in $SR_DATA_DIR, log $SR_LOG_FILE)"
  echo "---- $(date '+%F %T') start ----" >>"$SR_LOG_FILE"
  # shellcheck disable=SC2086
  (
    cd "$SR_DIR"
    SR_BACKEND_PORT="$SR_BACKEND_PORT" SR_MANAGEMENT_PORT="$SR_MANAGEMENT_PORT" SR_DATA_DIR="$SR_DATA_DIR" \
      nohup "$java" $SR_JAVA_OPTS -Dquarkus.config.locations="$SR_CONFIG" \
      -jar "$SR_JAR" >>"$SR_LOG_FILE" 2>&1 </dev/null &
    echo $! >"$SR_PID_FILE"
  )
  STARTED=1
  pid="$(cat "$SR_PID_FILE")"
  rc=0; wait_backend "$pid" || rc=$?
  (( rc == 0 )) && return 0
  if (( rc == 1 )); then
    log "Apicurio (pid $pid) exited during startup; last log lines ($SR_LOG_FILE):"
    rm -f "$SR_PID_FILE"
  else
    log "Apicurio not ready after ${SR_START_TIMEOUT}s (pid $pid left running); last log lines ($SR_LOG_FILE):"
  fi
  tail -n 40 "$SR_LOG_FILE" >&2 || true
  exit 1
}

# ---------------------------------------------------------------------------------------------- nginx

render_nginx_conf() {
  sed -e "s|@SR_PORT@|$SR_PORT|g" -e "s|@SR_BACKEND_PORT@|$SR_BACKEND_PORT|g" "$NGX_CONF_TEMPLATE"
}

stop_nginx() {
  local pid
  if pid="$(read_nginx_pid)"; then
    log "stopping nginx (pid $pid)"
    stop_pid "$pid" read_nginx_pid QUIT 10   # graceful: finish in-flight requests
  fi
  rm -f "$NGX_PID_FILE"
}

# Make sure our nginx runs with the current config. Sets STARTED=1 if it started it.
ensure_nginx() {
  local ngx pid i
  [[ -f "$NGX_CONF_TEMPLATE" ]] || die "missing nginx config template $NGX_CONF_TEMPLATE"
  ngx="$(find_nginx)" || { install_nginx; ngx="$(find_nginx)"; }
  mkdir -p "$NGX_DIR/tmp"
  render_nginx_conf >"$NGX_CONF.new"
  if pid="$(read_nginx_pid)"; then
    if cmp -s "$NGX_CONF.new" "$NGX_CONF"; then
      rm -f "$NGX_CONF.new"
      return 0
    fi
    log "nginx config changed; reloading nginx (pid $pid)"
    mv "$NGX_CONF.new" "$NGX_CONF"
    "$ngx" -q -t -p "$NGX_DIR/" -c "$NGX_CONF" || die "new nginx config $NGX_CONF is invalid"
    kill -HUP "$pid"
    sleep 0.5
    return 0
  fi
  mv "$NGX_CONF.new" "$NGX_CONF"
  rm -f "$NGX_PID_FILE"
  log "starting nginx on 127.0.0.1:$SR_PORT -> 127.0.0.1:$SR_BACKEND_PORT/apis/ccompat/v7 ($ngx, conf $NGX_CONF)"
  # Daemon mode: the command returns once the config is loaded and the port is bound (non-zero on
  # error); the master then writes $NGX_PID_FILE.
  if ! "$ngx" -p "$NGX_DIR/" -c "$NGX_CONF" >"$NGX_START_OUT" 2>&1 </dev/null; then
    cat "$NGX_START_OUT" >&2
    tail -n 5 "$NGX_ERROR_LOG" >&2 2>/dev/null || true
    die "nginx failed to start (is 127.0.0.1:$SR_PORT already in use? try: ss -ltnp 'sport = :$SR_PORT')"
  fi
  STARTED=1
  for ((i = 0; i < 50; i++)); do
    read_nginx_pid >/dev/null && return 0
    sleep 0.1
  done
  cat "$NGX_START_OUT" >&2
  die "nginx started but wrote no live pid file $NGX_PID_FILE (error log: $NGX_ERROR_LOG)"
}

# ---------------------------------------------------------------------------------------------- commands

pids_desc() {
  local a n
  a="$(read_pid || true)"; n="$(read_nginx_pid || true)"
  echo "apicurio pid ${a:-unknown}, nginx pid ${n:-unknown}"
}

cmd_start() {
  local t0=$SECONDS
  STARTED=0
  ensure_apicurio
  ensure_nginx
  while ! probe; do
    if (( SECONDS - t0 >= SR_START_TIMEOUT )); then
      tail -n 10 "$NGX_ERROR_LOG" >&2 2>/dev/null || true
      die "Apicurio answers at $SR_BACKEND_URL but $SR_PROBE_URL does not (nginx error log: $NGX_ERROR_LOG)"
    fi
    sleep 0.2
  done
  if (( STARTED )); then
    log "up at $SR_URL ($(pids_desc)) after $((SECONDS - t0))s"
  else
    log "already up at $SR_URL ($(pids_desc))"
  fi
}

cmd_stop() {
  local a n
  a="$(read_pid || true)"; n="$(read_nginx_pid || true)"
  stop_nginx
  stop_apicurio
  if [[ -z "$a" && -z "$n" ]]; then
    if probe || probe_backend; then
      log "something answers at $SR_URL or $SR_BACKEND_URL but has no live pid file here; not stopping it"
    else
      log "not running"
    fi
    return 0
  fi
  log "stopped"
}

cmd_status() {
  local a n
  if probe; then
    echo "schema-registry: up $SR_URL ($(pids_desc))"
    return 0
  fi
  a="$(read_pid || true)"; n="$(read_nginx_pid || true)"
  if [[ -z "$a" && -z "$n" ]]; then
    echo "schema-registry: down"
  else
    echo "schema-registry: down (apicurio ${a:+pid }${a:-not running}, nginx ${n:+pid }${n:-not running})"
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
