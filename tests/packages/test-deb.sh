#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The .deb as make deb builds it (dpkg-buildpackage -us -uc -b): lintian clean, every
# plugin and profile of the tree where tuned 2.20 and tuned >= 2.23 load it, the
# variables files as conffiles, the man pages (rendered without a warning), the
# recommend.d rule, the tuned.service drop-in, Depends on tuned
# without an upper bound and on the shared libraries, and maintainer scripts that neither
# restart tuned nor switch its profile. Touches nothing of the host: installing the
# package is tests/integration/test-package.sh.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

out=$(mktemp -d /tmp/kvmtune-test-deb.XXXXXX)
trap 'rm -rf "$out"' EXIT
PLUGINS=/usr/lib/python3/dist-packages/tuned/plugins
for tool in dpkg-buildpackage dh dh_python3 lintian; do
	command -v $tool >/dev/null || { echo "$tool is missing: scripts/deps-debian.sh"; exit 1; }
done

if log=$(packaging/build-deb.sh "$out/packages" 2>&1); then pass "dpkg-buildpackage -us -uc -b"; else
	failure "dpkg-buildpackage -us -uc -b"
	tail -30 <<<"$log" | sed 's/^/# /'
	summary
	exit 1
fi
deb=$(ls "$out"/packages/kvmtune_*.deb)

tags=$(lintian --pedantic "$out"/packages/kvmtune_*.changes 2>&1 | grep -v 'running with root privileges')
expect_eq "lintian: no error or warning (overrides carry their reason)" \
	"$(grep -E '^[EW]: ' <<<"$tags")" ""

files=$(dpkg-deb -c "$deb" | awk '{ print $6 ($7 == "->" ? " -> " $8 : "") }' | sed 's|^\./|/|')
for f in /usr/bin/kvmtune $PLUGINS/_kvmtune.abi3.so /usr/share/man/man8/kvmtune.8.gz \
	/usr/share/man/man7/tuned-profiles-kvm.7.gz /usr/lib/tuned/recommend.d/40-kvmtune.conf \
	/usr/lib/systemd/system/tuned.service.d/kvmtune.conf; do
	expect "$f" grep -qx "$f" <<<"$files"
done
for f in plugins/*.py; do
	expect "plugin $(basename "$f")" grep -qx "$PLUGINS/$(basename "$f")" <<<"$files"
done
for f in plugins/functions/*.py; do
	expect "profile function $(basename "$f")" \
		grep -qx "${PLUGINS%/plugins}/profiles/functions/$(basename "$f")" <<<"$files"
done
dpkg-deb -e "$deb" "$out/control"
for p in profiles/*/; do
	p=$(basename "$p")
	expect "profile $p where tuned >= 2.23 loads it" \
		grep -qx "/usr/lib/tuned/profiles/$p/tuned.conf" <<<"$files"
	expect "profile $p where tuned 2.20 loads it" \
		grep -qx "/usr/lib/tuned/$p -> profiles/$p" <<<"$files"
	for f in profiles/"$p"/*-variables.conf; do
		[ -e "$f" ] || continue
		f=$(basename "$f")
		expect "/etc/tuned/$f is a conffile" grep -qx "/etc/tuned/$f" "$out/control/conffiles"
	done
done

expect "/var/lib/kvmtune is the package's, mode 0700" \
	grep -q '^drwx------ .* \./var/lib/kvmtune/$' <(dpkg-deb -c "$deb")
depends=$(dpkg-deb -f "$deb" Depends)
expect "Depends: tuned (>= 2.20)" grep -q 'tuned (>= 2.20)' <<<"$depends"
expect "no upper bound on tuned" test -z "$(grep 'tuned (<<' <<<"$depends")"
expect "Depends on libvirt's library" grep -q 'libvirt0' <<<"$depends"
expect "Depends on inih's library" grep -q 'libinih1' <<<"$depends"
scripts=$(cat "$out"/control/{preinst,postinst,prerm,postrm} 2>/dev/null | grep -v '^\s*#')
expect_eq "no maintainer script runs tuned-adm or tuned" \
	"$(grep -E 'tuned-adm|/usr/sbin/tuned|tuned -d|invoke-rc\.d|(restart|try-restart|reload-or-restart|start|stop) tuned' <<<"$scripts")" ""

root=$out/root
dpkg-deb -x "$deb" "$root"
expect "the drop-in runs restore --orphans before tuned" \
	grep -qx 'ExecStartPre=-/usr/bin/kvmtune restore --orphans' \
	"$root/usr/lib/systemd/system/tuned.service.d/kvmtune.conf"
for m in usr/share/man/man8/kvmtune.8.gz usr/share/man/man7/tuned-profiles-kvm.7.gz; do
	expect_eq "$m renders without a warning" \
		"$(zcat "$root/$m" | LC_ALL=C.UTF-8 groff -man -ww -z 2>&1)" ""
done
expect "kvmtune profile has this tuned's user profile directory built in" \
	grep -qx "user   $(/usr/bin/python3 -c 'import tuned.consts as c; print(getattr(c, "USER_PROFILES_DIR", None) or c.LOAD_DIRECTORIES[-1])')" \
	<("$root/usr/bin/kvmtune" profile dirs)
expect "kvm-dense reads its variables file" \
	grep -qx 'include=/etc/tuned/kvm-dense-variables.conf' "$root/usr/lib/tuned/profiles/kvm-dense/tuned.conf"
summary
