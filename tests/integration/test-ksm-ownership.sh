#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Who owns KSM, in the real tuned daemon and with the real kvmtune command: one writer at
# a time (the KSM lock), `ksm watch` on a kernel whose advisor is on, restore of a journal
# that does not exist, a corrupt journal reported in tuned's log and kept aside, and
# `kvmtune restore --orphans` after a killed tuned comes back with another profile.
# KSM, /etc/tuned, the journals and the daemons are put back whatever fails.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

KVMTUNE=build/kvmtune
STATE=/var/lib/kvmtune
JOURNAL=$STATE/kvm_ksm-kvm_ksm.journal
SAVED_STATE=

cleanup() {
	stop_tuned
	stop_system_bus
	ksm_put_back
	etc_tuned_put_back
	rm -f $STATE/kvm_ksm-kvm_ksm.journal* $STATE/ksm-watch.journal*
	if [ -n "$SAVED_STATE" ]; then
		cp -a "$SAVED_STATE/." $STATE/ 2>/dev/null
		rm -rf "$SAVED_STATE"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -d $KSM ] || { echo "this kernel has no KSM"; exit 1; }
[ -x $KVMTUNE ] || { echo "build kvmtune first (make)"; exit 1; }
ksm_save
etc_tuned_save
# Journals of the host itself are set aside: this test must see only its own.
mkdir -p $STATE
SAVED_STATE=$(mktemp -d)
cp -a $STATE/. "$SAVED_STATE/"
rm -f $STATE/*.journal*
ksm_set run=0 pages_to_scan=123 sleep_millisecs=37 use_zero_pages=0
[ -e $KSM/advisor_mode ] && ksm_set advisor_mode=none

# 1. ksm watch on a kernel whose advisor is on: it turns the advisor off as kvm_ksm does,
#    writes its rate and run, and puts everything back on exit.
if [ -e $KSM/advisor_mode ]; then
	ksm_set advisor_mode=scan-time
	before=$(ksm_snapshot)
	out=$($KVMTUNE ksm watch --cycles=2 interval=1 thres_coef=100 libvirt_uri=none 2>&1)
	rc=$?
	expect_eq "watch under the advisor: exit status" "$rc" 0
	grep -q "run=1 pages=2500" <<<"$out" || sed 's/^/# /' <<<"$out"
	expect "watch under the advisor: merging was decided" grep -q "merging:" <<<"$out"
	expect "watch under the advisor: run=1 was written" grep -q "run=1 pages=2500" <<<"$out"
	expect_eq "watch under the advisor: no error" "$(grep -c 'error' <<<"$out")" 0
	expect_eq "watch under the advisor: every knob back" "$(ksm_snapshot)" "$before"
	expect "watch under the advisor: no journal left" test ! -e $STATE/ksm-watch.journal
	# Leaving scan-time resets pages_to_scan: set the recognisable value again.
	ksm_set advisor_mode=none pages_to_scan=123
fi
before=$(ksm_snapshot)

# 2. A journal that does not exist: an error naming the journals there are.
out=$($KVMTUNE ksm restore kvm_ksm-nothing 2>&1)
expect_eq "restore of a missing journal fails" "$?" 1
expect "restore of a missing journal names it" grep -q "no journal 'kvm_ksm-nothing'" <<<"$out"

start_system_bus || { echo "cannot start a system D-Bus"; exit 1; }
start_tuned || exit 1
tuned-adm profile virtual-host >/dev/null

# 3. A corrupt journal: one warning in tuned's log with where it was moved, kept aside.
printf 'kvmtune-journal 1\nrun=0\n' >$JOURNAL
mark_log
expect "with a corrupt journal: tuned-adm profile kvm-dense" tuned-adm profile kvm-dense
sleep 1
expect "tuned's log reports the corrupt journal" \
	grep -q "WARNING.*journal $JOURNAL is corrupt (truncated: no end line): moved to $JOURNAL.corrupt-" \
	<(log_since_mark)
expect "the corrupt journal is kept aside" compgen -G "$JOURNAL.corrupt-*"
expect "a fresh journal holds the originals" grep -qx "pages_to_scan=123" $JOURNAL
expect_eq "no error in tuned's log" "$(log_since_mark | grep -c ' ERROR ')" 0
rm -f $JOURNAL.corrupt-*

# 4. One writer of KSM at a time: tuned's instance holds the lock.
tuned_pid=$STARTED_TUNED_PID
status=$($KVMTUNE ksm status)
expect "ksm status names tuned's instance" \
	grep -q "Controlled by:  tuned instance kvm_ksm, mode dynamic (pid $tuned_pid, journal kvm_ksm-kvm_ksm)" <<<"$status"
snap=$(ksm_snapshot)
out=$($KVMTUNE ksm watch --cycles=1 2>&1)
expect_eq "a second controller is refused" "$?" 1
expect "the refusal names the holder" \
	grep -q "ksm is held by tuned instance kvm_ksm, mode dynamic (pid $tuned_pid)" <<<"$out"
expect_eq "the refused controller changed nothing" "$(ksm_snapshot)" "$snap"
out=$($KVMTUNE ksm restore kvm_ksm-kvm_ksm 2>&1)
expect_eq "a restore under tuned's feet is refused" "$?" 1
out=$($KVMTUNE restore --orphans 2>&1)
expect "restore --orphans leaves an applied journal alone" grep -q "is in use by tuned instance kvm_ksm" <<<"$out"
expect "the applied journal is still there" test -e $JOURNAL

# 5. tuned killed under kvm-dense and started again with a profile without kvm_ksm: the
#    journal is an orphan, and restore --orphans gives the originals back.
killed=$STARTED_TUNED_PID
kill -9 "$killed"
wait_gone "$killed"
STARTED_TUNED_PID=
echo virtual-host >/etc/tuned/active_profile
start_tuned || exit 1
expect_eq "restarted tuned runs virtual-host" "$(tuned-adm active | sed -n 's/^Current active profile: //p')" virtual-host
expect "the orphaned journal is still there" test -e $JOURNAL
expect "ksm status says nobody holds KSM" grep -q "Controlled by:  no kvmtune tuning" <($KVMTUNE ksm status)
orphans_count
out=$($KVMTUNE restore --orphans 2>&1)
expect_eq "restore --orphans succeeds" "$?" 0
expect "restore --orphans logs the journal" grep -q "KSM restored from the journal kvm_ksm-kvm_ksm" <<<"$out"
expect_orphans_restored "restore --orphans counts them" "$out"
expect_eq "after restore --orphans: originals back" "$(ksm_snapshot)" "$before"
expect "after restore --orphans: the journal is gone" test ! -e $JOURNAL

# 6. The same before tuned starts, as packages run it.
tuned-adm profile kvm-dense >/dev/null
sleep 1
killed=$STARTED_TUNED_PID
kill -9 "$killed"
wait_gone "$killed"
STARTED_TUNED_PID=
orphans_count
out=$($KVMTUNE restore --orphans 2>&1)
expect_orphans_restored "before tuned starts: restored" "$out"
expect_eq "before tuned starts: originals back" "$(ksm_snapshot)" "$before"
start_tuned || exit 1
expect_eq "tuned then applies kvm-dense again" "$(tuned-adm active | sed -n 's/^Current active profile: //p')" kvm-dense
tuned-adm profile virtual-host >/dev/null
expect_eq "and switching away puts back the same originals" "$(ksm_snapshot)" "$before"

summary
