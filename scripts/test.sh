#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine or a developer's: installs what the tests
# need, then runs formatting, lint and every test tier. CI calls exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the test suite needs: real etcd for the etcd tests, openssl for their TLS
# certificates, chattr (e2fsprogs) for the read-only-dest test,
# busybox-static for the image the Docker tests build, nginx and curl for the end-to-end test,
# nginx's Lua module (libnginx-mod-http-lua, lua-cjson) for the live-membership tests, and for
# the package test: man (man-db), groff, zsh, systemd-analyze (systemd), dpkg-deb (dpkg); and
# the redis and zookeeper backends' servers (redis-server, zookeeper).
PACKAGES=(etcd-server etcd-client openssl e2fsprogs busybox-static nginx curl
  libnginx-mod-http-lua lua-cjson man-db groff-base zsh systemd dpkg redis-server zookeeper)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "== installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
  fi
}

((${#PACKAGES[@]})) && install_packages

export CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never
# Where a Docker engine's socket exists, the Docker tests must run, not skip.
if [ -S /var/run/docker.sock ]; then export CONFD_RS_REQUIRE_DOCKER=1; fi
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
