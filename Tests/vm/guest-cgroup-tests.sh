#!/usr/bin/env bash
# Runs inside the cgroup v2 guest (Tests/vm/run), as root: each limit is tried for real and each
# check can fail. Prints PASS/FAIL lines; exits 1 when any failed.
set -uo pipefail
SBX=${SBX:?}
CG=/sys/fs/cgroup
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
leaves() { find "$CG" -maxdepth 3 -name 'sbx-*' -type d 2>/dev/null; }
work=$(mktemp -d /tmp/sbx-vm.XXXXXX) && chmod 755 "$work" && cd "$work"

[ "$(stat -fc %T "$CG")" = cgroup2fs ] && grep -qw memory "$CG/cgroup.controllers" || { echo "not a cgroup v2 guest"; exit 99; }

# 1. Memory: a 200 MB allocation under a 50 MB limit is OOM-killed, said in words, 137, and the
#    run's audit file ends with the status, the peak memory and the finding.
out=$("$SBX" run --verbose --memory 50M -- dd if=/dev/zero of=/dev/null bs=200M count=1 2>&1); rc=$?
echo "$out" | tail -3
check "memory hog OOM-killed at the limit (137)" test "$rc" = 137
check "OOM reported in words" grep -q "sbx: killed: memory limit 50 MiB reached" <<<"$out"
audit=$(sed -n 's/^sbx: audit: //p' <<<"$out")
check "the audit file has the exit, peak memory and finding" \
    grep -q '"event":"exit","status":137,.*"memory_peak_bytes":.*"findings":\["killed: memory limit' "${audit:-/nonexistent}"
check "control: the same allocation fits without the limit" "$SBX" run -- dd if=/dev/zero of=/dev/null bs=200M count=1 status=none

# 1b. tmpfs pages are memory: 100 MB written into /tmp (sized 200M) under a 50 MB limit do not
#     fit (OOM-killed, or the write fails); the same write fits without the limit. A profile
#     without protect entries keeps the overlay's fallback warning out of the output.
printf '[filesystem]\ntmp_size = "200M"\n' > tmpfs.toml
out=$("$SBX" run --profile ./tmpfs.toml --memory 50M -- dd if=/dev/zero of=/tmp/fill bs=1M count=100 status=none 2>&1); rc=$?
echo "$out" | tail -2
check "tmpfs pages count against --memory (status $rc, not a setup failure)" test "$rc" != 0 -a "$rc" != 125
check "tmpfs: the limit is said to be reached" grep -q "sbx: killed: memory limit 50 MiB reached" <<<"$out"
check "control: the same write fits in /tmp without the limit" \
    "$SBX" run --profile ./tmpfs.toml -- dd if=/dev/zero of=/tmp/fill bs=1M count=100 status=none

# 1c. No swap: the leaf's memory.swap.max is 0 while the run lasts (the limit is on memory, not
#     memory plus swap; the guest has swap accounting even without a swap device).
"$SBX" run --memory 50M -- sleep 3 & held=$!
for _ in $(seq 100); do [ -n "$(leaves)" ] && break; sleep 0.1; done
swap=$(cat "$(leaves | head -1)/memory.swap.max" 2>/dev/null)
check "memory.swap.max of the run's leaf is 0 (it is ${swap:-missing})" test "$swap" = 0
wait "$held"

