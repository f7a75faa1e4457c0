#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A profile of one's own through the real tuned: kvmtune profile new my-dense --from
# kvm-dense, two options overridden, kvmtune profile lint passes, tuned-adm profile
# my-dense and tuned-adm verify pass and both values are in effect on the host (and
# kvm-dense's others with them); a bad value fails lint with the very text the plugin
# logs in tuned's log. The profile, the active profile, KSM and /etc/tuned are put back,
# whatever fails; tuned, D-Bus and libvirtd are stopped by pid when the test started them.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

KT=${KVMTUNE:-build/kvmtune}
GUESTS=tests/guests/guests.sh
NAME=my-dense
JOURNAL=/var/lib/kvmtune/kvm_ksm-kvm_ksm.journal
CREATED=
OURS_LIBVIRTD=

cleanup() {
	if [ -n "$STARTED_TUNED_PID" ]; then tuned-adm profile virtual-host >/dev/null 2>&1; fi
	stop_tuned
	stop_system_bus
	[ -z "$OURS_LIBVIRTD" ] || $GUESTS daemons-down >/dev/null 2>&1
	ksm_put_back
	[ -z "$CREATED" ] || rm -rf "$CREATED"
	etc_tuned_put_back
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -d $KSM ] || { echo "this kernel has no KSM: nothing to test"; exit 1; }
command -v tuned >/dev/null || { echo "tuned is not installed"; exit 1; }
[ -f "$(/usr/bin/python3 -c 'import os, tuned.plugins as p; print(os.path.dirname(p.__file__))')/plugin_kvm_ksm.py" ] ||
	{ echo "kvmtune is not installed into tuned: run make install"; exit 1; }
[ -x "$KT" ] || { echo "$KT is missing: run make"; exit 1; }
USER_DIR=$($KT profile dirs | sed -n 's/^user *//p')
[ -e "$USER_DIR/$NAME" ] && { echo "$USER_DIR/$NAME exists: this test creates it"; exit 1; }

