#!/usr/bin/env bash
# The local stack without Docker: Kafka (KRaft), Schema Registry, Redis, and the embedded ClickHouse.
#   stack.sh up      install what is missing, start each part, wait until it answers, provision topics and schemas
#   stack.sh down    stop what this stack started
#   stack.sh status  one line per part
# Idempotent; state lives under $STACK_DIR (default <repo>/.stack, ignored by git).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export STACK_DIR="${STACK_DIR:-$ROOT/.stack}"
mkdir -p "$STACK_DIR"

step() { printf '\n== %s\n' "$*"; }
elapsed() { echo "$(( $(date +%s) - START ))s"; }

# The secured broker the isolation tests run on (SASL/SCRAM on 9094, ACLs; infra/stack/kafka-secure.sh).
# STACK_SECURE_KAFKA=0 leaves it out of `up` (the tests that need it start it themselves).
secure_kafka_start() {
  if [ "${STACK_SECURE_KAFKA:-1}" = 0 ]; then
    echo "kafka-secure: left out (STACK_SECURE_KAFKA=0)"
  elif ! bash "$HERE/kafka-secure.sh" start; then
    # the rest of the stack does not need it: say so loudly, the isolation tests will fail on it
    echo "kafka-secure: WARNING: did not start (logs: $STACK_DIR/kafka-secure/logs); test/integration/topicIsolation.test.ts will fail" >&2
  fi
}

archive_status() {
  if [ -n "${CLICKHOUSE_URL:-}" ]; then
    echo "clickhouse: server at $CLICKHOUSE_URL (CLICKHOUSE_URL)"
  else
    echo "clickhouse: embedded engine (chdb, in-process), data in ${ARCHIVE_PATH:-$STACK_DIR/archive}"
  fi
}

up() {
  START=$(date +%s)
  step "installing (only what is missing)"
  bash "$HERE/kafka.sh" install
  bash "$HERE/schema-registry.sh" install
  bash "$HERE/redis.sh" install
  step "starting"
  bash "$HERE/kafka.sh" start
  secure_kafka_start
  bash "$HERE/schema-registry.sh" start
  bash "$HERE/redis.sh" start
  step "provisioning topics and schemas"
  (cd "$ROOT" && node dist/services/cli/provision.js)
  step "lookup API signing key (only if missing)"
  (cd "$ROOT" && node dist/services/cli/lookupKeys.js)
  step "stack up in $(elapsed)"
  status
}

down() {
  bash "$HERE/redis.sh" stop || true
  bash "$HERE/schema-registry.sh" stop || true
  bash "$HERE/kafka-secure.sh" stop || true
  bash "$HERE/kafka.sh" stop || true
}

status() {
  bash "$HERE/kafka.sh" status
  bash "$HERE/kafka-secure.sh" status
  bash "$HERE/schema-registry.sh" status
  bash "$HERE/redis.sh" status
  archive_status
}

case "${1:-}" in
  up|down|status) "$1" ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
