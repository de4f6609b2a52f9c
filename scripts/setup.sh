#!/usr/bin/env bash
# Installs every build and test dependency of cpbench from Debian packages.
# Non-interactive and idempotent: packages already present are skipped.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache git pkg-config
  clang clang-format clang-tidy libclang-rt-14-dev
  libbenchmark-dev libgtest-dev libgmock-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libtbb-dev libboost-dev libabsl-dev libconcurrentqueue-dev libreaderwriterqueue-dev
  libjs-chart.js python3 chromium libomp-dev
  libbenchmark-tools python3-scipy
  libboost-fiber-dev libboost-thread-dev libcaf-dev libuv1-dev libevent-dev liburing-dev wrk
  redis-server libhiredis-dev etcd-server etcd-client zookeeperd libzookeeper-mt-dev
  openmpi-bin libopenmpi-dev iptables
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