ksm_save
etc_tuned_save
# A KVM host's profile expects libvirt (kvm-dense's sections read the guests from it).
libvirt_answers() { virsh -q -c qemu:///system uri >/dev/null 2>&1; }
if ! libvirt_answers; then
	OURS_LIBVIRTD=1
	$GUESTS daemons-up >/dev/null || { echo "cannot start libvirtd"; exit 1; }
fi
expect "libvirt answers" libvirt_answers
start_system_bus || { echo "cannot start a system D-Bus"; exit 1; }
start_tuned || exit 1
tuned-adm profile virtual-host >/dev/null
# kvm-dense sets use_zero_pages=1, the kernel's default prune interval is 2000 ms: the
# overrides below can only come from the new profile.
ksm_set "${ORIGINALS[@]}" use_zero_pages=1 stable_node_chains_prune_millisecs=2000
before=$(ksm_snapshot)

# 1. profile new writes the user's profile where this tuned loads it.
out=$($KT profile new $NAME --from kvm-dense 2>&1)
rc=$?
CREATED=$USER_DIR/$NAME
CONF=$CREATED/tuned.conf
expect_eq "profile new: exit status" "$rc" 0
expect_eq "profile new: prints the file" "$out" "$CONF"
expect "profile new: includes kvm-dense" grep -qx 'include=kvm-dense' "$CONF"
expect "profile new: kvm-dense's variable, commented" grep -qx '#ksm_cpu_budget=50' "$CONF"
expect "profile new: kvm-dense's value, commented" grep -qx '#use_zero_pages=1' "$CONF"
expect "profile new: the plugin's default, commented" grep -qx '#interval=5' "$CONF"
expect "profile new: a meaning above each" grep -qx '# boolean: merge zero-filled pages with the kernel.s zero page' "$CONF"
expect_eq "profile new: an existing profile is refused" \
	"$($KT profile new $NAME --from kvm-dense 2>&1; echo "rc=$?")" \
	"kvmtune: error: profile '$NAME' exists: $CREATED; choose another name or remove it first
rc=1"
expect_eq "profile new: a bad name is refused" "$($KT profile new ../x --from kvm-dense 2>&1; echo "rc=$?")" \
	"kvmtune: error: profile name '../x' is invalid: expected 1..64 of [A-Za-z0-9_.-], not starting with '.'
rc=1"

# 2. Two options overridden, as a person would: uncomment and change.
sed -i -e 's/^#use_zero_pages=1$/use_zero_pages=0/' \
	-e 's/^#stable_node_chains_prune_millisecs=$/stable_node_chains_prune_millisecs=2345/' "$CONF"
expect_eq "two options uncommented" \
	"$(grep -cE '^(use_zero_pages=0|stable_node_chains_prune_millisecs=2345)$' "$CONF")" 2
out=$($KT profile lint $NAME 2>&1)
rc=$?
expect_eq "profile lint passes" "$rc" 0
expect_eq "profile lint says so" "$(tail -1 <<<"$out")" "$NAME: 0 errors, 0 warnings"

# 3. Applied through the real tuned, verified, and in effect on the host.
mark_log
expect "tuned-adm profile $NAME" tuned-adm profile $NAME
sleep 2
expect_eq "active profile" "$(tuned-adm active | sed -n 's/^Current active profile: //p')" $NAME
expect "tuned-adm verify passes" tuned-adm verify
expect_eq "override 1 in effect: use_zero_pages" "$(ksm_get use_zero_pages)" 0
expect_eq "override 2 in effect: stable_node_chains_prune_millisecs" \
	"$(ksm_get stable_node_chains_prune_millisecs)" 2345
[ -e $KSM/smart_scan ] && expect_eq "kvm-dense's own values too: smart_scan" "$(ksm_get smart_scan)" 1
expect "the controller of kvm-dense runs" grep -q 'mode dynamic' <($KT ksm status)
expect_eq "no error in tuned's log" "$(log_since_mark | grep -c ' ERROR ')" 0

# 4. A bad value: lint fails with the text tuned's log then shows for the plugin.
sed -i -e 's/^#pages_to_scan=$/pages_to_scan=-5/' "$CONF"
out=$($KT profile lint $NAME 2>&1)
rc=$?
expect_eq "bad value: lint fails" "$rc" 1
lint_line=$(grep '^error: ' <<<"$out" | sed 's/^error: //')
expect_eq "bad value: lint names it" "$lint_line" \
	"kvm_ksm: pages_to_scan=-5 is invalid: expected an integer 0..100000"
expect_eq "bad value: lint counts it" "$(tail -1 <<<"$out")" "$NAME: 1 error, 0 warnings"
expect_eq "bad value: --json says so too" \
	"$($KT profile lint --json $NAME | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["ok"], d["errors"], d["messages"][0]["text"])')" \
	"False 1 $lint_line"
mark_log
tuned-adm profile $NAME >/dev/null 2>&1
sleep 1
# tuned's line: "<time> ERROR <logger>: kvm_ksm: <the library's messages>; <what was left>".
log_line=$(log_since_mark | grep ' ERROR ' | grep -F 'pages_to_scan=-5' | head -1 |
	sed 's/^.* ERROR  *[A-Za-z0-9_.]*: //')
expect "bad value: tuned logs it" test -n "$log_line"
expect_eq "bad value: lint's text is the plugin's in tuned's log" "${log_line%; *}" "$lint_line"
expect_eq "bad value: the good tuning undone, the bad one changed nothing" "$(ksm_snapshot)" "$before"

# 5. Back to the previous profile: every knob as before, then the profile removed.
expect "tuned-adm profile virtual-host" tuned-adm profile virtual-host
expect_eq "every knob back" "$(ksm_snapshot)" "$before"
expect "no journal left" test ! -e $JOURNAL
rm -rf "$CREATED"
CREATED=
expect "the profile is gone" test ! -e "$USER_DIR/$NAME"
summary
