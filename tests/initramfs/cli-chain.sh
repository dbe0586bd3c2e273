#!/bin/sh
# A tree for `crashkit --sysroot DIR check-config|rebuild --root DIR`: DIR/sys a fake sysfs with
# the virtio disk vdb (partition vdb1) and, by LAYOUT, devices stacked on it; DIR/etc/crashkit a
# config whose target is /dev/TOP. LAYOUT: plain (TOP vdb1), luks (dm-0 LUKS2 on vdb1),
# lvm-on-luks (dm-1 LV on dm-0 LUKS2 on vdb1), md (md0 raid1 of vdb1 and vdc), missing (TOP vdz,
# a disk this tree does not have); raw-ext4, raw-swap, raw-blank: a raw target vdb1 whose node
# DIR/dev/vdb1 is an image file holding an ext4 filesystem, swap, or zeroes.
set -eu
D=$1
LAYOUT=$2
rm -rf "$D"
S=$D/sys
PCI=devices/pci0000:00/0000:00:04.0
mkdir -p "$S/$PCI/virtio1/block/vdb/vdb1" "$S/bus/pci/drivers/virtio-pci" \
  "$S/bus/virtio/drivers/virtio_blk" "$S/module/virtio_pci" "$S/module/virtio_blk" \
  "$S/class/block" "$S/dev/block" "$D/proc/self" "$D/etc/crashkit"
: > "$D/proc/self/mountinfo"
ln -s ../../../../module/virtio_pci "$S/bus/pci/drivers/virtio-pci/module"
ln -s ../../../../module/virtio_blk "$S/bus/virtio/drivers/virtio_blk/module"
ln -s ../../../bus/pci/drivers/virtio-pci "$S/$PCI/driver"
ln -s ../../../../bus/virtio/drivers/virtio_blk "$S/$PCI/virtio1/driver"
ln -s ../../../virtio1 "$S/$PCI/virtio1/block/vdb/device"
echo 1 > "$S/$PCI/virtio1/block/vdb/vdb1/partition"
ln -s "../../$PCI/virtio1/block/vdb" "$S/class/block/vdb"
ln -s "../../$PCI/virtio1/block/vdb/vdb1" "$S/class/block/vdb1"
# stacked NAME DM_NAME|- UUID|- SLAVE...: a device-mapper or md device on SLAVEs.
stacked() {
  v=$S/devices/virtual/block/$1
  mkdir -p "$v/slaves"
  case $1 in
  dm-*) mkdir -p "$v/dm" && echo "$2" > "$v/dm/name" && echo "$3" > "$v/dm/uuid" ;;
  md*) mkdir -p "$v/md" && echo "$2" > "$v/md/level" && echo "$3" > "$v/md/uuid" ;;
  esac
  n=$1
  shift 3
  for s in "$@"; do ln -s "$(readlink -f "$S/class/block/$s")" "$v/slaves/$s"; done
  ln -s "../../devices/virtual/block/$n" "$S/class/block/$n"
}
LV=LVM-Zk3Qx1yRr0aB2cD4eF6gH8iJ0kL2mN4oppppppppppppppppppppppppppppppppa
case $LAYOUT in
plain) TOP=vdb1 ;;
raw-ext4 | raw-swap | raw-blank)
  TOP=vdb1
  mkdir -p "$D/dev"
  truncate -s 4M "$D/dev/vdb1"
  case $LAYOUT in
  raw-ext4) mkfs.ext4 -q -F -L home -U 6d7c4d1e-3a52-4b8e-9f51-2f0e3c1b7a90 "$D/dev/vdb1" ;;
  raw-swap) mkswap -U 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 "$D/dev/vdb1" >/dev/null 2>&1 ;;
  esac
  ;;
missing) TOP=vdz ;;
luks) TOP=dm-0 && stacked dm-0 cryptdump CRYPT-LUKS2-0b5e1b2e1c4e4c499a9e4b2f0a6f1d02-cryptdump vdb1 ;;
lvm-on-luks)
  TOP=dm-1
  stacked dm-0 cryptpv CRYPT-LUKS2-0b5e1b2e1c4e4c499a9e4b2f0a6f1d02-cryptpv vdb1
  stacked dm-1 vg0-dump "$LV" dm-0
  ;;
md)
  TOP=md0
  P2=devices/pci0000:00/0000:00:05.0
  mkdir -p "$S/$P2/virtio2/block/vdc"
  ln -s ../../../bus/pci/drivers/virtio-pci "$S/$P2/driver"
  ln -s ../../../../bus/virtio/drivers/virtio_blk "$S/$P2/virtio2/driver"
  ln -s ../../../virtio2 "$S/$P2/virtio2/block/vdc/device"
  ln -s "../../$P2/virtio2/block/vdc" "$S/class/block/vdc"
  stacked md0 raid1 3a0c8a4e:51c1e1b0:9b5c61e2:0d3f4a77 vdb1 vdc
  ;;
*) echo "unknown layout $LAYOUT" >&2 && exit 2 ;;
esac
case $LAYOUT in
raw-*) printf 'raw /dev/%s\n' "$TOP" > "$D/etc/crashkit/crashkit.conf" ;;
*) printf 'ext4 /dev/%s\n' "$TOP" > "$D/etc/crashkit/crashkit.conf" ;;
esac
