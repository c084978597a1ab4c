#!/bin/sh
# Boot: filesystems, the NoCloud seed, the network, SSH, then the ready marker on the
# serial console that the libvirt driver waits for; user data runs after it, as
# cloud-init's final stage does.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -o remount,rw /
ip link set lo up

# Grow the root filesystem to the disk the server type gives (the image is smaller).
resize2fs /dev/vda >/dev/null 2>&1

/usr/lib/stratus/apply-seed
[ -f /etc/hostname ] && hostname -F /etc/hostname

for nic in /sys/class/net/*; do
    name=${nic##*/}
    [ "$name" = lo ] && continue
    ip link set "$name" up
    udhcpc -i "$name" -s /usr/share/udhcpc/default.script -b -q -t 20 -T 1 >/dev/null 2>&1
done

acpid
mkdir -p /etc/dropbear
dropbear -R -p 22
# QEMU's guest agent (reset_password) on the virtio port libvirt names for it; no udev
# here to make /dev/virtio-ports/ links.
for port in /sys/class/virtio-ports/*; do
    [ "$(cat "$port/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] &&
        qemu-ga -d -m virtio-serial -p "/dev/${port##*/}" -f /run/qemu-ga.pid -t /run
done
echo "stratus-guest: ready" > /dev/ttyS0

/usr/lib/stratus/run-user-data &
