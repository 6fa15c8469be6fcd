#!/usr/bin/env bash
# Installs the Debian packages the tests use (real libvirtd + QEMU, the disk and OSTree tools,
# skopeo/umoci and the CNCF registry, containerd + runc for the test node), once per machine.
# Idempotent: a machine that has them all pays one dpkg query. Without root or apt it says what is
# missing and fails, so a test run never pretends to have a component it lacks.
# No package may start a daemon behind the tests' back: policy-rc.d refuses every start while we
# install (there is no systemd here; the tests start what they need and stop it by PID).
set -euo pipefail

PACKAGES=(
  # libvirt and QEMU (software emulation), the boot kernel and busybox for the tiny test guest
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-system libvirt-clients libvirt-dev
  qemu-system-x86 qemu-utils linux-image-cloud-amd64 busybox-static
  # UEFI firmware for the domains (firmware="efi"), and GRUB to make the tiny guest's EFI loader
  ovmf grub-efi-amd64-bin
  # disk images: partitions, XFS, the EFI partition, libguestfs
  xfsprogs gdisk fdisk dosfstools mtools libguestfs-tools libguestfs-xfs
  # OSTree, container images and the registry
  ostree gir1.2-ostree-1.0 python3-gi skopeo umoci docker-registry jq zstd
  # a real nginx binary for the test base image of the OSTree server image (never started as a service)
  nginx
  # htpasswd -B: bcrypt password files for the test registry's Basic auth
  apache2-utils
  # the test node
  containerd runc
  # the test node's pause binary, compiled static from a few lines of C
  gcc libc6-dev
  # sshd on 127.0.0.1 for libvirt's qemu+ssh transport (started by the test, stopped by PID), and the
  # nc that libvirt runs on the remote side to reach a daemon socket given with ?socket=
  openssh-server netcat-openbsd
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-packages: missing ${missing[*]}; install them as root with apt-get" >&2
  exit 1
fi

# One installer at a time on this machine, however many checkouts run their tests.
exec 9>/tmp/ocne-system-packages.lock
flock 9
echo "system-packages: installing ${missing[*]}" >&2
policy=/usr/sbin/policy-rc.d
had_policy=0
[ -e "$policy" ] && had_policy=1
if [ $had_policy = 0 ]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"; fi
trap '[ $had_policy = 0 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >&2
