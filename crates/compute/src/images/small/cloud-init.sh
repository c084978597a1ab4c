#!/bin/sh
# The part of cloud-init's command line that scripts wait with: `cloud-init status
# [--wait]`, answered from the small image's own boot.
[ "$1" = status ] || { echo "cloud-init: only 'status [--wait]' in this image" >&2; exit 2; }
if [ "$2" = --wait ]; then
    while [ ! -f /var/lib/cloud/instance/boot-finished ]; do sleep 1; done
fi
if [ -f /var/lib/cloud/instance/boot-finished ]; then echo "status: done"; else echo "status: running"; fi