# 1d. --verbose's figures: time, peak memory, CPU time and processes, from the leaf, close to
#     what the command did (60 MiB held, 5 children, 0.5 s of CPU), and the same in the audit file.
out=$("$SBX" run --verbose --memory 200M --pids 50 -- python3 -c '
import os, time
block = bytearray(60 << 20)
for i in range(0, len(block), 4096): block[i] = 1
kids = []
for _ in range(5):
    pid = os.fork()
    if pid == 0:
        time.sleep(1)
        os._exit(0)
    kids.append(pid)
end = time.process_time() + 0.5
while time.process_time() < end: pass
for k in kids: os.waitpid(k, 0)' 2>&1); rc=$?
echo "$out" | tail -2
line=$(grep '^sbx: run took' <<<"$out")
check "--verbose: the usage line" grep -Eq '^sbx: run took [0-9]+\.[0-9]{3} s, peak memory [0-9.]+ MiB, [0-9.]+ s CPU, [0-9]+ processes at most; exit status 0$' <<<"$line"
mib=$(sed -n 's/.*peak memory \([0-9.]*\) MiB.*/\1/p' <<<"$line")
cpus=$(sed -n 's/.*, \([0-9.]*\) s CPU.*/\1/p' <<<"$line")
procs=$(sed -n 's/.*, \([0-9]*\) processes at most.*/\1/p' <<<"$line")
check "--verbose: peak memory ${mib:-?} MiB covers the 60 MiB held" awk -v m="${mib:-0}" 'BEGIN { exit !(m >= 60 && m < 200) }'
check "--verbose: ${cpus:-?} s CPU covers the 0.5 s spent" awk -v c="${cpus:-0}" 'BEGIN { exit !(c >= 0.5 && c < 60) }'
check "--verbose: ${procs:-?} processes at most (init, python and 5 children)" awk -v p="${procs:-0}" 'BEGIN { exit !(p >= 7 && p < 50) }'
audit=$(sed -n 's/^sbx: audit: //p' <<<"$out")
check "the audit file's exit has the same figures" \
    grep -q '"event":"exit","status":0,.*"memory_peak_bytes":[0-9]*,"cpu_usec":[0-9]*,"pids_peak":'"${procs:-x}"',' "${audit:-/nonexistent}"

# 2. Processes: a fork loop stops at pids.max, and while a sandbox is held at its limit, 40
#    processes outside it still start (Python raises when a fork fails).
out=$("$SBX" run --pids 20 -- sh -c 'for i in $(seq 60); do sleep 30 & done 2>/dev/null; echo started' 2>&1); rc=$?
echo "$out" | tail -2
check "fork loop stopped at pids.max, reported" grep -q "sbx: process limit 20 reached" <<<"$out"
rm -f full
# Python, not sh: dash exits at the first fork that fails, before it could say it is full.
"$SBX" run --pids 20 -- python3 -c '
import os, time
while True:
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(10)
        os._exit(0)
open("full", "w").close()
time.sleep(5)' >/dev/null 2>&1 & held=$!
for _ in $(seq 100); do [ -e full ] && break; sleep 0.2; done
check "a sandbox held at pids.max" test -e full
check "the host is unaffected: 40 processes start outside it" \
    python3 -c 'import subprocess; ps = [subprocess.Popen(["sleep", "1"]) for _ in range(40)]; exit(any(p.wait() for p in ps))'
wait "$held"

# 3. CPU: a busy loop gets about a fifth of a CPU under --cpus 0.2 (cpu.max).
out=$("$SBX" run --verbose --cpus 0.2 -- timeout 3 sh -c 'while :; do :; done' 2>&1)
echo "$out" | tail -1
cpu=$(sed -n 's/.*, \([0-9.]*\) s CPU.*/\1/p' <<<"$out")
check "cpu.max throttles a busy loop (${cpu:-?} s CPU in 3 s)" awk -v c="${cpu:-9}" 'BEGIN { exit !(c < 1.5) }'

# 4. Timeout: a tree that ignores SIGTERM is killed after the grace period, the real 10 s (the
#    integration tests shorten it with SBX_TEST_GRACE_SECONDS).
started=$(date +%s)
out=$(env -u SBX_TEST_GRACE_SECONDS "$SBX" run --timeout 1s --memory 100M -- sh -c "trap '' TERM; sleep 100 & trap '' TERM; wait" 2>&1); rc=$?
took=$(( $(date +%s) - started ))
check "timeout kills a tree that ignores SIGTERM (137)" test "$rc" = 137
check "after the 10 s of grace (took ${took} s)" test "$took" -ge 10 -a "$took" -lt 40
check "said: killed after 10 s of grace" grep -q "killed after 10 s of grace" <<<"$out"

# 5. No leaf is left behind: after normal runs, and after kill -9 of sbx (swept by the next run).
check "no leaf left after normal exits" test -z "$(leaves)"
"$SBX" run --memory 50M -- sleep 100 & victim=$!
for _ in $(seq 100); do [ -n "$(leaves)" ] && break; sleep 0.2; done
kill -9 "$victim"; wait "$victim" 2>/dev/null
sleep 1
check "a killed run's leaf is still there before the next run" test -n "$(leaves)"
"$SBX" run --pids 50 -- true
check "the next run swept it" test -z "$(leaves)"

# 6. Rootless in a delegated subtree (what systemd's Delegate=yes gives a user).
id sbxvm >/dev/null 2>&1 || useradd -M -d /tmp sbxvm 2>/dev/null || true
user=$(id -u sbxvm 2>/dev/null || echo 1500)
mkdir -p "$CG/deleg"
chown "$user" "$CG/deleg" "$CG/deleg/cgroup.procs" "$CG/deleg/cgroup.threads" "$CG/deleg/cgroup.subtree_control"
as_user() { setpriv --reuid="$user" --regid="$user" --clear-groups -- env HOME=/tmp "$@"; }
# sbx is the only process in the delegated cgroup: it moves itself into a leaf, then limits the run.
out=$(sh -c 'echo $$ > /sys/fs/cgroup/deleg/cgroup.procs; exec "$@"' sh \
      setpriv --reuid="$user" --regid="$user" --clear-groups -- env HOME=/tmp \
      "$SBX" run --memory 30M -- dd if=/dev/zero of=/dev/null bs=100M count=1 2>&1); rc=$?
echo "$out" | tail -1
check "delegated, unprivileged: OOM-killed at 30M (137)" test "$rc" = 137
check "delegated, unprivileged: reported" grep -q "memory limit 30 MiB reached" <<<"$out"
check "delegated: nothing left in the subtree" test -z "$(ls -d "$CG"/deleg/sbx-* 2>/dev/null)"
check "delegated: controllers given back" test -z "$(cat "$CG/deleg/cgroup.subtree_control")"
rmdir "$CG/deleg"

# 7. Refusals that say what to do.
out=$(as_user "$SBX" run --memory 30M -- touch ran 2>&1); rc=$?
echo "$out"
check "not delegated: 125 with the systemd-run hint" test "$rc" = 125
check "not delegated: says so" grep -q "systemd-run --user --scope -p Delegate=yes" <<<"$out"
check "not delegated: the command did not run" test ! -e ran
mkdir -p "$CG/nomem/c" && echo +pids > "$CG/nomem/cgroup.subtree_control"
out=$(sh -c 'echo $$ > /sys/fs/cgroup/nomem/c/cgroup.procs; exec "$@"' sh "$SBX" run --memory 30M -- touch ran 2>&1); rc=$?
echo "$out"
check "controller missing: 125" test "$rc" = 125
check "controller missing: named" grep -q "controller memory is not available in $CG/nomem/c (it offers: pids)" <<<"$out"
check "controller missing: the command did not run" test ! -e ran
echo $$ > "$CG/cgroup.procs"; rmdir "$CG/nomem/c" "$CG/nomem"

echo "$failures failed"
[ "$failures" = 0 ]
