#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kvm_ksm inside the real tuned 2.25 daemon, the newest plugin API: Debian trixie's tuned
# package, downloaded once into a cache and unpacked there, never installed. kvmtune is
# installed into that tree, and the daemon runs in a private mount namespace where the
# tree's tuned package, /usr/lib/tuned, a fresh copy of its /etc/tuned, /run/tuned,
# /var/lib/tuned, /var/log/tuned and kvmtune's journal directory hide the system's, which
# stay untouched. Apply kvm-dense, verify, switch, off, a killed tuned restarted, and a
# profile of one's own that kvmtune profile new (built against this tuned) writes into
# tuned 2.25's user profile directory: KSM ends as it was. Then kvm-latency on 2.25's
# cpu-partitioning, through kvmtune's profile functions.
#
# --fetch only fills the cache (scripts/deps-debian.sh --test does). Environment:
# KT_TUNED_CACHE (default /var/cache/kvmtune/tuned-2.25) holds the tree; delete it to
# download again.
set -u
SELF=$(realpath "$0")
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

SUITE=trixie
WANT=2.25
CACHE=${KT_TUNED_CACHE:-/var/cache/kvmtune/tuned-$WANT}
TREE=$CACHE/root
PYPKG=/usr/lib/python3/dist-packages/tuned
# What the namespace hides, each with the private directory that takes its place.
PRIVATE=("$PYPKG" /usr/lib/tuned /etc/tuned /run/tuned /var/lib/tuned /var/log/tuned
	/var/lib/kvmtune)
JOURNAL=/var/lib/kvmtune/kvm_ksm-kvm_ksm.journal

tree_version() {
	sed -n 's/^TUNED_VERSION_\(MAJOR\|MINOR\|PATCH\) = \([0-9]*\)$/\2/p' "$TREE$PYPKG/version.py" 2>/dev/null |
		paste -sd.
}

# Downloads the package unless the cache has it; fails when the tree holds another version.
fetch() {
	local version
	if [ ! -s "$TREE/.fetched" ]; then
		echo "# downloading tuned from Debian $SUITE into $TREE"
		scripts/apt-fetch.sh --suite=$SUITE "$TREE" tuned || {
			echo "cannot download Debian $SUITE's tuned: the test needs the package archive once"
			return 1
		}
	fi
	version=$(tree_version)
	if [ "${version%.*}" != "$WANT" ]; then
		echo "$TREE holds tuned '$version', not $WANT: Debian $SUITE moved on; test the new version"
		return 1
	fi
}

WORK=
CREATED=()
outside_cleanup() {
	local d
	for d in "${CREATED[@]}"; do rmdir "$d"; done
	[ -z "$WORK" ] || rm -rf "$WORK"
}

# The host side: the download, kvmtune installed into the tree, the namespace's mount
# points (created when missing, removed afterwards), then this script again inside the
# namespace.
outside() {
	local rc=0 d version err

	[ -d $KSM ] || { echo "this kernel has no KSM: nothing to test"; exit 1; }
	# One tuned owns com.redhat.tuned at a time, whatever namespace it runs in.
	if tuned_pid >/dev/null || { system_bus_up && tuned_on_bus; }; then
		echo "a tuned is already running (pid $(tuned_pid || echo "unknown, on the system bus")), not started by this test: stop it first"
		exit 1
	fi
	if ! fetch; then
		failure "tuned $WANT from Debian $SUITE in $TREE (see above)"
		summary
		exit 1
	fi
	version=$(tree_version)
	echo "# tuned $version from $TREE"

	# The tree's own layout: tuned >= 2.23 keeps system profiles in /usr/lib/tuned/profiles.
	if ! make -s install DESTDIR="$TREE" TUNED_PLUGINS_DIR=$PYPKG/plugins \
		TUNED_PROFILES_DIR=/usr/lib/tuned/profiles >/dev/null; then
		failure "make install into $TREE"
		summary
		exit 1
	fi

	# kvmtune profile built against this tuned, as make does against the installed one.
	if ! PYTHONPATH=$TREE/usr/lib/python3/dist-packages make -s B=build/tuned-$WANT \
		build/tuned-$WANT/kvmtune >/dev/null; then
		failure "kvmtune built against tuned $WANT"
		summary
		exit 1
	fi
	export KT_TUNED_KVMTUNE=$PWD/build/tuned-$WANT/kvmtune

	if ! err=$(unshare --mount true 2>&1); then
		failure "a private mount namespace for tuned $WANT: $err"
		summary
		exit 1
	fi

	trap outside_cleanup EXIT
	trap 'exit 130' INT TERM
	WORK=$(mktemp -d /tmp/kvmtune-tuned-$WANT.XXXXXX)
	mkdir -p "$WORK"/{etc,run,lib,log,journal}
	cp -a "$TREE/etc/tuned/." "$WORK/etc/"
	for d in "${PRIVATE[@]}"; do
		[ -d "$d" ] && continue
		mkdir "$d" && CREATED+=("$d")
	done
	unshare --mount --propagation private bash "$SELF" --inside "$WORK" || rc=$?
	exit "$rc"
}

cleanup() {
	stop_tuned
	stop_system_bus
	ksm_put_back
	rm -f $JOURNAL
}

