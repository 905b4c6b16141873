#!/usr/bin/env bash
# Installs the Debian packages that the end-to-end tests need (DESIGN.md §7):
#   - build headers for code-server's native modules (kerberos, native-keymap,
#     @vscode/spdlog, argon2 ...): libkrb5-dev libxkbfile-dev libsecret-1-dev
#     libx11-dev pkg-config
#   - ripgrep: code-server's @vscode/ripgrep would download rg at install time,
#     which cannot reach its host here, so we copy Debian's rg instead
#   - chromium: the browser that playwright-core drives (playwright's own
#     browser download is not reachable either)
# Idempotent: it asks apt for nothing when every package is already installed,
# so a warm machine pays a few milliseconds. Needs root (CI runs as root).
set -euo pipefail

PACKAGES=(libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev pkg-config ripgrep chromium)

missing=()
for pkg in "${PACKAGES[@]}"; do
  # dpkg-query prints "install ok installed" only for a fully installed package.
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done
# node-gyp needs a C++ toolchain and Python to rebuild code-server's native
# modules; the node machines ship them, but a bare Debian image would not.
command -v g++ >/dev/null && command -v make >/dev/null || missing+=(build-essential)
command -v python3 >/dev/null || missing+=(python3)

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "[e2e:system-deps] all present: ${PACKAGES[*]}"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "[e2e:system-deps] missing ${missing[*]}, and installing them needs root; run: sudo $0" >&2
  exit 1
fi

echo "[e2e:system-deps] installing: ${missing[*]}"
start=$SECONDS
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
echo "[e2e:system-deps] done in $((SECONDS - start)) s"
