#!/bin/sh
# Adapted from the shared vmrig recipe (a measured QEMU/TCG cgroup v2 guest); sbx runs it
# through Tests/vm/run, from a copy outside the repository (it writes kernels/ and runs/).
# mkinitramfs.sh KERNEL_DIR  ->  KERNEL_DIR/initramfs.cpio.gz
# static busybox + the modules needed to reach the host root over virtio-9p
# (PCI or MMIO transport) + overlayfs (dependency order from modules.dep),
# and initramfs-init as /init.
set -eu
RIG=$(cd "$(dirname "$0")" && pwd)
KD=$(cd "$1" && pwd)
KVER=$(cat "$KD/version")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

mkdir -p "$W"/bin "$W"/lib/modules "$W"/proc "$W"/sys "$W"/dev "$W"/newroot
cp /bin/busybox "$W"/bin/busybox
for app in $(/bin/busybox --list); do [ "$app" = busybox ] || ln -s busybox "$W/bin/$app"; done

: >"$W/modules.list"
for m in virtio_pci virtio_mmio 9pnet_virtio 9p overlay; do
    modprobe -d "$KD/root" -S "$KVER" --show-depends "$m" | awk '$1=="insmod"{print $2}'
done | awk '!seen[$0]++' | while read -r f; do
    n=$(basename "$f"); n=${n%.xz}; n=${n%.zst}; n=${n%.ko}
    case "$f" in
        *.xz)  xz -dc "$f" >"$W/lib/modules/$n.ko" ;;
        *.zst) zstd -qdc "$f" >"$W/lib/modules/$n.ko" ;;
        *)     cp "$f" "$W/lib/modules/$n.ko" ;;
    esac
    echo "$n" >>"$W/modules.list"
done

cp "$RIG/initramfs-init" "$W/init"
chmod 755 "$W/init"
(cd "$W" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$KD/initramfs.cpio.gz"
