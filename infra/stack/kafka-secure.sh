#!/usr/bin/env bash
# The secured Kafka broker of the local stack, beside the PLAINTEXT one on 9092 (never instead of it):
# KRaft single node, SASL_PLAINTEXT with SCRAM-SHA-512 on 127.0.0.1:9094, the same over TLS (SASL_SSL) on
# 127.0.0.1:9096 with a local CA made at first start (.stack/kafka-secure/tls/ca.pem), controller on 9095 (SASL/PLAIN),
# StandardAuthorizer with allow.everyone.if.no.acl.found=false. The isolation tests run on it.
#
#   infra/stack/kafka-secure.sh start|stop|restart|status|check|reset|logs [N]
#   infra/stack/kafka-secure.sh topics ARGS...   kafka-topics as the super user
#   infra/stack/kafka-secure.sh env             the super user's client settings, as KAFKA_* variables
#   infra/stack/kafka-secure.sh java ARGS...    java on the stack's Kafka jars (provisionAcls runs SecurityAdmin.java so)
#
# The super user `admin` (provisioning: users, ACLs, topics) gets its SCRAM credential when the storage
# is formatted (kafka-storage format --add-scram). Its password and the controller channel's are made
# once, at random, into $STACK_DIR/kafka-secure/credentials.env (mode 600); the Java tools' client
# settings are in admin.properties beside it. Everything else (service and party principals, ACLs) is
# provisioned through the admin API: `npm run provision:acls` (services/cli/provisionAcls.ts).
#
# Same helpers, jars and layout as infra/stack/kafka.sh (sourced), under $STACK_DIR/kafka-secure.
# Environment: KAFKA_SECURE_PORT (9094), KAFKA_SECURE_CONTROLLER_PORT (9095), KAFKA_SECURE_TLS_PORT (9096), KAFKA_SECURE_HEAP_OPTS
# (default "-Xms32m -Xmx256m"), KAFKA_SECURE_JVM_OPTS (default: serial GC, C1 only), and kafka.sh's.
set -euo pipefail

KAFKA_SECURE_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA__NAME=kafka-secure
KAFKA_PORT="${KAFKA_SECURE_PORT:-9094}"
KAFKA_CONTROLLER_PORT="${KAFKA_SECURE_CONTROLLER_PORT:-9095}"
KAFKA_SECURE_TLS_PORT="${KAFKA_SECURE_TLS_PORT:-9096}"
KAFKA__TEMPLATE="$KAFKA_SECURE_SCRIPT_DIR/../kafka/server-secure.properties"
_stack_dir="${STACK_DIR:-$(cd "$KAFKA_SECURE_SCRIPT_DIR/../.." && pwd)/.stack}"
KAFKA_SECURE_CREDENTIALS="$_stack_dir/kafka-secure/credentials.env"
KAFKA__CLIENT_CONFIG="$_stack_dir/kafka-secure/admin.properties"
KAFKA_HEAP_OPTS="${KAFKA_SECURE_HEAP_OPTS:--Xms32m -Xmx256m}"
# a test broker on a 2-core box: one GC thread, and the quick compiler only (starts sooner, idles lower)
KAFKA__JVM_OPTS="${KAFKA_SECURE_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=48m}"

# shellcheck source=kafka.sh
source "$KAFKA_SECURE_SCRIPT_DIR/kafka.sh"

kafka_secure__password() { head -c 24 /dev/urandom | base64 | tr -d '+/=\n'; }

KAFKA_SECURE_TLS_DIR="$_stack_dir/kafka-secure/tls"

# A local CA and the broker's certificate (127.0.0.1, localhost) for the SASL_SSL listener: made once.
# Clients trust ca.pem (KAFKA_SSL_CA_LOCATION); the broker's key store is a PKCS12 file.
kafka_secure__tls() {
  [[ -s "$KAFKA_SECURE_TLS_DIR/broker.p12" && -s "$KAFKA_SECURE_TLS_DIR/ca.pem" ]] && return 0
  if ! command -v openssl >/dev/null && command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]]; then
    kafka__log "installing Debian's openssl (apt-get), for the TLS listener's certificates ..."
    apt-get install -y -qq openssl >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq openssl >/dev/null; }
  fi
  command -v openssl >/dev/null || { kafka__err "openssl not found (needed for the TLS listener's certificates)"; return 1; }
  (
    umask 077
    mkdir -p "$KAFKA_SECURE_TLS_DIR" && cd "$KAFKA_SECURE_TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=srv-visibility local CA" -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout broker.key -out broker.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 -extfile broker.ext -out broker.crt 2>/dev/null
    openssl pkcs12 -export -in broker.crt -inkey broker.key -certfile ca.pem -name broker \
      -passout "pass:$KAFKA_SECURE_TLS_PASSWORD" -out broker.p12.tmp
    mv broker.p12.tmp broker.p12
    rm -f broker.csr broker.ext ca.srl
    chmod 644 ca.pem
  )
  kafka__log "made a local CA and the broker's TLS certificate in $KAFKA_SECURE_TLS_DIR"
}

