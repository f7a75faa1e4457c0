#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tuned-adm recommend proposes kvm-dense while a real libvirtd runs, and not without one:
# kvmtune's rule in tuned's recommend.d (from make install or the packages; the tree's
# copy is put there for the test when none is, and taken away again). libvirtd is
# started by the test and stopped by pid.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

RULE=recommend.d/40-kvmtune.conf
DIR=$(/usr/bin/python3 -c 'import tuned.consts as c; print(c.RECOMMEND_DIRECTORIES[0])' 2>/dev/null)
PLACED=

cleanup() {
	tests/guests/guests.sh daemons-down >/dev/null 2>&1 || true
	[ -z "$PLACED" ] || rm -f "$PLACED"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v tuned-adm >/dev/null && [ -n "$DIR" ] || { echo "tuned is not installed"; exit 1; }
command -v libvirtd >/dev/null || { echo "libvirtd is missing: scripts/deps-debian.sh --test"; exit 1; }
if pgrep -x 'libvirtd|virtqemud' >/dev/null; then
	echo "a libvirtd or virtqemud this test did not start runs: stop it first"
	exit 1
fi
if [ ! -e "$DIR/$(basename $RULE)" ]; then
	install -D -m 0644 $RULE "$DIR/$(basename $RULE)"
	PLACED=$DIR/$(basename $RULE)
fi
expect "the installed rule is the tree's" cmp -s $RULE "$DIR/$(basename $RULE)"
# A rule of the host's own in recommend.conf would win over every recommend.d file.
expect "no /etc/tuned/recommend.conf overrides recommend.d" test ! -s /etc/tuned/recommend.conf

# tuned-adm asks the daemon when one runs, else reads the rules itself: both read them anew.
recommend() { tuned-adm recommend 2>/dev/null; }

without=$(recommend)
expect "without libvirtd: tuned-adm recommend answers" test -n "$without"
expect "without libvirtd: not kvm-dense ($without)" test "$without" != kvm-dense

tests/guests/guests.sh daemons-up >/dev/null || { failure "libvirtd starts"; summary; exit 1; }
expect "libvirtd runs" pgrep -x libvirtd
expect_eq "with libvirtd: tuned-adm recommend" "$(recommend)" kvm-dense

tests/guests/guests.sh daemons-down >/dev/null
expect "libvirtd stopped" test -z "$(pgrep -x libvirtd)"
expect_eq "libvirtd stopped: the recommendation is tuned's own again" "$(recommend)" "$without"
summary
