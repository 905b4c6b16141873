#!/usr/bin/env bash
# Builds @tensorflow/tfjs-node's native addon against the TensorFlow C API that ships
# inside the `tensorflow-cpu` Python wheel (DESIGN.md §3). The package's own install
# script downloads libtensorflow from Google's storage, which machines without the
# internet cannot reach; pip's wheel index is reachable, and the wheel's
# libtensorflow_cc.so.2 exports the same TF_*/TFE_* functions the addon calls.
#
# Usage: scripts/native/build-tfjs-node.sh [PACKAGE_FOLDER]
#   PACKAGE_FOLDER  an installed @tensorflow/tfjs-node (default: this repo's
#                   node_modules/@tensorflow/tfjs-node, installed here when missing)
# Env: SEQLAB_TF_VENV  the Python venv that holds tensorflow-cpu (default
#                      .cache/tf-venv in the repo, git-ignored; made when missing)
#
# Idempotent: when the addon is built and loads, it does nothing.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PACKAGE="${1:-$REPO_ROOT/node_modules/@tensorflow/tfjs-node}"
VENV="${SEQLAB_TF_VENV:-$REPO_ROOT/.cache/tf-venv}"

log() { echo "[native] $*"; }

DEFAULT_PACKAGE="$REPO_ROOT/node_modules/@tensorflow/tfjs-node"
if [[ ! -f "$PACKAGE/package.json" && "$PACKAGE" == "$DEFAULT_PACKAGE" ]]; then
  # npm ci drops the optional package when its install script cannot download TensorFlow;
  # fetch it again (from the registry, which is reachable) without running that script.
  [[ -d "$REPO_ROOT/node_modules" ]] || { log "no node_modules: run npm ci first" >&2; exit 1; }
  VERSION="$(cd "$REPO_ROOT" && node -p "require('./package-lock.json').packages['node_modules/@tensorflow/tfjs-node'].version")"
  log "installing @tensorflow/tfjs-node@$VERSION without its install script ..."
  (cd "$REPO_ROOT" && npm install --no-save --ignore-scripts --no-audit --no-fund "@tensorflow/tfjs-node@$VERSION" >/dev/null)
fi
[[ -f "$PACKAGE/package.json" ]] || { log "no @tensorflow/tfjs-node in $PACKAGE" >&2; exit 1; }
PACKAGE="$(cd "$PACKAGE" && pwd)"

loads() { (cd "$PACKAGE" && node -e "require('./dist/index.js')" >/dev/null 2>&1); }
if [[ -d "$PACKAGE/lib" ]] && loads; then
  log "tfjs-node in ${PACKAGE#"$REPO_ROOT"/} already builds and loads"
  exit 0
fi

for tool in python3 g++ make; do
  command -v "$tool" >/dev/null || { log "missing '$tool' (Debian: python3-venv build-essential)" >&2; exit 1; }
done

start=$SECONDS
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import tensorflow' >/dev/null 2>&1; then
  log "installing tensorflow-cpu into ${VENV#"$REPO_ROOT"/} from pip's configured index ..."
  python3 -m venv "$VENV"
  # --retries 0: an index that cannot be reached (no internet) fails at once instead of
  # backing off for minutes before pip moves on to the local one.
  "$VENV/bin/pip" install --quiet --retries 0 tensorflow-cpu
fi
# Ray Train, for the tests of the Keras experiment that `export --keras-script` writes.
if ! "$VENV/bin/python" -c 'import ray.train' >/dev/null 2>&1; then
  log "installing ray[train] into ${VENV#"$REPO_ROOT"/} ..."
  "$VENV/bin/pip" install --quiet --retries 0 "ray[train]"
fi
TF_DIR="$("$VENV/bin/python" -c 'import os, tensorflow; print(os.path.dirname(tensorflow.__file__))' 2>/dev/null | tail -1)"
[[ -f "$TF_DIR/libtensorflow_cc.so.2" ]] || { log "no libtensorflow_cc.so.2 in $TF_DIR" >&2; exit 1; }
log "TensorFlow C API from $TF_DIR"

# The layout the addon's binding.gyp expects: deps/lib with libtensorflow*.so and deps/include.
mkdir -p "$PACKAGE/deps/lib"
for name in libtensorflow.so libtensorflow.so.2 libtensorflow_cc.so.2; do
  ln -sf "$TF_DIR/libtensorflow_cc.so.2" "$PACKAGE/deps/lib/$name"
done
for name in libtensorflow_framework.so libtensorflow_framework.so.2; do
  ln -sf "$TF_DIR/libtensorflow_framework.so.2" "$PACKAGE/deps/lib/$name"
done
rm -rf "$PACKAGE/deps/include"
ln -s "$TF_DIR/include" "$PACKAGE/deps/include"

# node-gyp needs the running Node's headers: the prefix above bin/node holds include/node.
NODE_PREFIX="$(dirname "$(dirname "$(node -p process.execPath)")")"
[[ -f "$NODE_PREFIX/include/node/node_api.h" ]] || { log "no Node headers under $NODE_PREFIX/include/node" >&2; exit 1; }
PRE_GYP="$(cd "$PACKAGE" && node -p "require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp')")"
BUILD_LOG="$(mktemp)"
if ! (cd "$PACKAGE" && npm_config_nodedir="$NODE_PREFIX" node "$PRE_GYP" install --build-from-source) >"$BUILD_LOG" 2>&1; then
  tail -30 "$BUILD_LOG" >&2
  log "building the addon failed (log above)" >&2
  exit 1
fi
rm -f "$BUILD_LOG"

loads || { log "the addon built but does not load" >&2; exit 1; }
log "built tfjs-node $(cd "$PACKAGE" && node -p "require('./package.json').version") against TensorFlow $("$VENV/bin/python" -c 'import tensorflow; print(tensorflow.__version__)' 2>/dev/null | tail -1) in $((SECONDS - start)) s"
