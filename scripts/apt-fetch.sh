#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Downloads Debian packages and unpacks them into a directory, never installing them:
# the test guests' kernel and a newer tuned for the tests live in caches, not on the host.
#
#   apt-fetch.sh [--suite=SUITE] [--depends] DEST PACKAGE...
#
# The packages come from this system's Debian repositories (the Packages indexes of its
# release and of its -updates/-security suites), or from the same repositories' SUITE
# (trixie, trixie-updates, trixie-security) with --suite. apt runs with a sources list,
# state and cache of its own in a temporary directory: the system's package lists and
# archive cache are neither read nor changed. With --depends, what each PACKAGE depends on
# directly is fetched instead of PACKAGE (a metapackage's real package).
#
# DEST appears complete or not at all: the packages are unpacked (dpkg-deb -x) next to it
# and renamed into place, with DEST/.fetched listing "package version" per line.
set -euo pipefail

die() {
	printf 'apt-fetch: %s\n' "$*" >&2
	exit 1
}

suite='' depends=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--suite=*) suite=${1#--suite=} ;;
	--depends) depends=1 ;;
	-*) die "unknown option '$1'" ;;
	*) break ;;
	esac
	shift
done
[[ $# -ge 2 ]] || die "usage: apt-fetch.sh [--suite=SUITE] [--depends] DEST PACKAGE..."
dest=$1
shift
[[ $dest == /* ]] || die "DEST must be an absolute path, not '$dest'"
[[ -z $suite || $suite =~ ^[a-z][a-z0-9-]*$ ]] || die "bad suite '$suite'"

# A cache is replaced as a whole: never remove a directory this script did not make.
if [[ -e $dest && ! -e $dest/.fetched ]] && [[ -n $(ls -A "$dest" 2>/dev/null) || ! -d $dest ]]; then
	die "$dest exists and was not made by apt-fetch.sh: move it away first"
fi

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ -n $codename ]] || die "/etc/os-release names no VERSION_CODENAME"

work=$(mktemp -d "${TMPDIR:-/tmp}/kvmtune-apt.XXXXXX")
chmod 755 "$work"
trap 'rm -rf "$work" "$dest.new.$$"' EXIT

# The system's own entries for its release and that release's -updates/-security
# suites, one "deb URI SUITE COMPONENT" line each, with the suite replaced when asked.
# --no-release-info: the entries as configured, also before any apt-get update.
apt-get indextargets --no-release-info --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
	'Created-By: Packages' |
	sort -u | while read -r uri release component; do
		[[ $release == "$codename" || $release == "$codename"-* ]] || continue
		[[ -n $suite ]] && release=$suite${release#"$codename"}
		printf 'deb %s %s %s\n' "$uri" "$release" "$component"
	done >"$work/sources.list"
[[ -s $work/sources.list ]] ||
	die "no apt source of this system serves $codename: see /etc/apt/sources.list{,.d}"

mkdir -p "$work/state/lists/partial" "$work/cache/archives/partial" "$work/debs"
# apt downloads as the unprivileged _apt user where it exists.
if id _apt >/dev/null 2>&1; then chown -R _apt "$work/state/lists" "$work/debs"; fi
apt_opts=(-q -o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State=$work/state" -o "Dir::Cache=$work/cache")

if ! out=$(apt-get "${apt_opts[@]}" update 2>&1) || grep -qE '^(E:|W: (Failed|Some index))' <<<"$out"; then
	printf '%s\n' "$out" >&2
	die "apt-get update failed for $(awk '{print $3}' "$work/sources.list" | sort -u | tr '\n' ' ')(no network or no such suite?)"
fi

pkgs=()
for p in "$@"; do
	if ((depends)); then
		mapfile -t -O "${#pkgs[@]}" pkgs < <(apt-cache "${apt_opts[@]}" depends --no-recommends \
			--no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "$p" |
			sed -n 's/^  Depends: \([^<>]*\)$/\1/p')
	else
		pkgs+=("$p")
	fi
done
[[ ${#pkgs[@]} -gt 0 ]] || die "$* depends on nothing that can be downloaded"

(cd "$work/debs" && apt-get "${apt_opts[@]}" download "${pkgs[@]}" >&2) ||
	die "cannot download ${pkgs[*]} from $(cut -d' ' -f2- "$work/sources.list" | tr '\n' ';')"

rm -rf "$dest.new.$$"
mkdir -p "$dest.new.$$"
chmod 755 "$dest.new.$$"
for deb in "$work"/debs/*.deb; do
	dpkg-deb -x "$deb" "$dest.new.$$"
	printf '%s %s\n' "$(dpkg-deb -f "$deb" Package)" "$(dpkg-deb -f "$deb" Version)" \
		>>"$dest.new.$$/.fetched"
done
rm -rf "$dest"
mv "$dest.new.$$" "$dest"
