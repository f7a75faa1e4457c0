#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what kvmtune needs to build, run and be tested on Debian 12 (as root).
# --bench adds what bench/ only compares against (ksmtuned).
set -euo pipefail

BUILD=(gcc make pkg-config python3-dev libvirt-dev libnuma-dev libinih-dev libxml2-dev)
RUNTIME=(tuned dbus)
TEST=(libcmocka-dev clang libclang-rt-14-dev cppcheck clang-tidy
	libvirt-daemon-system qemu-system-x86 linux-image-cloud-amd64 busybox-static)
TEST+=(python3-jsonschema python3-prometheus-client)
BENCH=()
case ${1:-} in
--bench) BENCH=(ksmtuned) ;;
"") ;;
*) echo "deps-debian: unknown argument '$1': expected --bench or nothing" >&2; exit 2 ;;
esac

missing=()
for p in "${BUILD[@]}" "${RUNTIME[@]}" "${TEST[@]}" "${BENCH[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps-debian: everything is installed"
	exit 0
fi
echo "deps-debian: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# Recommends would pull a desktop stack into a server.
apt-get install -y -q --no-install-recommends "${missing[@]}"
