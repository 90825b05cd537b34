#!/usr/bin/env bash
# Redis from Debian's redis-server, on 127.0.0.1:6379, data under $STACK_DIR/redis (AOF on, so
# pending records and ownership survive a restart). A Redis already answering there is used as is.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STACK_DIR="${STACK_DIR:-$ROOT/.stack}"
DIR="$STACK_DIR/redis"
PORT="${REDIS_PORT:-6379}"
PIDFILE="$DIR/redis.pid"

answers() { redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; }

install() {
  if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
    echo "redis: redis-server $(redis-server --version | awk '{print $3}') present"
    return
  fi
  echo "redis: installing Debian's redis-server (apt-get)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq redis-server >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq redis-server >/dev/null; }
  # The package may start the system service; the stack runs its own instance instead.
  (service redis-server stop >/dev/null 2>&1 || true)
  echo "redis: installed"
}

start() {
  if answers; then
    echo "redis: already answering on 127.0.0.1:$PORT"
    return
  fi
  mkdir -p "$DIR"
  redis-server --bind 127.0.0.1 --port "$PORT" --dir "$DIR" --appendonly yes --appendfsync everysec \
    --daemonize yes --pidfile "$PIDFILE" --logfile "$DIR/redis.log" --save 60 1000 >/dev/null
  # A large append-only file takes a while to load (Redis answers LOADING meanwhile): wait up to
  # two minutes, showing progress, before giving up.
  for i in $(seq 1 600); do
    if answers; then echo "redis: up on 127.0.0.1:$PORT"; return; fi
    if [ $((i % 50)) -eq 0 ]; then echo "redis: still starting (loading its data, $((i / 5)) s)"; fi
    sleep 0.2
  done
  echo "redis: did not answer on 127.0.0.1:$PORT; log tail:" >&2
  tail -n 20 "$DIR/redis.log" >&2 || true
  exit 1
}

stop() {
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    redis-cli -h 127.0.0.1 -p "$PORT" shutdown >/dev/null 2>&1 || kill "$(cat "$PIDFILE")" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$(cat "$PIDFILE" 2>/dev/null || echo 0)" 2>/dev/null || break; sleep 0.1; done
    rm -f "$PIDFILE"
    echo "redis: stopped"
  else
    echo "redis: not running from this stack (left alone)"
  fi
}

# The fault "Redis restarts empty" (the fault run's): stop, delete its data (AOF and snapshot), start.
restart_empty() {
  stop
  rm -rf "$DIR/appendonlydir" "$DIR/appendonly.aof" "$DIR/dump.rdb"
  start
}

status() {
  if answers; then
    local pid=""; [ -f "$PIDFILE" ] && pid=" (pid $(cat "$PIDFILE"))"
    echo "redis: up redis://127.0.0.1:$PORT$pid"
  else
    echo "redis: down"
  fi
}

case "${1:-}" in
  install|start|stop|status) "$1" ;;
  restart-empty) restart_empty ;;
  *) echo "usage: $0 install|start|stop|status|restart-empty" >&2; exit 2 ;;
esac
