# PID 1 of the guest after switch_root; interpreted by the host's
# Adapted from the shared vmrig recipe (a measured QEMU/TCG cgroup v2 guest); sbx runs it
# through Tests/vm/run, from a copy outside the repository (it writes kernels/ and runs/).
# /bin/busybox sh (package busybox-static) seen through the overlay.
# Runs $OUT/cmd.sh with bash, stores its exit status in $OUT/rc, reboots
# (qemu runs with -no-reboot, so a guest reboot ends qemu).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8
OUT=
for a in $(cat /proc/cmdline); do
    case "$a" in vmrig_out=*) OUT=${a#*=} ;; esac
done
read up _ </proc/uptime
echo "$up" >"$OUT/uptime_start"

cd /
exec >/dev/null 2>&1   # PID 1 itself stays silent (no "Killed" job notices)
# (started as a background job + wait, so the shell prints no "Killed" notice
# when the command dies from a signal; rc is then 128+signal, as in bash)
/bin/bash "$OUT/cmd.sh" </dev/null >/dev/console 2>&1 &
wait $!
rc=$?

read up _ </proc/uptime
echo "$up" >"$OUT/uptime_end"
echo "$rc" >"$OUT/rc"
/bin/busybox sync
/bin/busybox reboot -f