inside() {
	local work=$1
	mount --bind "$TREE$PYPKG" $PYPKG &&
		mount --bind "$TREE/usr/lib/tuned" /usr/lib/tuned &&
		mount --bind "$work/etc" /etc/tuned &&
		mount --bind "$work/run" /run/tuned &&
		mount --bind "$work/lib" /var/lib/tuned &&
		mount --bind "$work/log" /var/log/tuned &&
		mount --bind "$work/journal" /var/lib/kvmtune ||
		{ failure "private mounts for tuned $WANT"; summary; exit 1; }
	# tuned and tuned-adm run /usr/bin/python3 -Es: PYTHONPATH is ignored, the mount counts.
	PATH=$TREE/usr/sbin:$PATH

	trap cleanup EXIT
	trap 'exit 130' INT TERM
	ksm_save
	rm -f $JOURNAL
	start_system_bus || { echo "cannot start a system D-Bus"; exit 1; }
	if tuned_on_bus; then
		echo "another tuned owns com.redhat.tuned on the system bus: stop it first"
		exit 1
	fi
	start_tuned || { tail -n 30 $TUNED_LOG | sed 's/^/# log: /'; exit 1; }
	expect "the daemon is tuned $WANT" grep -q "TuneD: $WANT\." $TUNED_LOG
	expect_eq "tuned-adm is tuned $WANT's" "$(command -v tuned-adm)" "$TREE/usr/sbin/tuned-adm"
	tuned-adm profile virtual-host >/dev/null
	ksm_set "${ORIGINALS[@]}"
	before=$(ksm_snapshot)

	# 1. Apply and verify.
	mark_log
	expect "tuned-adm profile kvm-dense" tuned-adm profile kvm-dense
	# The controller's first decision comes from its own thread, right after the apply.
	sleep 2
	dense_expected "kvm-dense applied"
	expect "the journal holds the originals" grep -qx "use_zero_pages=0" $JOURNAL
	expect "tuned-adm verify passes" tuned-adm verify
	expect "verify reports each knob" grep -q "verify: passed: 'kvm_ksm.use_zero_pages' = '1'" \
		<(log_since_mark)

	# 2.-4. Switch, off, and a tuned killed and restarted: every knob back each time.
	dense_rollbacks "$before" || exit 1

	# 5. A profile of one's own, written by kvmtune profile new where this tuned loads it.
	local kt=$KT_TUNED_KVMTUNE conf=/etc/tuned/profiles/my-dense/tuned.conf
	expect_eq "kvmtune profile dirs: tuned $WANT's" "$($kt profile dirs)" \
		"$(printf 'system /usr/lib/tuned/profiles\nuser   /etc/tuned/profiles')"
	expect_eq "profile new my-dense --from kvm-dense" \
		"$($kt profile new my-dense --from kvm-dense 2>&1)" $conf
	sed -i 's/^#stable_node_chains_prune_millisecs=$/stable_node_chains_prune_millisecs=2345/' $conf
	expect "profile lint my-dense" $kt profile lint my-dense
	expect "tuned-adm profile my-dense" tuned-adm profile my-dense
	sleep 2
	expect "my-dense: tuned-adm verify passes" tuned-adm verify
	expect_eq "my-dense: its prune interval in effect" \
		"$(ksm_get stable_node_chains_prune_millisecs)" 2345
	[ -e $KSM/smart_scan ] && expect_eq "my-dense: kvm-dense's smart_scan too" "$(ksm_get smart_scan)" 1
	expect "tuned-adm profile virtual-host after my-dense" tuned-adm profile virtual-host
	expect_eq "after my-dense: every knob back" "$(ksm_snapshot)" "$before"

	# The whole log of both daemons, which no other tuned shares.
	expect_eq "no error in tuned's log" "$(grep -c ' ERROR ' $TUNED_LOG)" 0
	grep ' ERROR ' $TUNED_LOG | head -20 | sed 's/^/# /'

	# 5. kvm-latency on tuned 2.25's own cpu-partitioning: kvmtune's profile functions load
	#    through 2.25's class loader, the isolated_cores default goes into this daemon's
	#    private /etc/tuned and is said once, the boot loader unit is skipped with its
	#    warning where tuned cannot write one, and a switch puts KSM back. (cpu-partitioning
	#    logs errors of its own on this host, see the README: not counted here.)
	local varfile=/etc/tuned/kvm-latency-variables.conf
	sed -i '/^isolated_cores/d' $varfile
	mark_log
	expect "kvm-latency: tuned-adm profile kvm-latency" tuned-adm profile kvm-latency
	expect_eq "kvm-latency: the isolated_cores default said once" "$(log_since_mark |
		grep -c "WARNING .*isolated_cores was not set: wrote isolated_cores=[0-9].* to $varfile")" 1
	expect "kvm-latency: the default written" grep -q '^isolated_cores=[0-9]' $varfile
	if [ -e /boot/grub/grub.cfg ] || [ -d /boot/loader/entries ]; then
		echo "# this host has a boot loader tuned writes: no warning expected"
	else
		expect_eq "kvm-latency: the boot loader warning once" "$(log_since_mark |
			grep -c "WARNING .*tuned cannot update this host's boot loader")" 1
	fi
	expect_eq "kvm-latency: KSM run=2" "$(ksm_get run)" 2
	expect_eq "kvm-latency: no error from kvmtune's functions" \
		"$(log_since_mark | grep ' ERROR ' | grep -c 'kvmtune\|function')" 0
	expect "kvm-latency: tuned-adm profile virtual-host" tuned-adm profile virtual-host
	expect_eq "kvm-latency -> virtual-host: every knob back" "$(ksm_snapshot)" "$before"

	[ "$FAILED" -eq 0 ] || tail -n 30 $TUNED_LOG | sed 's/^/# log: /'
	summary
}

case ${1:-} in
--inside) inside "$2" ;;
--fetch) fetch && echo "tuned $(tree_version) in $TREE" ;;
*) outside ;;
esac
