#!/bin/sh
# Shutdown: stop SSH, flush and unmount, so the disk is clean for the next boot or a
# snapshot.
killall dropbear acpid udhcpc 2>/dev/null
sync
umount -a -r 2>/dev/null
mount -o remount,ro / 2>/dev/null
