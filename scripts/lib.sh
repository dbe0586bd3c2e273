# Shared by scripts/demo and scripts/test: install what is missing from Debian, build.
# shellcheck shell=bash

CRASHKIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${CRASHKIT_BUILD_DIR:-$CRASHKIT_ROOT/build}"

BUILD_PACKAGES=(build-essential cmake ninja-build pkg-config libelf-dev libdw-dev libzstd-dev
  zlib1g-dev liblzo2-dev libsnappy-dev libxxhash-dev libspdlog-dev libcli11-dev catch2
  nlohmann-json3-dev libfuse3-dev libssl-dev libarchive-dev libkmod-dev libblkid-dev
  kmod xz-utils  # depmod and xz build the fake module trees of initramfs_tests
  e2fsprogs fdisk util-linux  # mkfs.ext4, sfdisk, mkswap, wipefs: images for the raw-target tests
  clang-format-14  # scripts/check-format, run by ctest as style.clang-format
  python3  # tests/cli/run-case, the black-box command-line tests
  clang-14 libclang-rt-14-dev)  # the libFuzzer + ASan/UBSan build (build-fuzz)
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

# build_crashkit [TARGET...]: configures $BUILD_DIR and builds the targets given, or all of them
# (every test suite and fixture too).
build_crashkit() {
  log "building ${*:-everything} in $BUILD_DIR"
  cmake -S "$CRASHKIT_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
  cmake --build "$BUILD_DIR" -j2 ${1:+--target "$@"}
}

# The clang build with libFuzzer coverage, ASan and UBSan: the fuzz targets and a sanitized
# copy of every unit suite. The purgatory keeps gcc (CC): it is freestanding code built with
# flags clang rejects, and never sees sanitizers anyway.
FUZZ_BUILD_DIR="${CRASHKIT_FUZZ_BUILD_DIR:-$CRASHKIT_ROOT/build-fuzz}"
build_fuzz() {
  log "building $* in $FUZZ_BUILD_DIR (clang-14, ASan+UBSan, libFuzzer)"
  local launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  CC=gcc CXX=clang++-14 cmake -S "$CRASHKIT_ROOT" -B "$FUZZ_BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCRASHKIT_FUZZ=ON "${launcher[@]}" >/dev/null
  cmake --build "$FUZZ_BUILD_DIR" -j2 ${1:+--target "$@"}
}

# The sanitizers' settings for every run from the fuzz build: stop at the first finding, with
# a stack; leaks count.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# run_fuzz_target TARGET SECONDS [libFuzzer options]: one process (the machine has 2 cores),
# the corpus in build-fuzz/fuzz-corpus/TARGET. Prints "fuzz TARGET: N execs in S s" last.
run_fuzz_target() {
  local target=$1 seconds=$2
  shift 2
  local corpus="$FUZZ_BUILD_DIR/fuzz-corpus/$target" artifacts="$FUZZ_BUILD_DIR/fuzz-artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  local log="$artifacts/last-run.log" rc=0
  "$FUZZ_BUILD_DIR/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" \
    "$corpus" "$CRASHKIT_ROOT/tests/fuzz/corpus/$target" >"$log" 2>&1 || rc=$?
  local execs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$rc" -ne 0 ]; then
    grep -E "^(==[0-9]+==ERROR|SUMMARY|property failed|.*runtime error)" "$log" | head -5 >&2 || true
    log "fuzz $target: FAILED after ${execs:-?} execs (log $log; input in $artifacts/)"
    return "$rc"
  fi
  log "fuzz $target: ${execs:-?} execs in $seconds s"
}
