#!/bin/sh
# busybox acpid runs this on the ACPI power button (libvirt's shutdown).
poweroff
