#!/usr/bin/env bash
# Installs code-server (VS Code in a browser, from the npm registry) into the
# git-ignored cache folder .vscode-test/code-server, following the recipe in
# DESIGN.md §7. Microsoft's VS Code download is unreachable here, and the npm
# package's own postinstall downloads things too, so we install with
# --ignore-scripts and do by hand what the postinstall would have done.
#
# Idempotent: a marker file records the installed version; when it matches,
# the script does nothing. Delete .vscode-test/code-server to start over.
# Needs the Debian packages of scripts/e2e/install-system-deps.sh.
#
# Env: CODE_SERVER_VERSION (default 4.99.4, which bundles VS Code 1.99).
set -euo pipefail

VERSION="${CODE_SERVER_VERSION:-4.99.4}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$REPO_ROOT/.vscode-test/code-server"
MARKER="$CACHE/.setup-complete"
PKG="$CACHE/node_modules/code-server"
VSCODE="$PKG/lib/vscode"

log() { echo "[e2e:setup] $*"; }

# Runs one named step and prints how long it took, so slow steps show in CI logs.
step() {
  local name="$1"; shift
  local start=$SECONDS
  log "$name ..."
  "$@"
  log "$name: done in $((SECONDS - start)) s"
}

if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$VERSION" && -f "$PKG/out/node/entry.js" ]]; then
  log "code-server $VERSION already set up in ${CACHE#"$REPO_ROOT"/}"
  exit 0
fi

for tool in rg g++ make python3; do
  command -v "$tool" >/dev/null || { log "missing '$tool': run scripts/e2e/install-system-deps.sh first" >&2; exit 1; }
done

# node-gyp downloads Node's headers from nodejs.org unless told where they are;
# that host is unreachable here, but Node's own headers are installed beside it.
if [[ -z "$(npm config get nodedir 2>/dev/null | grep -v '^undefined$' || true)" ]]; then
  node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  if [[ -f "$node_prefix/include/node/node.h" ]]; then
    export npm_config_nodedir="$node_prefix"
    log "using Node headers from $node_prefix/include/node"
  fi
fi

# --ignore-scripts: the package's postinstall fetches VS Code's dependencies and
# builds them in ways that need the network beyond the npm registry.
install_package() {
  mkdir -p "$CACHE"
  cd "$CACHE"
  rm -f "$MARKER"
  [[ -f package.json ]] || npm init -y >/dev/null
  npm install --no-audit --no-fund --ignore-scripts "code-server@$VERSION"
}

# VS Code's runtime dependencies live in lib/vscode/package.json and are not
# installed by the step above. --ignore-scripts again: @vscode/ripgrep's
# postinstall would download rg from GitHub.
install_vscode_deps() {
  cd "$VSCODE"
  npm install --no-audit --no-fund --omit=dev --ignore-scripts
}

# Search across files (quick open, Ctrl+Shift+F) needs rg where
# @vscode/ripgrep expects its downloaded binary.
copy_ripgrep() {
  mkdir -p "$VSCODE/node_modules/@vscode/ripgrep/bin"
  cp "$(command -v rg)" "$VSCODE/node_modules/@vscode/ripgrep/bin/rg"
}

# Builds the native modules (node-pty, spdlog, native-watchdog, kerberos, ...)
# against this Node; skipped by --ignore-scripts above. npm_config_yes answers
# npx prompts that some install scripts raise.
rebuild_native() {
  cd "$VSCODE"
  npm_config_yes=true npm rebuild
}

# code-server's server looks for node_modules.asar (VS Code's packaged layout)
# and its remote CLI and browser helpers under names that only the
# postinstall would have created.
link_layout() {
  cd "$VSCODE"
  ln -sfn node_modules node_modules.asar
  (cd bin/remote-cli && ln -sfn code-linux.sh code-server)
  (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
}

# Built-in extensions (git, typescript, ...) have their own dependencies.
install_extension_deps() {
  cd "$VSCODE/extensions"
  npm install --no-audit --no-fund --omit=dev
}

# argon2 (password hashing of code-server itself) was skipped by
# --ignore-scripts in the first step; code-server fails to start without it.
rebuild_argon2() {
  cd "$CACHE"
  npm rebuild argon2
}

total_start=$SECONDS
log "installing code-server $VERSION into ${CACHE#"$REPO_ROOT"/}"
step "npm install code-server@$VERSION" install_package
step "lib/vscode dependencies" install_vscode_deps
step "ripgrep from $(command -v rg)" copy_ripgrep
step "rebuild native modules of lib/vscode" rebuild_native
step "node_modules.asar and helper links" link_layout
step "built-in extensions' dependencies" install_extension_deps
step "rebuild argon2" rebuild_argon2
echo "$VERSION" > "$MARKER"
log "code-server $VERSION ready in $((SECONDS - total_start)) s: $PKG/out/node/entry.js"