# The passwords of the super user, of the controller channel and of the TLS key store: made once.
kafka_secure__credentials() {
  mkdir -p "$KAFKA_DIR"
  if [[ ! -s "$KAFKA_SECURE_CREDENTIALS" ]]; then
    (
      umask 077
      printf 'KAFKA_SECURE_ADMIN_USER=admin\nKAFKA_SECURE_ADMIN_PASSWORD=%s\nKAFKA_SECURE_CONTROLLER_PASSWORD=%s\n' \
        "$(kafka_secure__password)" "$(kafka_secure__password)" >"$KAFKA_SECURE_CREDENTIALS"
    )
  fi
  if ! grep -q '^KAFKA_SECURE_TLS_PASSWORD=' "$KAFKA_SECURE_CREDENTIALS"; then
    printf 'KAFKA_SECURE_TLS_PASSWORD=%s\n' "$(kafka_secure__password)" >>"$KAFKA_SECURE_CREDENTIALS"
  fi
  # shellcheck disable=SC1090
  source "$KAFKA_SECURE_CREDENTIALS"
  (
    umask 077
    printf '%s\n' 'security.protocol=SASL_PLAINTEXT' 'sasl.mechanism=SCRAM-SHA-512' \
      "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$KAFKA_SECURE_ADMIN_PASSWORD\";" \
      >"$KAFKA_CLIENT_CONFIG"
  )
}

# kafka.sh's hook: the passwords into the generated server.properties, which only the owner may read.
kafka__render() {
  sed -e "s|@ADMIN_PASSWORD@|$KAFKA_SECURE_ADMIN_PASSWORD|g" -e "s|@CONTROLLER_PASSWORD@|$KAFKA_SECURE_CONTROLLER_PASSWORD|g" \
    -e "s|@TLS_DIR@|$KAFKA_SECURE_TLS_DIR|g" -e "s|@TLS_PASSWORD@|$KAFKA_SECURE_TLS_PASSWORD|g" \
    -e "s|127.0.0.1:9094|$KAFKA_HOST:$KAFKA_PORT|g" -e "s|127.0.0.1:9095|$KAFKA_HOST:$KAFKA_CONTROLLER_PORT|g" \
    -e "s|127.0.0.1:9096|$KAFKA_HOST:$KAFKA_SECURE_TLS_PORT|g"
}

kafka_secure_start() {
  kafka_secure__credentials
  kafka_secure__tls
  # only used when the storage is formatted (the first start, or after reset)
  KAFKA__FORMAT_ARGS=(--add-scram "SCRAM-SHA-512=[name=admin,password=$KAFKA_SECURE_ADMIN_PASSWORD]")
  # its config holds passwords: whatever this start writes is the owner's alone
  umask 077
  kafka_start
}

kafka_secure_env() {
  kafka_secure__credentials
  printf '%s\n' "KAFKA_BROKERS=$KAFKA_BOOTSTRAP" KAFKA_SECURITY_PROTOCOL=sasl_plaintext KAFKA_SASL_MECHANISM=SCRAM-SHA-512 \
    "KAFKA_SASL_USERNAME=admin" "KAFKA_SASL_PASSWORD=$KAFKA_SECURE_ADMIN_PASSWORD" \
    "KAFKA_SECURE_TLS_BROKERS=$KAFKA_HOST:$KAFKA_SECURE_TLS_PORT" "KAFKA_SECURE_TLS_CA=$KAFKA_SECURE_TLS_DIR/ca.pem"
}

kafka_secure_reset() {
  kafka_reset
  rm -rf "$KAFKA_SECURE_CREDENTIALS" "$KAFKA_CLIENT_CONFIG" "$KAFKA_SECURE_TLS_DIR"
}

case "${1:-}" in
  start) kafka_secure_start ;;
  restart) kafka_stop && kafka_secure_start ;;
  check) kafka_secure__credentials && kafka_check ;;
  topics) shift; kafka_secure__credentials && kafka_topics "$@" ;;
  env) kafka_secure_env ;;
  reset) kafka_secure_reset ;;
  stop|status|logs) kafka_main "$@" ;;
  # a Java program on the Kafka jars (e.g. infra/kafka/SecurityAdmin.java, run from source)
  java) shift; kafka__installed || kafka_install >&2; kafka__tool "$@" ;;
  *)
    echo "usage: $0 {start|stop|restart|status|check|reset|env|topics ARGS...|logs [N]}" >&2
    exit 2
    ;;
esac
