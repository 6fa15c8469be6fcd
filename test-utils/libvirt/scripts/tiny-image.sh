#!/usr/bin/env bash
# Builds the tiny test boot disk that stands in for OCK's disk/boot.qcow2 in the libvirt tests:
# an EFI system partition whose removable-media loader (GRUB standalone, with the kernel and the
# initramfs in its memdisk) boots Debian's cloud kernel into a busybox initramfs. The init reads
# the Ignition QEMU passes through fw_cfg, prints its length and sha256 on the serial console,
# answers one TCP connection on 6443 (the API tunnel), and powers off.
#
# Usage: tiny-image.sh KERNEL_RELEASE OUT_QCOW2. Needs linux-image-cloud-amd64, busybox-static,
# grub-efi-amd64-bin, dosfstools, mtools, gdisk and qemu-utils (scripts/system-packages.sh).
set -euo pipefail
release=$1
out=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

root=$work/root
mkdir -p "$root"/{bin,sbin,proc,sys,dev,etc,modules,usr/bin,usr/sbin}
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
# The order insmod needs: each module after the ones it uses.
modules=(qemu_fw_cfg virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net)
for m in "${modules[@]}"; do
  cp "$(modinfo -k "$release" -n "$m")" "$root/modules/$m.ko"
done

cat >"$root/udhcpc.sh" <<'EOF'
#!/bin/sh
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
ifconfig "$interface" "$ip" netmask "$subnet" up
[ -n "$router" ] && route add default gw "${router%% *}" dev "$interface"
exit 0
EOF
chmod +x "$root/udhcpc.sh"

cat >"$root/init" <<EOF
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in ${modules[*]}; do insmod /modules/\$m.ko; done
cfg=/sys/firmware/qemu_fw_cfg/by_name/opt/com.coreos/config/raw
echo "OCNE-TEST boot \$(cat /proc/sys/kernel/hostname)"
if [ -f "\$cfg" ]; then
  echo "OCNE-TEST fwcfg-size \$(wc -c < "\$cfg")"
  echo "OCNE-TEST fwcfg-sha256 \$(sha256sum "\$cfg" | cut -d' ' -f1)"
else
  echo "OCNE-TEST fwcfg-missing"
fi
for nic in /sys/class/net/*; do echo "OCNE-TEST nic \${nic##*/} \$(readlink -f \$nic/device)"; done
ifconfig lo 127.0.0.1 up
if ifconfig eth0 up 2>/dev/null && udhcpc -i eth0 -s /udhcpc.sh -q -n -t 5 >/dev/null 2>&1; then
  echo "OCNE-TEST address \$(ifconfig eth0 | sed -n 's/.*inet addr:\([0-9.]*\).*/\1/p')"
  echo "OCNE-TEST listening 6443"
  echo "hello-from-guest" | timeout 60 nc -l -p 6443 && echo "OCNE-TEST served 6443"
fi
echo "OCNE-TEST poweroff"
poweroff -f
EOF
chmod +x "$root/init"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 >"$work/initrd.img")
cp "/boot/vmlinuz-$release" "$work/vmlinuz"
cat >"$work/grub.cfg" <<'EOF'
set timeout=0
linux (memdisk)/vmlinuz console=ttyS0 panic=-1 quiet
initrd (memdisk)/initrd.img
boot
EOF
grub-mkstandalone -O x86_64-efi --compress=no -o "$work/BOOTX64.EFI" \
  --modules="linux normal memdisk" --locales= --fonts= --themes= \
  "boot/grub/grub.cfg=$work/grub.cfg" "vmlinuz=$work/vmlinuz" "initrd.img=$work/initrd.img"

# The EFI system partition and a GPT disk holding it; OVMF boots \EFI\BOOT\BOOTX64.EFI from it.
esp_mib=24
mkfs.vfat -C "$work/esp.img" $((esp_mib * 1024)) >/dev/null
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
truncate -s 32M "$work/disk.raw"
# (sgdisk -q silently writes nothing on a blank disk: keep it verbose, output dropped.)
sgdisk -n "1:2048:+${esp_mib}M" -t 1:ef00 "$work/disk.raw" >/dev/null
dd if="$work/esp.img" of="$work/disk.raw" bs=512 seek=2048 conv=notrunc status=none
mkdir -p "$(dirname "$out")"
qemu-img convert -f raw -O qcow2 "$work/disk.raw" "$out.partial"
mv "$out.partial" "$out"
