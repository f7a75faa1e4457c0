#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the kvmtune .deb from a clean copy of the working tree, so that neither build/
# nor a debian/ directory is left in the tree, and uncommitted changes are included.
#
# Usage: packaging/build-deb.sh [--source] [OUTDIR]
#   OUTDIR    where the .deb files go (default: build/packages in the source tree)
#   --source  also build the source package (.orig.tar.gz, .debian.tar.xz, .dsc)
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source_too=0
if [ "${1:-}" = --source ]; then
	source_too=1
	shift
fi
out=${1:-$src/build/packages}
mkdir -p "$out"
out=$(cd "$out" && pwd)

for tool in dpkg-buildpackage dh dh_python3; do
	command -v "$tool" >/dev/null || {
		echo "build-deb: $tool is missing: apt-get install --no-install-recommends dpkg-dev debhelper dh-python" >&2
		exit 1
	}
done

version=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)
upstream=${version%-*}
work=$(mktemp -d /tmp/kvmtune-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
tree=$work/kvmtune-$upstream

"$src/packaging/copy-tree.sh" "$src" "$tree"
rm -rf "$tree/debian"

build=(-b)
if [ "$source_too" = 1 ]; then
	# The orig tarball is the tree before debian/ is added: format 3.0 (quilt) keeps
	# debian/ in a separate .debian.tar.xz.
	tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner \
		-czf "$work/kvmtune_$upstream.orig.tar.gz" "kvmtune-$upstream"
	build=()
fi

cp -a "$src/packaging/debian" "$tree/debian"
chmod 0755 "$tree/debian/rules"

(cd "$tree" && dpkg-buildpackage -us -uc "${build[@]}")

shopt -s nullglob
debs=("$work"/*.deb)
[ "${#debs[@]}" -gt 0 ] || { echo "build-deb: dpkg-buildpackage produced no .deb" >&2; exit 1; }
cp "${debs[@]}" "$work"/*.buildinfo "$work"/*.changes "$out"/
if [ "$source_too" = 1 ]; then
	cp "$work"/*.orig.tar.gz "$work"/*.debian.tar.* "$work"/*.dsc "$out"/
fi
for f in "$out"/kvmtune*_"$upstream"[.-]*; do
	echo "build-deb: $f"
done
