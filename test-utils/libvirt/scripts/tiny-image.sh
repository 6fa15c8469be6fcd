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

# No default route: the guests talk only to their slirp gateway (the host's tunnel) and, on a node
# segment, to each other; an address the segment does not hold must fail, never leave through slirp.
cat >"$root/udhcpc.sh" <<'EOF'
#!/bin/sh
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
ifconfig "$interface" "$ip" netmask "$subnet" up
exit 0
EOF
chmod +x "$root/udhcpc.sh"
printf '#!/bin/sh\necho hello-from-guest\n' >"$root/hello.sh"
chmod +x "$root/hello.sh"

# The node segment (the SDK's multi-node clusters without a libvirt network): a guest configures its
# segment NIC (PCI 01:00.0) from the ifcfg-enp1s0 file of its Ignition; the first control-plane node
# (its Ignition has keepalived's virtual IP) also takes the virtual IP and answers on 6443 until it
# is deleted; a joining node connects to the apiServerEndpoint of its kubeadm JoinConfiguration and
# prints the reply. Without a static address in that file, segment_main returns 1.
cat >"$root/segment.sh" <<'EOF'
# Sourced by /init, which sets $cfg (the Ignition from fw_cfg).
# The decoded contents of the Ignition file at path $1 (a data URL, plain or base64, maybe gzip).
ign_file() {
  src=$(sed 's/{"path":/\n&/g' "$cfg" | grep -F "{\"path\":\"$1\"" |
    sed -n 's/.*"compression":"\([a-z]*\)","source":"\([^"]*\)".*/\1 \2/p')
  [ -n "$src" ] || return 0
  comp=${src%% *}
  data=${src#* }
  case "$data" in
    data:*\;base64,*) printf '%s' "${data#*;base64,}" | base64 -d ;;
    data:*,*) printf "$(printf '%s' "${data#*,}" | sed 's/\\/\\\\/g; s/%/\\x/g')" ;;
  esac | if [ "$comp" = gzip ]; then gunzip -c; else cat; fi
}
# The NIC at PCI address $1 (the kernel may name the bus-1 NIC eth0, before the one on bus 0).
nic_at() {
  for nic in /sys/class/net/*; do
    case "$(readlink -f "$nic/device")" in */"$1"/*) echo "${nic##*/}" ;; esac
  done
}
segment_main() {
  ifcfg=$(ign_file /etc/sysconfig/network-scripts/ifcfg-enp1s0)
  addr=$(echo "$ifcfg" | sed -n 's/^IPADDR=//p')
  prefix=$(echo "$ifcfg" | sed -n 's/^PREFIX=//p')
  [ -n "$addr" ] || return 1
  nic=$(nic_at 0000:01:00.0)
  ip link set "$nic" up
  ip addr add "$addr/$prefix" dev "$nic"
  echo "OCNE-TEST segment $nic $addr/$prefix"
  vip=$(ign_file /etc/keepalived/keepalived.conf | sed -n '/virtual_ipaddress/{n;s/^ *\([0-9.]*\).*/\1/p;}')
  endpoint=$(ign_file /etc/kubernetes/kubeadm.conf | sed -n 's/^ *apiServerEndpoint: *//p')
  if [ -n "$endpoint" ]; then
    echo "OCNE-TEST api-endpoint $endpoint"
    # Control plane 1 may still be booting: about three minutes of attempts.
    i=0
    while [ $i -lt 45 ]; do
      reply=$(sleep 2 | nc -w 3 "${endpoint%:*}" "${endpoint##*:}" 2>/dev/null)
      if [ -n "$reply" ]; then
        echo "OCNE-TEST api-reply $endpoint $reply"
        return 0
      fi
      i=$((i + 1))
      sleep 1
    done
    echo "OCNE-TEST api-unreachable $endpoint"
  elif [ -n "$vip" ]; then
    ip addr add "$vip/32" dev "$nic"
    echo "OCNE-TEST vip $vip"
    echo "OCNE-TEST listening 6443"
    timeout 900 nc -ll -p 6443 -e /hello.sh
  fi
  return 0
}
EOF

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
. /segment.sh
user=\$(nic_at 0000:00:02.0)
if [ -n "\$user" ] && ifconfig "\$user" up && udhcpc -i "\$user" -s /udhcpc.sh -q -n -t 5 >/dev/null 2>&1; then
  echo "OCNE-TEST address \$(ifconfig "\$user" | sed -n 's/.*inet addr:\([0-9.]*\).*/\1/p')"
fi
if [ -f "\$cfg" ] && segment_main; then
  :
elif [ -n "\$user" ] && ifconfig "\$user" | grep -q 'inet addr'; then
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
