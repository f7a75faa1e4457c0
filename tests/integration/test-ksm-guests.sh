#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The dynamic KSM controller inside the real tuned, with real QEMU (TCG) guests under a
# real libvirtd: a running "ksmtuned" is left alone; guests up and the profile applied,
# sharing rises and the controller settles; the profile switched, KSM is back where it
# was. Guests, daemons, KSM and /etc/tuned are put back whatever fails.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

GUESTS=tests/guests/guests.sh
PREFIX=ktit
# Two guests sharing 96 MiB: at least 96 MiB merge (one copy of the shared pages stays).
SHARED_MIB=96
FAKE_DIR=
FAKE_PID=

cleanup() {
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	[ -n "$FAKE_DIR" ] && rm -rf "$FAKE_DIR"
	stop_tuned
	stop_system_bus
	$GUESTS down $PREFIX >/dev/null 2>&1
	$GUESTS daemons-down >/dev/null 2>&1
	ksm_put_back
	etc_tuned_put_back
	rm -f /var/lib/kvmtune/kvm_ksm-kvm_ksm.journal
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -d $KSM ] || { echo "this kernel has no KSM"; exit 1; }
ksm_save
etc_tuned_save
ksm_set run=0 pages_to_scan=100 sleep_millisecs=20
before=$(ksm_snapshot)

saved_mib() {
	local z=0
	[ -e $KSM/ksm_zero_pages ] && z=$(cat $KSM/ksm_zero_pages)
	echo $(((($(cat $KSM/pages_sharing) + z) * $(getconf PAGESIZE)) >> 20))
}

ksm_is() { [ "$(ksm_get "$1")" = "$2" ]; }
saved_at_least() { [ "$(saved_mib)" -ge "$1" ]; }
log_has() { log_since_mark | grep -q "$1"; }

# wait_for SECONDS COMMAND...: polls until the command succeeds.
wait_for() {
	local limit=$1
	shift
	for _ in $(seq $((limit * 2))); do "$@" && return 0; sleep 0.5; done
	return 1
}

$GUESTS daemons-up || exit 1
$GUESTS up 2 256 $SHARED_MIB 32 $PREFIX || exit 1
start_system_bus || exit 1
start_tuned || exit 1

mkdir -p /etc/tuned/kvmtune-test-guests
cat >/etc/tuned/kvmtune-test-guests/tuned.conf <<'CONF'
[main]
summary=kvmtune test: kvm-dense, KSM needed whatever the guests use
include=kvm-dense
[variables]
ksm_thres_coef=100
[kvm_ksm]
interval=1
CONF

# 1. Another KSM controller runs: kvmtune leaves KSM to it, with one message.
FAKE_DIR=$(mktemp -d)
cp /bin/sleep "$FAKE_DIR/ksmtuned"
"$FAKE_DIR/ksmtuned" 600 &
FAKE_PID=$!
mark_log
expect "with ksmtuned running: tuned-adm profile" tuned-adm profile kvmtune-test-guests
sleep 4
expect_eq "with ksmtuned running: KSM left alone" "$(ksm_get run)" 0
expect_eq "with ksmtuned running: one message naming it" \
	"$(log_since_mark | grep -c "ksmtuned (pid $FAKE_PID) controls KSM")" 1
tuned-adm profile virtual-host >/dev/null
kill "$FAKE_PID"
wait "$FAKE_PID" 2>/dev/null
FAKE_PID=

# 2. The controller merges the guests' shared memory, then settles.
mark_log
expect "tuned-adm profile kvmtune-test-guests" tuned-adm profile kvmtune-test-guests
expect "KSM started" wait_for 10 ksm_is run 1
expect "sharing rises past ${SHARED_MIB} MiB" wait_for 90 saved_at_least $SHARED_MIB
echo "# saved $(saved_mib) MiB"
expect "the controller settles" wait_for 60 log_has "kvm_ksm: settled"
expect_eq "settled: a trickle of a scan rate" "$(ksm_get pages_to_scan)" 100
expect "merging was logged with the guests' memory" log_has "kvm_ksm: merging: guests 512 MiB"
expect "tuned-adm verify" tuned-adm verify

# 3. Switching profile stops the controller and puts KSM back where it was.
expect "tuned-adm profile virtual-host" tuned-adm profile virtual-host
expect_eq "every knob back" "$(ksm_snapshot)" "$before"
sleep 3
expect_eq "the controller wrote nothing after the switch" "$(ksm_snapshot)" "$before"
expect_eq "no error in tuned's log" "$(log_since_mark | grep -c ' ERROR ')" 0

summary
