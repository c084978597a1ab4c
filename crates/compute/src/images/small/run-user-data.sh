#!/bin/sh
# Runs a user-data script (one starting with #!) once per instance, after boot, logging
# to /var/log/cloud-init-output.log; then marks the boot finished where cloud-init does.
state=/var/lib/cloud/instance
data=$state/user-data.txt
if [ ! -f $state/user-data-done ] && head -c 2 $data 2>/dev/null | grep -q '^#!'; then
    cp $data $state/user-data.sh
    chmod 700 $state/user-data.sh
    $state/user-data.sh >> /var/log/cloud-init-output.log 2>&1
    echo $? > $state/user-data-done
fi
date +%s > $state/boot-finished
