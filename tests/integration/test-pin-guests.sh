#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kvm_pin inside the real tuned with real QEMU (TCG) guests under a real libvirtd, on this
# 2-CPU host: housekeeping CPU 0, dedicated CPU 1. A dedicated guest started under the
# profile is pinned (through libvirt and each thread's Cpus_allowed_list); a second one
# that cannot fit is left as it is with one message; after libvirtd restarts, a guest
# started then is pinned too; a profile switch, and a tuned killed and restarted, give the
# originals back. Guests, daemons and /etc/tuned are put back whatever fails.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
# guests.sh's functions (images, XML), without its strict mode leaking into the checks.
. tests/guests/guests.sh
set +euo pipefail

PREFIX=ktpin
URI=qemu:///system
JOURNAL=/var/lib/kvmtune/kvm_pin-kvm_pin.journal
METADATA="<metadata><kt:tuning xmlns:kt='https://kvmtune.org/xmlns/domain/1' policy='dedicated'/></metadata>"
ALL_CPUS="0-$(($(nproc --all) - 1))"

cleanup() {
	stop_tuned
	stop_system_bus
	for n in 1 2 3; do virsh -q -c $URI destroy $PREFIX-$n >/dev/null 2>&1; done
	tests/guests/guests.sh daemons-down >/dev/null 2>&1
	etc_tuned_put_back
	rm -f $JOURNAL
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(nproc --all)" -ge 2 ] || { echo "needs 2 CPUs"; exit 1; }
etc_tuned_save

# start_guest N dedicated|shared: a 1-vCPU guest, marked dedicated in its metadata or not.
start_guest() {
	local name=$PREFIX-$1 xml=$KT_GUEST_DIR/$PREFIX-$1.xml
	kt_render_xml "$name" 256 "console=ttyS0 quiet panic=-1 kt.shared_mib=16 kt.unique_mib=16" \
		"$KT_GUEST_DIR/$name.console.log" >"$xml"
	if [ "$2" = dedicated ]; then
		sed -i "s|</domain>|$METADATA</domain>|" "$xml"
	fi
	virsh -q -c $URI create "$xml" >/dev/null
}

vcpupin() { virsh -q -c $URI vcpupin "$1" | awk '$1 == "0" {print $2}'; }
is_pinned() { [ "$(vcpupin "$1")" = "$2" ]; }
log_has() { log_since_mark | grep -q "$1"; }

kt_daemons_up || exit 1
kt_prepare_images || exit 1
start_system_bus || exit 1
start_tuned || exit 1

mkdir -p /etc/tuned/kvmtune-test-pin
cat >/etc/tuned/kvmtune-test-pin/tuned.conf <<'CONF'
[main]
summary=kvmtune test: housekeeping CPU 0, dedicated CPU 1
[kvm_pin]
dedicated_cpus=1
shared_cpus=0
cpu_shares=512
CONF

# 1. A dedicated guest started under the profile is pinned at once.
mark_log
expect "tuned-adm profile kvmtune-test-pin" tuned-adm profile kvmtune-test-pin
start_guest 1 dedicated
expect "dedicated guest: vCPU 0 pinned to CPU 1 (libvirt)" wait_for 10 is_pinned $PREFIX-1 1
expect_eq "dedicated guest: emulator on CPU 0 (libvirt)" "$(emulatorpin $PREFIX-1)" 0
expect_eq "dedicated guest: vCPU thread Cpus_allowed_list" "$(threads_allowed $PREFIX-1 vcpu)" 1
expect_eq "dedicated guest: other threads' Cpus_allowed_list" "$(threads_allowed $PREFIX-1 other)" 0
expect "the journal holds the originals" test -s $JOURNAL
expect "tuned-adm verify" tuned-adm verify

# 2. A second dedicated guest cannot fit: one message, left as it is, the first unchanged.
start_guest 2 dedicated
expect "second dedicated guest: the message" wait_for 10 log_has \
	"kvm_pin: domain $PREFIX-2: cannot be placed: needs 1 dedicated CPU"
expect_eq "second dedicated guest: the message once" \
	"$(log_since_mark | grep -c "domain $PREFIX-2: cannot be placed")" 1
expect_eq "second dedicated guest: vCPU left as it was" "$(vcpupin $PREFIX-2)" "$ALL_CPUS"
expect_eq "second dedicated guest: threads left as they were" "$(threads_allowed $PREFIX-2 vcpu)" \
	"$ALL_CPUS"
expect_eq "first guest still pinned" "$(vcpupin $PREFIX-1)" 1
virsh -q -c $URI destroy $PREFIX-2 >/dev/null

# 3. libvirtd restarts (only one the test infrastructure started): a guest started then is
#    pinned too. QEMU keeps the guests running meanwhile.
kt_libvirtd_restart
if [ $? -ne 2 ]; then
	expect "tuned reconnected to libvirtd" wait_for 40 log_has "connected to $URI again"
	start_guest 3 shared
	expect "after libvirtd's restart: a new guest is pinned (shared CPU 0)" \
		wait_for 10 is_pinned $PREFIX-3 0
	expect_eq "after libvirtd's restart: cpu_shares 512 x 1 vCPU" "$(cpu_shares $PREFIX-3)" 512
else
	echo "# libvirtd was not started by tests/guests/guests.sh: not restarting it"
	start_guest 3 shared
	expect "a shared guest is pinned to CPU 0" wait_for 10 is_pinned $PREFIX-3 0
fi
expect_eq "first guest kept its CPU" "$(vcpupin $PREFIX-1)" 1

# 4. Switching profile puts every original back.
expect "tuned-adm profile virtual-host" tuned-adm profile virtual-host
expect_eq "switch: dedicated guest's vCPU back" "$(vcpupin $PREFIX-1)" "$ALL_CPUS"
expect_eq "switch: dedicated guest's emulator back" "$(emulatorpin $PREFIX-1)" "$ALL_CPUS"
expect_eq "switch: vCPU thread back" "$(threads_allowed $PREFIX-1 vcpu)" "$ALL_CPUS"
expect_eq "switch: shared guest's vCPU back" "$(vcpupin $PREFIX-3)" "$ALL_CPUS"
expect_eq "switch: shared guest's cpu_shares back" "$(cpu_shares $PREFIX-3)" 1024
expect "switch: the journal is gone" test ! -e $JOURNAL

# 5. tuned killed while pinned and started again: the originals still come back.
expect "tuned-adm profile kvmtune-test-pin again" tuned-adm profile kvmtune-test-pin
expect "pinned again" wait_for 10 is_pinned $PREFIX-1 1
kill -9 "$STARTED_TUNED_PID"
wait_gone "$STARTED_TUNED_PID"
STARTED_TUNED_PID=
expect "tuned started again" start_tuned
expect "pinned after the restart" wait_for 20 is_pinned $PREFIX-1 1
expect "tuned-adm profile virtual-host after the kill" tuned-adm profile virtual-host
expect_eq "after the kill: vCPU back to the true original" "$(vcpupin $PREFIX-1)" "$ALL_CPUS"
expect_eq "after the kill: emulator back" "$(emulatorpin $PREFIX-1)" "$ALL_CPUS"
expect_eq "after the kill: cpu_shares back" "$(cpu_shares $PREFIX-3)" 1024
expect "after the kill: the journal is gone" test ! -e $JOURNAL
expect_eq "no error in tuned's log" "$(log_since_mark | grep -c ' ERROR ')" 0

summary
