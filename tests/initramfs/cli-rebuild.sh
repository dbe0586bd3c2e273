#!/bin/sh
# `crashkit rebuild` as a black box on a scratch tree: /bin/true as the capture program, one
# fake ext4 module indexed by depmod, no block device (empty sysroot). Prints what crashkit
# prints plus rc=N after each step; the ctest regex checks the whole story.
set -u
CK=$1
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
R=$W/root
K=6.1.0-99-cli
mkdir -p "$R/lib/x86_64-linux-gnu" "$R/lib64" "$R/lib/modules/$K/kernel/fs/ext4" "$R/etc/crashkit" "$W/sys"
cp -L /lib/x86_64-linux-gnu/libc.so.6 "$R/lib/x86_64-linux-gnu/"
cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"
printf 'void ext4_fn(void) {}\n' > "$W/ext4.c"
gcc -c -o "$R/lib/modules/$K/kernel/fs/ext4/ext4.ko" "$W/ext4.c" || exit 1
: > "$R/lib/modules/$K/modules.order"
: > "$R/lib/modules/$K/modules.builtin"
: > "$R/lib/modules/$K/modules.builtin.modinfo"
depmod -b "$R" "$K" 2>/dev/null || { echo "depmod missing (install kmod)"; exit 1; }
printf 'extra_modules ext4\n' > "$R/etc/crashkit/crashkit.conf"
run() { "$CK" --sysroot "$W" rebuild --root "$R" --capture-binary /bin/true "$@" 2>&1; echo "rc=$?"; }
echo "== first"; run --kernel "$K"
echo "== again"; run --kernel "$K"
echo "== mode"; stat -c '%a' "$R/var/lib/crashkit" "$R/var/lib/crashkit/initramfs-$K.img"
echo "== config"; printf 'extra_modules ext4\nkeep_dumps 2\n' > "$R/etc/crashkit/crashkit.conf"; run --kernel "$K"
echo "== force"; run --kernel "$K" --force
echo "== no_rebuild"; printf 'extra_modules ext4\nforce_no_rebuild yes\n' > "$R/etc/crashkit/crashkit.conf"; run --kernel "$K"
echo "== bad config"; printf 'bogus 1\n' > "$R/etc/crashkit/crashkit.conf"; run --kernel "$K"
echo "== missing module"; printf 'extra_modules nosuch\n' > "$R/etc/crashkit/crashkit.conf"; run --kernel "$K"
echo "== missing kernel"; run --kernel 1.2.3
