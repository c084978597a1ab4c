#!/bin/sh
# Applies the NoCloud seed (a FAT volume labelled CIDATA): the hostname at every boot;
# SSH keys and the root password once per instance, as cloud-init does. Supports the
# subset of the seed Stratus writes: meta-data's instance-id, local-hostname and
# public-keys, and vendor-data's root password.
seed=/run/seed
mkdir -p $seed
dev=$(findfs LABEL=CIDATA 2>/dev/null || findfs LABEL=cidata 2>/dev/null)
[ -n "$dev" ] || exit 0
mount -t vfat -o ro "$dev" $seed || exit 0
state=/var/lib/cloud
mkdir -p $state/instance
cp $seed/user-data $state/instance/user-data.txt 2>/dev/null

unquote() { sed -e 's/^ *- *//' -e 's/^"//' -e 's/"$//' -e 's/\\"/"/g' -e 's/\\\\/\\/g'; }
instance=$(sed -n 's/^instance-id: *//p' $seed/meta-data | unquote)
hostname=$(sed -n 's/^local-hostname: *//p' $seed/meta-data | unquote)
[ -n "$hostname" ] && echo "$hostname" > /etc/hostname

if [ "$(cat $state/instance-id 2>/dev/null)" != "$instance" ]; then
    mkdir -p /root/.ssh
    chmod 700 /root/.ssh
    sed -n '/^public-keys:/,/^[^ ]/p' $seed/meta-data | grep '^ *- ' | unquote > /root/.ssh/authorized_keys
    chmod 600 /root/.ssh/authorized_keys
    password=$(sed -n 's/^ *password: *//p' $seed/vendor-data 2>/dev/null | unquote)
    if [ -n "$password" ]; then
        hash=$(mkpasswd -m sha512 "$password")
        sed -i "s|^root:[^:]*:|root:$hash:|" /etc/shadow
    fi
    rm -f $state/instance/boot-finished $state/instance/user-data-done
    echo "$instance" > $state/instance-id
fi
umount $seed
