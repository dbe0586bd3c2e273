# shellcheck shell=bash
# Shared helpers for the VM rig scripts in tests/vm/. Sourced, not executed.
#
# Everything large (kernel packages, vmlinux, initramfs images, vmcores, serial
# logs) lives under $CACHE, never in the work tree: those files are hundreds of
# MiB and are rebuilt from Debian's archive when missing.

# shellcheck disable=SC2034 # REPO_ROOT and PY are for the scripts that source this
CACHE=${CRASHKIT_CACHE:-$HOME/.cache/crashkit}
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$VM_DIR/../.." && pwd)
# python3-libkdumpfile/python3-drgn are installed for Debian's interpreter; a
# pyenv or venv python3 earlier in PATH would not see them.
PY=/usr/bin/python3

_prog=$(basename "$0")

die() {
    echo "$_prog: error: $*" >&2
    exit 1
}

log() {
    echo "$_prog: $*" >&2
}

# apt-cache and apt-get download find nothing on a machine whose lists were
# never fetched, so update once per script run, and only when needed.
_apt_updated=0
apt_update_once() {
    if [[ $_apt_updated == 0 ]]; then
        log "apt-get update"
        apt-get update -qq >/dev/null || die "apt-get update failed"
        _apt_updated=1
    fi
}

# need_pkgs PKG... — install the Debian packages that are not installed yet.
# CI starts from a clean machine, so every script installs what it uses.
need_pkgs() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    apt_update_once
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
}

# Load KVER, VMLINUZ, VMLINUX, MODDIR written by tests/vm/fetch-kernel.
load_kernel_env() {
    local env=$CACHE/kernel/env
    [[ -r $env ]] || "$VM_DIR/fetch-kernel" >/dev/null || die "fetch-kernel failed"
    # shellcheck source=/dev/null
    source "$env"
    [[ -r $VMLINUZ && -r $VMLINUX && -d $MODDIR ]] \
        || die "$env points at missing files; rerun tests/vm/fetch-kernel"
}
