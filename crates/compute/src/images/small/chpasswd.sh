#!/bin/sh
# chpasswd for the small image (busybox-static has none), as QEMU's guest agent runs it
# for reset_password: "user:password" lines on stdin; with -e they are hashes already.
crypted=
[ "$1" = -e ] && crypted=1
while IFS= read -r line; do
    user=${line%%:*}
    password=${line#*:}
    if [ -n "$crypted" ]; then
        hash=$password
    else
        hash=$(mkpasswd -m sha512 "$password") || exit 1
    fi
    grep -q "^$user:" /etc/shadow || { echo "chpasswd: no user $user" >&2; exit 1; }
    sed -i "s|^$user:[^:]*:|$user:$hash:|" /etc/shadow || exit 1
done
