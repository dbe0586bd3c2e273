# Shared by scripts/demo and scripts/test: install what is missing from Debian, build.
# shellcheck shell=bash

CRASHKIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${CRASHKIT_BUILD_DIR:-$CRASHKIT_ROOT/build}"

BUILD_PACKAGES=(build-essential cmake ninja-build pkg-config libelf-dev libdw-dev libzstd-dev
  zlib1g-dev liblzo2-dev libsnappy-dev libxxhash-dev libspdlog-dev libcli11-dev catch2
  nlohmann-json3-dev libfuse3-dev libssl-dev libarchive-dev libkmod-dev libblkid-dev
  kmod xz-utils)  # depmod and xz build the fake module trees of initramfs_tests
RIG_PACKAGES=(qemu-system-x86 busybox-static cpio crash gdb makedumpfile
  python3-libkdumpfile time xz-utils zstd fuse3 mandoc ovmf osslsigncode openssl
  systemd)  # systemd-analyze for units.verify; containers' Debian images lack it

log() { printf '==> %s\n' "$*" >&2; }

# Installs the packages that are not installed yet (apt-get; needs root).
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # makedumpfile pulls kdump-tools' debconf questions: answer them non-interactively.
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build_crashkit() {
  log "building in $BUILD_DIR"
  cmake -S "$CRASHKIT_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
  cmake --build "$BUILD_DIR" -j2
}
