#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Moves each profile's <profile>-variables.conf from the installed profile directory to
# /etc/tuned, where the packages own it as a configuration file, and enables the
# profile's commented '#include=/etc/tuned/<profile>-variables.conf', as tuned's own
# Makefile does for cpu-partitioning and realtime. Shared by debian/rules and the RPM spec.
#
# Usage: packaging/install-variables.sh DESTDIR PROFILES_DIR [SYSCONFDIR]
set -eu

destdir=$1
profiles=$destdir$2
conf=$destdir${3:-/etc}/tuned

for f in "$profiles"/*/*-variables.conf; do
	[ -e "$f" ] || continue
	name=${f##*/}
	dir=${f%/*}
	include="include=${3:-/etc}/tuned/$name"
	mkdir -p "$conf"
	mv "$f" "$conf/$name"
	chmod 0644 "$conf/$name"
	sed -i "s|^#$include\$|$include|" "$dir/tuned.conf"
	grep -qx "$include" "$dir/tuned.conf" || {
		echo "install-variables: ${dir##*/}/tuned.conf has no line '#$include' to enable" >&2
		exit 1
	}
	echo "install-variables: ${dir##*/} reads $conf/$name"
done
