#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Makes sure the tuned daemon runs, on hosts with systemd and on hosts without it
# (containers, minimal VMs), where the system D-Bus is started by hand first.
set -euo pipefail

on_bus() {
	dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
		org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'
}

if on_bus com.redhat.tuned; then
	exit 0
fi
if [ -d /run/systemd/system ]; then
	systemctl start tuned
	exit 0
fi
if ! dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
	org.freedesktop.DBus.GetId >/dev/null 2>&1; then
	mkdir -p /run/dbus
	rm -f /run/dbus/system_bus_socket /run/dbus/pid
	dbus-daemon --system --fork
fi
tuned -d
for _ in $(seq 100); do
	on_bus com.redhat.tuned && exit 0
	sleep 0.2
done
echo "tuned-up: tuned did not register on the system bus; see /var/log/tuned/tuned.log" >&2
exit 1
