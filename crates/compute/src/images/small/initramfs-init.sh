#!/bin/sh
# The small image's initramfs: load the drivers the cloud kernel has as modules (in
# dependency order), mount the root disk and hand over to its init.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The libvirt driver's KVM probe boots this far and no further.
if grep -q stratus.probe /proc/cmdline; then
    echo "stratus-probe: init reached" > /dev/console
    poweroff -f
fi
for m in $(cat /modules.order); do
    insmod "/modules/$m.ko" 2>/dev/null
done
# The root disk is the first virtio disk; it may take a moment to appear.
for _ in $(seq 50); do
    [ -b /dev/vda ] && break
    sleep 0.1
done
mkdir -p /newroot
if ! mount -t ext4 -o rw /dev/vda /newroot; then
    echo "stratus-initramfs: cannot mount /dev/vda" > /dev/console
    exec sh
fi
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /sbin/init
