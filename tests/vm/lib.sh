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

# kernel_module_tree ROOT — KVER's whole module tree from its linux-image .deb (cached beside
# fetch-kernel's) at ROOT/lib/modules/KVER, indexed by depmod as the package's postinst would.
# Needs load_kernel_env first.
kernel_module_tree() {
    local root=$1 deb tmp
    need_pkgs kmod
    deb=$(compgen -G "$CACHE/kernel/debs/linux-image-${KVER}_*.deb" | head -n1 || true)
    if [[ -z $deb ]]; then
        log "downloading linux-image-$KVER"
        tmp=$CACHE/kernel/debs/tmp.$$
        mkdir -p "$tmp"
        (cd "$tmp" && apt-get download -q "linux-image-$KVER" >/dev/null) \
            || { rm -rf "$tmp"; die "apt-get download linux-image-$KVER failed"; }
        mv "$tmp"/*.deb "$CACHE/kernel/debs/" && rmdir "$tmp"
        deb=$(compgen -G "$CACHE/kernel/debs/linux-image-${KVER}_*.deb" | head -n1)
    fi
    rm -rf "$root" && mkdir -p "$root"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$root" --wildcards "./lib/modules/$KVER/*" \
        "./usr/lib/modules/$KVER/*" 2>/dev/null || true
    if [[ -d $root/usr/lib/modules/$KVER && ! -d $root/lib/modules/$KVER ]]; then
        mkdir -p "$root/lib/modules" && mv "$root/usr/lib/modules/$KVER" "$root/lib/modules/"
    fi
    [[ -d $root/lib/modules/$KVER ]] || die "no lib/modules/$KVER in $deb"
    depmod -b "$root" "$KVER" 2>/dev/null || die "depmod -b $root $KVER failed"
}

# Guest image helpers (busybox must name a statically linked busybox).
# stage_busybox DIR — a root with busybox as /bin/sh and the usual mount points.
stage_busybox() {
    mkdir -p "$1"/{bin,sbin,dev,proc,sys,tmp,lib/modules,boot}
    cp "${BUSYBOX:-$(command -v busybox)}" "$1/bin/busybox"
    ln -s busybox "$1/bin/sh"
    # The kernel opens /dev/console for PID 1 before devtmpfs is mounted.
    mknod -m 600 "$1/dev/console" c 5 1 2>/dev/null || true
}

# copy_dynamic BIN ROOT DEST — BIN at ROOT/DEST with its shared libraries and loader at the same
# absolute paths (the guests have no libc of their own).
copy_dynamic() {
    install -D -m 755 "$1" "$2$3"
    ldd "$1" | grep -o '/[^ ]*' | while read -r lib; do
        mkdir -p "$2$(dirname "$lib")"
        cp -L "$lib" "$2$lib"
    done
}

# pack DIR IMG — newc cpio, gzip (every Debian kernel unpacks it), atomic rename.
pack() {
    (cd "$1" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) | gzip -6 >"$2.tmp"
    mv "$2.tmp" "$2"
}

