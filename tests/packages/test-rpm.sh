#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The RPM, built here with rpmbuild -bb from Debian's rpm (make rpm), as Fedora and as
# RHEL 9: every plugin and profile of the tree in the directory tuned loads it from,
# the variables files as %config(noreplace), the man page, the tuned.service drop-in,
# Requires on tuned and on the shared libraries, and no scriptlet at all (nothing may
# restart tuned or switch its profile). Needs no root and touches nothing of the host.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

out=$(mktemp -d /tmp/kvmtune-test-rpm.XXXXXX)
trap 'rm -rf "$out"' EXIT

command -v rpmbuild >/dev/null || { echo "rpmbuild is missing: apt-get install rpm"; exit 1; }
sitelib=$(/usr/bin/python3 -Ic 'import sys; print("/usr/lib/python%d.%d/site-packages" % sys.version_info[:2])')

# check_rpm NAME RPM PROFILES_DIR
check_rpm() {
	local name=$1 rpm=$2 profiles=$3 files flags scripts f p
	files=$(rpm -qlp "$rpm")
	flags=$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm")
	for f in /usr/bin/kvmtune "$sitelib/tuned/plugins/_kvmtune.abi3.so" \
		/usr/lib/systemd/system/tuned.service.d/kvmtune.conf; do
		expect "$name: $f" grep -qx "$f" <<<"$files"
	done
	expect "$name: the man page of the command" grep -q '^/usr/share/man/man8/kvmtune\.8' <<<"$files"
	expect "$name: the man page of the profiles" \
		grep -q '^/usr/share/man/man7/tuned-profiles-kvm\.7' <<<"$files"
	expect "$name: the recommend.d rule" \
		grep -qx '/usr/lib/tuned/recommend.d/40-kvmtune.conf' <<<"$files"
	for f in plugins/*.py; do
		f=$(basename "$f")
		expect "$name: plugin $f" grep -qx "$sitelib/tuned/plugins/$f" <<<"$files"
		expect "$name: plugin $f byte-compiled" \
			grep -q "^$sitelib/tuned/plugins/__pycache__/${f%.py}\.cpython-.*\.pyc$" <<<"$files"
	done
	for f in plugins/functions/*.py; do
		f=$(basename "$f")
		expect "$name: profile function $f" \
			grep -qx "$sitelib/tuned/profiles/functions/$f" <<<"$files"
		expect "$name: profile function $f byte-compiled" grep -q \
			"^$sitelib/tuned/profiles/functions/__pycache__/${f%.py}\.cpython-.*\.pyc$" <<<"$files"
	done
	for p in profiles/*/; do
		p=$(basename "$p")
		expect "$name: profile $p in $profiles" grep -qx "$profiles/$p/tuned.conf" <<<"$files"
		for f in profiles/"$p"/*-variables.conf; do
			[ -e "$f" ] || continue
			f=$(basename "$f")
			expect "$name: /etc/tuned/$f is %config(noreplace)" \
				grep -qx "cn /etc/tuned/$f" <<<"$flags"
			expect "$name: $f is not left in the profile" \
				test -z "$(grep -x "$profiles/$p/$f" <<<"$files")"
		done
	done
	expect_eq "$name: no file outside the package's places" \
		"$(grep -v -e '^/usr/bin/kvmtune$' -e "^$sitelib/tuned/plugins/" \
			-e "^$sitelib/tuned/profiles/functions/\(__pycache__/\)\?function_kvmtune_" -e "^$profiles/kvm-" \
			-e '^/etc/tuned/kvm-.*-variables\.conf$' -e '^/usr/lib/systemd/system/tuned\.service\.d' \
			-e '^/usr/lib/tuned/recommend\.d/40-kvmtune\.conf$' \
			-e '^/usr/share/\(man\|doc\|licenses\|kvmtune\)/' -e '^/usr/share/kvmtune$' -e '^/usr/lib/\.build-id' \
			-e '^/var/lib/kvmtune$' <<<"$files")" ""
	expect "$name: /var/lib/kvmtune is the package's, mode 0700" \
		grep -qx 'drwx------ /var/lib/kvmtune' <(rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm")
	scripts=$(rpm -qp --scripts --triggers "$rpm")
	expect_eq "$name: no scriptlet or trigger" "$scripts" ""
	expect "$name: Requires tuned >= 2.20" grep -qx 'tuned >= 2.20' <(rpm -qpR "$rpm")
	expect "$name: no upper bound on tuned" test -z "$(rpm -qpR "$rpm" | grep '^tuned <')"
	expect "$name: Requires libvirt's library" grep -q '^libvirt\.so\.0' <(rpm -qpR "$rpm")
	expect "$name: Requires inih's library" grep -q '^libinih\.so\.1' <(rpm -qpR "$rpm")
}

# check_payload NAME RPM PROFILES_DIR: the files themselves.
check_payload() {
	local name=$1 rpm=$2 profiles=$3 root
	root=$(mktemp -d "$out/root.XXXXXX")
	(cd "$root" && rpm2cpio "$rpm" | cpio -idm --quiet)
	expect "$name: the drop-in runs restore --orphans before tuned" \
		grep -qx 'ExecStartPre=-/usr/bin/kvmtune restore --orphans' \
		"$root/usr/lib/systemd/system/tuned.service.d/kvmtune.conf"
	expect "$name: kvm-dense reads its variables file" \
		grep -qx 'include=/etc/tuned/kvm-dense-variables.conf' "$root$profiles/kvm-dense/tuned.conf"
	# tuned moved user profiles to /etc/tuned/profiles along with the system ones.
	expect_eq "$name: kvmtune profile writes where this tuned loads profiles" \
		"$("$root/usr/bin/kvmtune" profile dirs)" \
		"$(printf 'system %s\nuser   /etc/tuned%s' "$profiles" "${profiles#/usr/lib/tuned}")"
	for m in "$root"/usr/share/man/man*/*; do
		expect_eq "$name: $(basename "$m") renders without a warning" \
			"$(zcat -f "$m" | LC_ALL=C.UTF-8 groff -man -ww -z 2>&1)" ""
	done
}

build() { # NAME OUTDIR RPMBUILD-OPTION...
	local name=$1 dir=$2 log
	shift 2
	mkdir -p "$dir"
	log=$(packaging/build-rpm.sh "$dir" "$@" 2>&1) && pass "$name: rpmbuild -bb" && return 0
	failure "$name: rpmbuild -bb"
	tail -30 <<<"$log" | sed 's/^/# /'
	return 1
}

if build fedora "$out/fedora"; then
	rpm=$(ls "$out"/fedora/kvmtune-[0-9]*.rpm)
	check_rpm fedora "$rpm" /usr/lib/tuned/profiles
	check_payload fedora "$rpm" /usr/lib/tuned/profiles
fi
# tuned's own spec keeps /usr/lib/tuned on RHEL below 10: so does ours.
if build rhel9 "$out/rhel9" --define 'rhel 9'; then
	rpm=$(ls "$out"/rhel9/kvmtune-[0-9]*.rpm)
	check_rpm rhel9 "$rpm" /usr/lib/tuned
	check_payload rhel9 "$rpm" /usr/lib/tuned
fi
summary
