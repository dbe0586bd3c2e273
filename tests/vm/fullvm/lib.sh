# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source this
# Shared helpers for the full-system VM rig in tests/vm/fullvm/ (a Debian 12 systemd guest).
# Sourced after tests/vm/lib.sh.
#
# The guest disks are plain ext4 image files; the host reads and writes files in them with
# debugfs (e2fsprogs), so no loop device, mount or privilege beyond file access is needed
# between boots.

FULLVM_DIR=$VM_DIR/fullvm
FV_CACHE=$CACHE/fullvm
# Fixed identities so that configs written by a test (crashkit.conf "ext4 UUID=...", fstab)
# name the same disks on every run.
ROOT_UUID=c4a5b1e0-0f11-4c9a-8d3e-0000000000a1
DATA_UUID=c4a5b1e0-0f11-4c9a-8d3e-0000000000d1
DATA_LABEL=crashdata

# img_write IMG LOCAL GUESTPATH — copy LOCAL into the ext4 image at GUESTPATH (replacing it),
# with LOCAL's mode; owner root. The parent directory must exist in the image.
img_write() {
    local out
    # debugfs reports errors on stdout/stderr but exits 0, so look for them.
    out=$(debugfs -w -f - "$1" 2>&1 <<EOT
rm $3
write $2 $3
sif $3 uid 0
sif $3 gid 0
EOT
    )
    if grep -v 'File not found by ext2_lookup' <<<"$out" | grep -qiE 'error|not found|cannot|could not'; then
        die "debugfs write $3 into $1: $out"
    fi
}

# img_rm IMG GUESTPATH — remove a file from the image (no error if it is missing).
img_rm() {
    debugfs -w -R "rm $2" "$1" >/dev/null 2>&1 || true
}

# img_cat IMG GUESTPATH — print a file of the image; non-zero if it does not exist.
img_cat() {
    debugfs -R "stat $2" "$1" 2>&1 | grep -q '^Inode:' || return 1
    debugfs -R "cat $2" "$1" 2>/dev/null
}

# marker_time LOG REGEX [N] — the host time (seconds since QEMU started, as stamped by
# tests/vm/fullvm/boot) of the Nth (default first) serial line matching REGEX; empty if none.
marker_time() {
    { grep -aE -- "$2" "$1" || true; } | sed -n "${3:-1}p" | awk '{print $1}'
}
