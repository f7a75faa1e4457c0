#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the kvmtune binary RPM from packaging/rpm/kvmtune.spec with rpmbuild -bb, in a
# throw-away top directory, from a copy of the working tree (as build-deb.sh does).
#
# Usage: packaging/build-rpm.sh [OUTDIR [RPMBUILD-OPTION...]]
#   OUTDIR  where the .rpm files go (default: build/packages in the source tree)
#   RPMBUILD-OPTION  passed on, e.g. --define 'rhel 9' to build as for RHEL 9
#
# On a host without rpm's database of build dependencies (Debian's rpm package), the
# spec's BuildRequires cannot be checked: set RPMBUILD_NODEPS=1 (the default when
# /etc/debian_version exists) and install the Debian equivalents instead.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$src/build/packages}
shift || true
mkdir -p "$out"
out=$(cd "$out" && pwd)
spec=$src/packaging/rpm/kvmtune.spec

command -v rpmbuild >/dev/null || {
	echo "build-rpm: rpmbuild is missing: dnf install rpm-build, or apt-get install rpm" >&2
	exit 1
}
nodeps=${RPMBUILD_NODEPS:-}
if [ -z "$nodeps" ]; then
	if [ -e /etc/debian_version ]; then nodeps=1; else nodeps=0; fi
fi

version=$(rpmspec -q --srpm --qf '%{version}' "$spec")
work=$(mktemp -d /tmp/kvmtune-rpm.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{SOURCES,BUILD,RPMS,SRPMS,BUILDROOT}
"$src/packaging/copy-tree.sh" "$src" "$work/kvmtune-$version"
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner \
	-czf "$work/SOURCES/kvmtune-$version.tar.gz" "kvmtune-$version"

args=(-bb --define "_topdir $work" "$@")
[ "$nodeps" = 1 ] && args+=(--nodeps)
rpmbuild "${args[@]}" "$spec"

shopt -s nullglob
rpms=("$work"/RPMS/*/*.rpm)
[ "${#rpms[@]}" -gt 0 ] || { echo "build-rpm: rpmbuild produced no .rpm" >&2; exit 1; }
cp "${rpms[@]}" "$out"/
for f in "${rpms[@]}"; do echo "build-rpm: $out/${f##*/}"; done
