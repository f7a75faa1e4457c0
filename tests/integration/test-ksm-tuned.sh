#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kvm_ksm inside the real tuned daemon: apply, verify, switch, off, a killed tuned,
# invalid values, and the advisor's ordering rule on this kernel. KSM, /etc/tuned and
# the daemons are put back as they were, whatever fails.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

JOURNAL=/var/lib/kvmtune/kvm_ksm-kvm_ksm.journal
BAD_JOURNAL=/var/lib/kvmtune/kvm_ksm-ksm.journal

cleanup() {
	stop_tuned
	stop_system_bus
	ksm_put_back
	etc_tuned_put_back
	rm -f $JOURNAL $BAD_JOURNAL
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -d $KSM ]; then
	echo "this kernel has no KSM: nothing to test"
	exit 1
fi
command -v tuned >/dev/null || { echo "tuned is not installed"; exit 1; }
[ -f "$(/usr/bin/python3 -c 'import os, tuned.plugins as p; print(os.path.dirname(p.__file__))')/plugin_kvm_ksm.py" ] ||
	{ echo "kvmtune is not installed into tuned: run make install"; exit 1; }

ksm_save
etc_tuned_save
rm -f $JOURNAL
start_system_bus || { echo "cannot start a system D-Bus"; exit 1; }
start_tuned || exit 1
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
expect "the journal holds the controller's knobs too" grep -qx "pages_to_scan=123" $JOURNAL
expect "tuned-adm verify passes" tuned-adm verify
expect "verify reports each knob" grep -q "verify: passed: 'kvm_ksm.use_zero_pages' = '1'" \
	<(log_since_mark)
expect_eq "no error in tuned's log" "$(log_since_mark | grep -c ' ERROR ')" 0

# 2.-4. Switch, off, and a tuned killed and restarted: every knob back each time.
dense_rollbacks "$before" || exit 1

# 5. Invalid values: one error line naming option, value and what is allowed; nothing changes.
mkdir -p /etc/tuned/kvmtune-test-bad
cat >/etc/tuned/kvmtune-test-bad/tuned.conf <<'CONF'
[main]
summary=kvmtune test: invalid kvm_ksm values
[ksm]
type=kvm_ksm
run=1
use_zero_pages=1
pages_to_scan=-5
advisor_mode=fast
bogus=1
CONF
mark_log
pid=$STARTED_TUNED_PID
tuned-adm profile kvmtune-test-bad >/dev/null 2>&1
errors=$(log_since_mark | grep ' ERROR ' | grep -c 'kvm_ksm\[ksm\]')
expect_eq "bad values: one error line" "$errors" 1
line=$(log_since_mark | grep ' ERROR ' | grep 'kvm_ksm\[ksm\]')
for part in "pages_to_scan=-5 is invalid: expected an integer 0..100000" \
	"advisor_mode=fast is invalid: expected none or scan-time" "run=1" "unknown option 'bogus'"; do
	case $part in
	run=1) expect "bad values: valid run=1 is not reported" test "${line/run=1 is/}" = "$line" ;;
	*) expect "bad values: the line names '$part'" grep -qF "$part" <<<"$line" ;;
	esac
done
expect_eq "bad values: KSM unchanged" "$(ksm_snapshot)" "$before"
expect "bad values: tuned still runs" kill -0 "$pid"
expect_eq "bad values: tuned answers" "$(tuned-adm active | sed -n 's/^Current active profile: //p')" kvmtune-test-bad
expect "bad values: no journal" test ! -e $BAD_JOURNAL
tuned-adm profile virtual-host >/dev/null
expect_eq "bad values: still unchanged after switching away" "$(ksm_snapshot)" "$before"

# 6. The advisor owns pages_to_scan: kvm-dense turns it off first, and restoring turns it
#    back on after everything else.
if [ -e $KSM/advisor_mode ]; then
	ksm_set advisor_mode=scan-time
	advisor_before=$(ksm_snapshot)
	expect "advisor: tuned-adm profile kvm-dense" tuned-adm profile kvm-dense
	expect_eq "advisor: turned off" "$(ksm_get advisor_mode)" none
	expect "advisor: tuned-adm verify" tuned-adm verify
	tuned-adm profile virtual-host >/dev/null
	expect_eq "advisor: every knob back" "$(ksm_snapshot)" "$advisor_before"
	ksm_set advisor_mode=none "${ORIGINALS[@]}"
fi

summary
