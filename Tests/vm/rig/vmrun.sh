#!/bin/bash
# Adapted from the shared vmrig recipe (a measured QEMU/TCG cgroup v2 guest); sbx runs it
# through Tests/vm/run, from a copy outside the repository (it writes kernels/ and runs/).
# Run one command inside a throw-away QEMU VM whose root filesystem is the
# host's root (virtio-9p, read-only, with a tmpfs overlay on top) and whose
# /sys/fs/cgroup is a pure cgroup v2 hierarchy with every controller.
#
#   vmrun.sh [-m MEM] [-c CPUS] [-t SECS] [-a tcg|kvm] [-M pc|microvm] [-k] -- CMD [ARGS...]
#
#   -m  guest RAM (default 2G)          -c  vCPUs (default: host nproc)
#   -t  timeout in seconds (default 900) -k  keep the run directory
#   -a  accelerator: auto (default), tcg or kvm. auto = kvm only if /dev/kvm
#       is usable AND the CPU advertises vmx/svm; the Firecracker CI VMs expose
#       a PVM /dev/kvm without vmx/svm, which cannot run a stock kernel (see
#       README), so there auto = tcg (pure software emulation, always works)
#   -M  machine type: microvm (default, fastest boot) or pc
#   -K  kernel set under kernels/ (default: "default" -> what setup.sh made first;
#       "stable" = Debian 12 6.1.x, "backports" = 6.12.x via ./setup.sh backports)
#
# CMD runs as root in the guest, in the caller's working directory, with stdin
# /dev/null; its stdout+stderr are streamed (merged) to this script's stdout
# over the serial console. Exit status of vmrun.sh = exit status of CMD
# (125 if the VM did not report one, e.g. guest panic or timeout).
# Anything CMD writes to $VMRIG_RUN (exported into the guest) lands on the host.
# Debug knobs: VMRIG_TIMING=1 (timings on stderr), VMRIG_APPEND (extra kernel
# args, e.g. "loglevel=7"), VMRIG_QEMU_EXTRA (extra qemu args, word-split).
set -euo pipefail
RIG=$(cd "$(dirname "$0")" && pwd)
MEM=2G CPUS=$(nproc) TMO=900 ACCEL=${VMRIG_ACCEL:-auto} MACHINE=${VMRIG_MACHINE:-microvm} KEEP=0
KSET=${VMRIG_KSET:-default}
while getopts "m:c:t:a:M:K:k" o; do
    case $o in
        m) MEM=$OPTARG ;; c) CPUS=$OPTARG ;; t) TMO=$OPTARG ;; a) ACCEL=$OPTARG ;;
        M) MACHINE=$OPTARG ;; K) KSET=$OPTARG ;; k) KEEP=1 ;; *) sed -n '2,24p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ "${1:-}" = -- ] && shift
[ $# -gt 0 ] || { echo "usage: $0 [opts] -- CMD [ARGS...]" >&2; exit 2; }
KD=$(cd "$RIG/kernels/$KSET" 2>/dev/null && pwd -P) || { echo "no kernels/$KSET; run ./setup.sh" >&2; exit 2; }

mkdir -p "$RIG/runs"
RUN=$(mktemp -d "$RIG/runs/run.XXXXXX")
chmod 755 "$RUN"
cleanup() { [ "$KEEP" = 1 ] || rm -rf "$RUN"; }
trap cleanup EXIT

{
    printf 'export VMRIG_RUN=%q\n' "$RUN"
    printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
    printf 'exec'; printf ' %q' "$@"; printf '\n'
} >"$RUN/cmd.sh"

if [ "$ACCEL" = auto ]; then
    ACCEL=tcg
    [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo && ACCEL=kvm
fi
case $ACCEL in
    tcg) ACC=(-accel tcg,thread=multi,tb-size=512 -cpu max) ;;
    kvm) ACC=(-accel kvm -cpu host) ;;
    *) echo "bad -a $ACCEL" >&2; exit 2 ;;
esac
case $MACHINE in
    microvm) MACH=(-M microvm,x-option-roms=off,isa-serial=on,rtc=on,pit=on,pic=on); VDEV=virtio-9p-device ;;
    pc)      MACH=(-M pc); VDEV=virtio-9p-pci ;;
    *) echo "bad -M $MACHINE" >&2; exit 2 ;;
esac

# TCG's guest TSC runs at the host TSC rate; telling the guest that rate avoids
# PIT-based calibration, which randomly fails under TCG on microvm (-> hang)
TSC_KHZ=$(awk '/^cpu MHz/{printf "%d", $4*1000; exit}' /proc/cpuinfo)
HZ=$(awk -F= '/^CONFIG_HZ=/{print $2}' "$KD/config")
APPEND="console=ttyS0 tsc_early_khz=$TSC_KHZ lpj=$((TSC_KHZ * 1000 / HZ)) quiet loglevel=0 panic=-1 reboot=t 8250.nr_uarts=1 \
no_timer_check tsc=reliable cryptomgr.notests random.trust_cpu=on mitigations=off \
vmrig_rig=$RIG vmrig_kd=$KD vmrig_out=$RUN ${VMRIG_APPEND:-}"

t0=$(date +%s.%N)
set +e
timeout -k 5 "$TMO" qemu-system-x86_64 \
    "${MACH[@]}" "${ACC[@]}" -smp "$CPUS" -m "$MEM" \
    -nodefaults -no-user-config -display none -monitor none -no-reboot \
    -chardev stdio,id=con,signal=on -serial chardev:con \
    -kernel "$KD/vmlinux" -initrd "$KD/initramfs.cpio.gz" -append "$APPEND" \
    -fsdev local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap \
    -device $VDEV,fsdev=hostroot,mount_tag=hostroot \
    -fsdev local,id=vmrigout,path="$RUN",security_model=passthrough \
    -device $VDEV,fsdev=vmrigout,mount_tag=vmrigout \
    ${VMRIG_QEMU_EXTRA:-} </dev/null &
VPID=$!
# if we are killed (CI job cancelled), take the VM down with us
trap 'kill -TERM $VPID 2>/dev/null; wait $VPID; exit 143' TERM INT HUP
wait $VPID
qrc=$?
set -e
t1=$(date +%s.%N)

if [ -f "$RUN/rc" ]; then rc=$(cat "$RUN/rc"); else
    echo "vmrun: VM exited (qemu rc=$qrc) without reporting an exit status" >&2; rc=125
fi
if [ -n "${VMRIG_TIMING:-}" ]; then
    awk -v t0="$t0" -v t1="$t1" -v s="$(cat "$RUN/uptime_start" 2>/dev/null || echo nan)" \
        -v e="$(cat "$RUN/uptime_end" 2>/dev/null || echo nan)" \
        'BEGIN{printf "vmrun: wall %.2fs; guest uptime at command start %.2fs, at command end %.2fs\n", t1-t0, s, e}' >&2
fi
exit "$rc"
