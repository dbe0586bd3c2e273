#!/bin/sh
# Two changing crashkit commands on one tree: while `crashkit test` waits for its confirmation
# it holds the admin lock, so `crashkit rebuild` waits and, past --lock-timeout, fails naming
# the pid holding it; once the first command ends, the second gets past the lock.
set -u
CK=$1
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
R=$W/root
mkdir -p "$R/etc/crashkit"
mkfifo "$W/answer"
"$CK" test --root "$R" < "$W/answer" > "$W/first.out" 2>&1 &
FIRST=$!
exec 3> "$W/answer"
# The prompt comes after the lock is taken. A hang limit, not a timing assertion.
i=0
until grep -q "Type 'yes'" "$W/first.out"; do
  i=$((i + 1))
  if [ $i -gt 3000 ]; then echo "the first command never prompted"; cat "$W/first.out"; exit 1; fi
  sleep 0.1
done
echo "== second while the first holds the lock"
"$CK" --lock-timeout 1 rebuild --root "$R" > "$W/second.out" 2>&1
echo "rc=$?"
cat "$W/second.out"
grep -q "locked by pid $FIRST:" "$W/second.out" && echo "names the holder: yes"
echo no >&3
exec 3>&-
wait $FIRST
echo "first rc=$?"
echo "== second after the first"
"$CK" --lock-timeout 1 rebuild --root "$R" 2>&1 | grep -c "locked by"
