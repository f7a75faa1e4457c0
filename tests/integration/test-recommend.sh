#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tuned-adm recommend proposes kvm-dense while a real libvirtd runs, and not without one:
# kvmtune's rule in tuned's recommend.d (from make install or the packages; the tree's
# copy is put there for the test when none is, and taken away again). libvirtd is
# started by the test and stopped by pid. When a libvirtd the test did not start runs
# already, it is left alone, and "without" is asked in a PID namespace of its own, whose
# /proc shows no libvirtd.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

RULE=recommend.d/40-kvmtune.conf
DIR=$(/usr/bin/python3 -c 'import tuned.consts as c; print(c.RECOMMEND_DIRECTORIES[0])' 2>/dev/null)
PLACED=
OURS=

cleanup() {
	[ -z "$OURS" ] || tests/guests/guests.sh daemons-down >/dev/null 2>&1
	[ -z "$PLACED" ] || rm -f "$PLACED"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v tuned-adm >/dev/null && [ -n "$DIR" ] || { echo "tuned is not installed"; exit 1; }
command -v libvirtd >/dev/null || { echo "libvirtd is missing: scripts/deps-debian.sh --test"; exit 1; }
# A tuned daemon would answer instead, from its own view of the processes.
if tuned_pid >/dev/null || { system_bus_up && tuned_on_bus; }; then
	echo "a tuned daemon runs: stop it first (tuned-adm recommend then reads the rules itself)"
	exit 1
fi
if [ ! -e "$DIR/$(basename $RULE)" ]; then
	install -D -m 0644 $RULE "$DIR/$(basename $RULE)"
	PLACED=$DIR/$(basename $RULE)
fi
expect "the installed rule is the tree's" cmp -s $RULE "$DIR/$(basename $RULE)"
# A rule of the host's own in recommend.conf would win over every recommend.d file.
expect "no /etc/tuned/recommend.conf overrides recommend.d" test ! -s /etc/tuned/recommend.conf

recommend() { tuned-adm recommend 2>/dev/null; }
libvirt_pids() { { pgrep -x libvirtd; pgrep -x virtqemud; } | tr '\n' ' '; }
foreign=$(libvirt_pids)
without_libvirtd() {
	if [ -n "$foreign" ]; then unshare --pid --fork --mount-proc tuned-adm recommend 2>/dev/null
	else recommend; fi
}
[ -z "$foreign" ] || echo "# libvirt daemons not started by this test run (pid $foreign): left alone"

without=$(without_libvirtd)
expect "without libvirtd: tuned-adm recommend answers" test -n "$without"
expect "without libvirtd: not kvm-dense ($without)" test "$without" != kvm-dense

if [ -z "$foreign" ]; then
	OURS=1
	tests/guests/guests.sh daemons-up >/dev/null || { failure "libvirtd starts"; summary; exit 1; }
fi
expect "libvirtd runs" test -n "$(libvirt_pids)"
expect_eq "with libvirtd: tuned-adm recommend" "$(recommend)" kvm-dense

if [ -n "$OURS" ]; then
	tests/guests/guests.sh daemons-down >/dev/null
	OURS=
	# The stopped daemon is listed in /proc until its parent (init) has reaped it.
	for _ in $(seq 50); do [ -z "$(libvirt_pids)" ] && break; sleep 0.2; done
	expect_eq "libvirtd stopped" "$(libvirt_pids)" ""
fi
expect_eq "without libvirtd again: tuned's own answer" "$(without_libvirtd)" "$without"
summary
