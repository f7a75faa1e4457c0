#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what kvmtune needs on Debian 12 (as root).
#
#   deps-debian.sh            build + runtime: what a production host needs to build kvmtune
#                             from source and run it under tuned, and nothing else
#   deps-debian.sh --test     adds the test tools and the test guests' QEMU and libvirtd, and
#                             downloads (never installs) the guests' kernel and the newer
#                             tuned the tests run into /var/cache/kvmtune
#   deps-debian.sh --bench    adds the test guests and what bench/ compares against (ksmtuned)
#   deps-debian.sh --list [--test] [--bench]
#                             prints the packages it would install, one a line
set -euo pipefail
cd "$(dirname "$0")/.."

# Compiler, headers and pkg-config files: kvmtune is built from source on the host.
BUILD=(gcc make pkg-config python3-dev libvirt-dev libnuma-dev libinih-dev libxml2-dev)
# tuned runs the plugins; the command and the extension link libvirt's client library
# and inih; tuned needs the system D-Bus.
RUNTIME=(tuned dbus libvirt0 libinih1)
# Unit tests, sanitizers, the fuzz targets and lint (groff checks the man pages); unshare
# runs the tuned 2.25 test in its own mount namespace (that tuned's Python dependencies
# are bookworm's tuned's).
TEST=(libcmocka-dev clang libclang-rt-14-dev cppcheck clang-tidy groff-base util-linux)
# kvmtune check's JSON schemas and Prometheus metrics, read back by the real parsers.
TEST+=(python3-jsonschema python3-prometheus-client)
# make deb, make rpm, lintian and the Ansible role (tests/packages, test-package.sh)
TEST+=(dpkg-dev debhelper dh-python lintian rpm cpio ansible-core python3-apt)
# The iosched test's dm-linear device on a loop device (where the kernel has device-mapper).
TEST+=(dmsetup)
# Real guests under libvirtd (tests/guests/): their kernel is downloaded, not installed.
GUESTS=(libvirt-daemon-system qemu-system-x86 busybox-static)
BENCH=(ksmtuned)

test=0 bench=0 list=0
for arg in "$@"; do
	case $arg in
	--test) test=1 ;;
	--bench) bench=1 ;;
	--list) list=1 ;;
	*) echo "deps-debian: unknown argument '$arg': expected --test, --bench, --list or nothing" >&2; exit 2 ;;
	esac
done

want=("${BUILD[@]}" "${RUNTIME[@]}")
((test)) && want+=("${TEST[@]}")
((test || bench)) && want+=("${GUESTS[@]}")
((bench)) && want+=("${BENCH[@]}")
if ((list)); then
	printf '%s\n' "${want[@]}"
	exit 0
fi

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps-debian: everything is installed"
else
	echo "deps-debian: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# Recommends would pull a desktop stack into a server.
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Downloaded into caches now, so that the tests need no network later.
if ((test || bench)); then
	echo "deps-debian: guest kernel $(tests/guests/guests.sh kernel)"
fi
if ((test)); then
	tests/integration/test-tuned-2.25.sh --fetch
fi
