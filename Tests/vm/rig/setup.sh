#!/bin/sh
# Adapted from the shared vmrig recipe (a measured QEMU/TCG cgroup v2 guest); sbx runs it
# through Tests/vm/run, from a copy outside the repository (it writes kernels/ and runs/).
# One-time setup of the cgroup-v2 test VM rig (run as root on the CI host).
#
#   ./setup.sh               # Debian 12 kernel (bookworm, 6.1.x)  -> kernels/stable
#   ./setup.sh backports     # bookworm-backports kernel (6.12.x)  -> kernels/backports
#
# Installs qemu-system-x86, busybox-static, kmod, xz-utils and zstd from the archive,
# then downloads and EXTRACTS (does not install) a kernel into kernels/<name>/ and
# builds kernels/<name>/initramfs.cpio.gz. The kernel package: $SBX_VM_KERNEL when set
# (e.g. linux-image-6.1.0-57-amd64, to pin one), else what linux-image-amd64 (Debian) or
# linux-image-generic (Ubuntu) depends on today; the one used is printed and kept in
# kernels/<name>/version. (Not pinned by default: the archives keep only the current
# build of a release's kernel, so a pinned name stops downloading after the next update.)
# The backports index is fetched into ./apt/ with a private apt config: the
# host's sources.list, /boot, /lib/modules and /sys/fs/cgroup are not touched.
set -eu
RIG=$(cd "$(dirname "$0")" && pwd)
cd "$RIG"
NAME=${1:-stable}

export DEBIAN_FRONTEND=noninteractive
# qemu-system-x86: the VMM; busybox-static: initramfs userland + guest PID 1;
# kmod: depmod here, modprobe inside the guest (the guest runs the host's /sbin)
# xz-utils and zstd: the kernel images' compression (6.1 uses xz, 6.12 zstd).
# The package lists are refreshed whenever something is installed or a kernel is fetched.
K=kernels/$NAME
if ! command -v qemu-system-x86_64 >/dev/null || ! [ -x /bin/busybox ] || ! command -v depmod >/dev/null \
    || ! command -v xz >/dev/null || ! command -v zstd >/dev/null || ! [ -f $K/vmlinux ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends qemu-system-x86 busybox-static kmod xz-utils zstd >/dev/null
fi

APTO=""
if [ "$NAME" = backports ]; then
    # Point a private apt config at your Debian mirror's bookworm-backports suite:
    #   echo "deb <your Debian mirror URL> bookworm-backports main" > apt/sources.list
    [ -f apt/sources.list ] || { echo "setup: write apt/sources.list for backports first" >&2; exit 2; }
    mkdir -p apt/lists/partial apt/cache/archives/partial
    APTO="-o Dir::Etc::SourceList=$RIG/apt/sources.list -o Dir::Etc::SourceParts=/dev/null
          -o Dir::State::Lists=$RIG/apt/lists -o Dir::Cache=$RIG/apt/cache"
    apt-get $APTO update -qq
fi

# Kernel flavour: generic (linux-image-amd64). NOT the cloud flavour: it is
# built without CONFIG_9P_FS / CONFIG_NET_9P, so it cannot mount the host root
# over virtio-9p.
if ! [ -f $K/vmlinux ]; then
    KPKG=${SBX_VM_KERNEL:-}
    for meta in linux-image-amd64 linux-image-generic; do
        [ -n "$KPKG" ] && break
        KPKG=$(apt-cache $APTO depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
    done
    [ -n "$KPKG" ] || { echo "setup: no kernel package found (linux-image-amd64 or linux-image-generic); set SBX_VM_KERNEL" >&2; exit 1; }
    echo "setup: kernel package $KPKG" >&2
    KVER=${KPKG#linux-image-}
    mkdir -p debs $K
    (cd debs && apt-get $APTO download -qq "$KPKG" 2>/dev/null)
    rm -rf $K/x && mkdir -p $K/x
    dpkg-deb -x debs/"$KPKG"_*.deb $K/x
    cp $K/x/boot/config-"$KVER" $K/config
    # Uncompressed ELF vmlinux (has a PVH entry point): qemu loads it directly,
    # which skips the in-guest decompression of bzImage (~5 s under TCG).
    # Same trick as linux/scripts/extract-vmlinux (6.1 uses xz, 6.12 zstd).
    case $(grep -o '^CONFIG_KERNEL_[A-Z0-9]*=y' $K/config) in
        *_XZ=y)   magic='\3757zXZ'          dec="xz -dc" ;;
        *_ZSTD=y) magic='\050\265\057\375' dec="zstd -qdc" ;;
        *_GZIP=y) magic='\037\213\010'     dec="gzip -dc" ;;
        *) echo "unsupported kernel compression" >&2; exit 1 ;;
    esac
    off=$(LC_ALL=C grep -abo -F "$(printf "$magic")" $K/x/boot/vmlinuz-"$KVER" | head -n1 | cut -d: -f1)
    tail -c +$((off + 1)) $K/x/boot/vmlinuz-"$KVER" | $dec 2>/dev/null >$K/vmlinux || true
    [ "$(head -c4 $K/vmlinux | od -An -c | tr -d ' ')" = 177ELF ] || { echo "vmlinux extraction failed" >&2; exit 1; }
    # full module tree; the guest bind-mounts it on /lib/modules so modprobe works
    rm -rf $K/root && mkdir -p $K/root/lib/modules
    mv $K/x/lib/modules/"$KVER" $K/root/lib/modules/"$KVER"
    rm -rf $K/x
    depmod -b "$RIG/$K/root" "$KVER"
    echo "$KVER" >$K/version
fi
[ -e kernels/default ] || ln -s "$NAME" kernels/default

"$RIG/mkinitramfs.sh" "$RIG/$K"
echo "rig ready: $K = $(cat $K/version), initramfs $(du -h $K/initramfs.cpio.gz | cut -f1)"
