#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kvmtune's profiles, kvm-dense and kvm-latency, applied by the real tuned with real QEMU
# (TCG) guests under a real libvirtd, on this 2-CPU host (kvm-latency's default keeps CPU
# 0 for the host and isolates CPU 1). Each profile verifies; under kvm-latency a dedicated
# guest's vCPU stays on CPU 1 and its other threads on CPU 0 after the profile is
# applied, after a guest started later, and after tuned's scheduler plugin re-affined
# every process it may touch; its isolated_cores default is written and said, a host's
# value is kept, a bad one refused in one line. kvm-dense -> kvm-latency -> virtual-host
# -> off then leaves every value either profile touched as it was (KSM, hugepage pools,
# THP, sysctls, block queues, IRQ and workqueue affinities, every task's CPU affinity,
# the guests' pinning and CPU weight). Guests, devices, daemons and /etc/tuned are put
# back whatever fails.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
# guests.sh's functions (images, XML), without its strict mode leaking into the checks.
. tests/guests/guests.sh
set +euo pipefail

PREFIX=ktprof
URI=qemu:///system
VARFILE=/etc/tuned/kvm-latency-variables.conf
NOPIN=kvmtune-test-latency-nopin
SHARED="<metadata><kt:tuning xmlns:kt='https://kvmtune.org/xmlns/domain/1' policy='shared'/></metadata>"
ALL_CPUS="0-$(($(nproc --all) - 1))"
THP=/sys/kernel/mm/transparent_hugepage
# Every sysctl kvm-dense, kvm-latency and their parents set.
SYSCTLS="vm.dirty_ratio vm.dirty_background_ratio vm.swappiness vm.watermark_scale_factor
vm.zone_reclaim_mode kernel.numa_balancing kernel.hung_task_timeout_secs vm.stat_interval
kernel.timer_migration kernel.nmi_watchdog net.core.busy_read net.core.busy_poll
net.ipv4.tcp_fastopen"
PLUGINS_DIR=$(/usr/bin/python3 -c 'import os, tuned.plugins; print(os.path.dirname(tuned.plugins.__file__))')
WORK=
LOOP=
VARFILE_SAVED=
KEEP=(/etc/systemd/system.conf /etc/tuned/bootcmdline)

cleanup() {
	local f
	stop_tuned
	stop_system_bus
	for n in 1 2 3; do virsh -q -c $URI destroy $PREFIX-$n >/dev/null 2>&1; done
	tests/guests/guests.sh daemons-down >/dev/null 2>&1
	[ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
	queues_put_back
	ksm_put_back
	hp_put_back
	if [ -n "$WORK" ]; then
		if [ -e "$WORK/varfile" ]; then cp -a "$WORK/varfile" $VARFILE; else rm -f $VARFILE; fi
		for f in "${KEEP[@]}"; do
			[ -e "$WORK/keep/$f" ] && ! cmp -s "$WORK/keep/$f" "$f" && cp -a "$WORK/keep/$f" "$f"
		done
		rm -rf "$WORK"
	fi
	rm -rf /run/tuned/kvm-latency-initrd /etc/tuned/$NOPIN
	etc_tuned_put_back
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(nproc --all)" = 2 ] || { echo "written for this 2-CPU host: CPU 0 housekeeping, CPU 1 isolated"; exit 1; }
for f in "$PLUGINS_DIR/plugin_kvm_pin.py" \
	"${PLUGINS_DIR%/plugins}/profiles/functions/function_kvmtune_isolated_cores.py"; do
	[ -e "$f" ] || { echo "kvmtune is not installed into tuned ($f): run make install"; exit 1; }
done
tuned-adm list 2>/dev/null | grep -q -- '- kvm-latency ' ||
	{ echo "tuned has no kvm-latency profile: run make install"; exit 1; }

WORK=$(mktemp -d /var/tmp/kvmtune-profiles.XXXXXX)
chmod 755 "$WORK"
etc_tuned_save
[ -e $VARFILE ] && cp -a $VARFILE "$WORK/varfile"
for f in "${KEEP[@]}"; do mkdir -p "$WORK/keep${f%/*}" && cp -a "$f" "$WORK/keep$f"; done
ksm_save
hp_save
SAVED_QUEUES=$(queues)

# One disk for a guest: an image file in a loop device, so that kvm-dense's kvm_iosched
# has a device beneath a guest's disk to set (loop devices get none).
truncate -s 32M "$WORK/disk.img"
LOOP=$(losetup --find --show "$WORK/disk.img") || exit 1
LOOP_DEV=${LOOP#/dev/}
echo mq-deadline >"/sys/block/$LOOP_DEV/queue/scheduler"

sched_of() { local v; v=$(cat "/sys/block/$1/queue/scheduler"); v=${v#*[}; echo "${v%%]*}"; }
bracketed() { local v; v=$(cat "$1"); [[ $v == *"["*"]"* ]] && { v=${v#*[}; v=${v%%]*}; }; echo "$v"; }
vcpupin() { virsh -q -c $URI vcpupin "$1" | awk '{print $2}' | sort -u | paste -sd' '; }
is_pinned() { [ "$(vcpupin "$1")" = "$2" ] && [ "$(emulatorpin "$1")" = "$3" ]; }
log_count() { log_since_mark | grep -c -- "$1"; }

# start_guest N VCPUS [shared]: a small guest; 1 gets the loop device as its disk.
start_guest() {
	local name=$PREFIX-$1 xml=$KT_GUEST_DIR/$PREFIX-$1.xml devices=
	[ "$1" = 1 ] && devices="<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='$LOOP'/><target dev='vda' bus='virtio'/></disk>"
	KT_GUEST_DEVICES=$devices kt_render_xml "$name" 128 \
		"console=ttyS0 quiet panic=-1 kt.shared_mib=8 kt.unique_mib=8" \
		"$KT_GUEST_DIR/$name.console.log" >"$xml"
	sed -i "s|<vcpu placement='static'>1</vcpu>|<vcpu placement='static'>$2</vcpu>|" "$xml"
	[ "${3:-}" = shared ] && sed -i "s|</domain>|$SHARED</domain>|" "$xml"
	virsh -q -c $URI create "$xml" >/dev/null
}

# Everything the profiles touch on the host, one "what value" line each.
host_state() {
	local s f
	echo "ksm $(ksm_snapshot)"
	echo "hugepages $(hp_snapshot)"
	for f in enabled defrag khugepaged/max_ptes_none khugepaged/max_ptes_shared; do
		echo "thp $f $(bracketed $THP/$f)"
	done
	for s in $SYSCTLS; do echo "sysctl $s $(sysctl -n "$s" 2>/dev/null)"; done
	queues | sed 's/^/queue /'
	for f in /proc/irq/[0-9]*/smp_affinity_list; do echo "irq $f $(cat "$f")"; done
	echo "irq default $(cat /proc/irq/default_smp_affinity)"
	for f in /sys/bus/workqueue/devices/writeback/cpumask /sys/devices/virtual/workqueue/cpumask \
		/sys/devices/virtual/workqueue/*/cpumask; do
		[ -r "$f" ] && echo "workqueue $f $(cat "$f")"
	done
	for f in "${KEEP[@]}"; do echo "file $f $(md5sum <"$f")"; done
	for n in 1 2; do
		echo "guest $PREFIX-$n vcpupin $(vcpupin $PREFIX-$n) emulator $(emulatorpin $PREFIX-$n)" \
			"cpu_shares $(cpu_shares $PREFIX-$n)"
	done
}

# Every task's CPU affinity ("tid comm list"), which tuned's scheduler plugin changes.
task_affinities() {
	local t
	for t in /proc/[0-9]*/task/[0-9]*; do
		echo "${t##*/} $({ tr ' ' _ <"$t/comm"; } 2>/dev/null) $(allowed "$t")"
	done | sort
}

# verify_passes WHEN: tuned-adm verify, and nothing but values the kernel refuses to
# change may fail: an IRQ whose affinity the kernel would not change when the profile
# was applied (tuned logged that then) cannot match, on any profile that moves IRQs.
verify_passes() {
	local failed irq rest
	if tuned-adm verify >/dev/null 2>&1; then pass "$1: tuned-adm verify"; return; fi
	failed=$(log_since_mark | grep 'verify: failed:')
	rest=$(while read -r line; do
		irq=$(sed -n "s/.*'SMP affinity of IRQ \([0-9]*\)'.*/\1/p" <<<"$line")
		[ -n "$irq" ] && log_since_mark | grep -q "Failed to set SMP affinity of IRQ $irq to .*Operation not permitted" &&
			continue
		echo "$line"
	done <<<"$failed")
	if [ -z "$rest" ]; then
		pass "$1: tuned-adm verify (only IRQs this kernel does not let anyone move differ)"
		echo "# $(grep -c . <<<"$failed") IRQs the kernel refused to move: $(grep -o 'IRQ [0-9]*' <<<"$failed" | paste -sd,)"
	else
		failure "$1: tuned-adm verify: $rest"
	fi
}

kt_daemons_up || exit 1
kt_prepare_images || exit 1
start_guest 1 1 || exit 1
start_guest 2 2 shared || exit 1
start_system_bus || exit 1
start_tuned || exit 1
# tuned applied the host's active profile on start: nothing but this test's from here on.
tuned-adm off >/dev/null 2>&1
BEFORE=$(host_state)
TASKS_BEFORE=$(task_affinities)

# 1. kvm-dense.
mark_log
expect "kvm-dense: tuned-adm profile kvm-dense" tuned-adm profile kvm-dense
verify_passes "kvm-dense"
expect_eq "kvm-dense: KSM use_zero_pages" "$(ksm_get use_zero_pages)" 1
expect_eq "kvm-dense: THP madvise" "$(bracketed $THP/enabled)" madvise
expect_eq "kvm-dense: vm.dirty_ratio" "$(sysctl -n vm.dirty_ratio)" 10
expect_eq "kvm-dense: vm.watermark_scale_factor" "$(sysctl -n vm.watermark_scale_factor)" 200
expect_eq "kvm-dense: virtual-host's vm.dirty_background_ratio kept" \
	"$(sysctl -n vm.dirty_background_ratio)" 5
expect_eq "kvm-dense: the loop device beneath a guest's disk: none" "$(sched_of "$LOOP_DEV")" none
expect_eq "kvm-dense: the default 2M pool has no free pages" "$(hp_get 0 2048 free_hugepages)" 0
expect "kvm-dense: guests float over every CPU" wait_for 10 is_pinned $PREFIX-2 "$ALL_CPUS" "$ALL_CPUS"
expect_eq "kvm-dense: cpu_shares 1024 per vCPU (2 vCPUs)" "$(cpu_shares $PREFIX-2)" 2048
expect_eq "kvm-dense: cpu_shares of a 1-vCPU guest" "$(cpu_shares $PREFIX-1)" 1024
expect_eq "kvm-dense: no error in tuned's log" "$(log_count ' ERROR ')" 0

# 2. kvm-latency with no isolated_cores in its variables file: the default is written.
printf '# kvmtune test: the host sets no isolated_cores\nno_balance_cores=\n' >$VARFILE
mark_log
expect "kvm-latency: tuned-adm profile kvm-latency" tuned-adm profile kvm-latency
expect_eq "kvm-latency: the default said once, naming value and file" \
	"$(log_count "isolated_cores was not set: wrote isolated_cores=1 to $VARFILE")" 1
expect_eq "kvm-latency: the default written" "$(grep '^isolated_cores' $VARFILE)" "isolated_cores=1"
expect "kvm-latency: the file's other lines kept" grep -qx 'no_balance_cores=' $VARFILE
expect_eq "kvm-latency: the boot loader warning, once" \
	"$(log_count "WARNING .*tuned cannot update this host's boot loader")" 1
verify_passes "kvm-latency"
expect "kvm-latency: dedicated guest: vCPU on CPU 1, emulator on CPU 0 (libvirt)" \
	wait_for 10 is_pinned $PREFIX-1 1 0
expect_eq "kvm-latency: dedicated guest: vCPU thread" "$(threads_allowed $PREFIX-1 vcpu)" 1
expect_eq "kvm-latency: dedicated guest: other threads" "$(threads_allowed $PREFIX-1 other)" 0
expect "kvm-latency: shared guest on the housekeeping CPU" wait_for 10 is_pinned $PREFIX-2 0 0
expect_eq "kvm-latency: KSM run=2" "$(ksm_get run)" 2
expect_eq "kvm-latency: THP never" "$(bracketed $THP/enabled)" never
[ -e /proc/sys/kernel/numa_balancing ] &&
	expect_eq "kvm-latency: kernel.numa_balancing" "$(sysctl -n kernel.numa_balancing)" 0
expect_eq "kvm-latency: the scheduler plugin moved libvirtd to CPU 0" \
	"$(allowed /proc/"$(pgrep -xo libvirtd)")" 0
expect_eq "kvm-latency: workqueues on CPU 0" "$(cat /sys/devices/virtual/workqueue/cpumask)" 1

# 3. A guest started after the profile: placed at once, the dedicated guest unmoved.
start_guest 3 1 shared
expect "guest started later: on the housekeeping CPU" wait_for 10 is_pinned $PREFIX-3 0 0
expect_eq "guest started later: its threads" "$(threads_allowed $PREFIX-3 vcpu)" 0
expect_eq "guest started later: dedicated guest's vCPU thread still on CPU 1" \
	"$(threads_allowed $PREFIX-1 vcpu)" 1
expect_eq "guest started later: dedicated guest's other threads still on CPU 0" \
	"$(threads_allowed $PREFIX-1 other)" 0
virsh -q -c $URI destroy $PREFIX-3 >/dev/null

# 4. tuned's scheduler plugin acting while a guest is pinned: kvm-latency without kvm_pin,
#    the guest pinned by hand first. Every other process moves to CPU 0; QEMU's threads
#    (ps_blacklist) stay where they are.
mkdir -p /etc/tuned/$NOPIN
cat >/etc/tuned/$NOPIN/tuned.conf <<'CONF'
[main]
summary=kvmtune test: kvm-latency without kvm_pin, to see tuned's scheduler plugin alone
include=kvm-latency
[kvm_pin]
enabled=false
CONF
# A switch, not tuned-adm off: tuned rolls back its [systemd] and [bootloader] units fully
# only on a switch where systemd does not run (tuned-adm off keeps them for the next boot).
expect "scheduler alone: tuned-adm profile virtual-host" tuned-adm profile virtual-host
virsh -q -c $URI vcpupin $PREFIX-1 0 1 >/dev/null && virsh -q -c $URI emulatorpin $PREFIX-1 0 >/dev/null
mark_log
expect "scheduler alone: tuned-adm profile $NOPIN" tuned-adm profile $NOPIN
expect_eq "scheduler alone: it acted (libvirtd on CPU 0)" "$(allowed /proc/"$(pgrep -xo libvirtd)")" 0
expect_eq "scheduler alone: the pinned vCPU thread stays on CPU 1" "$(threads_allowed $PREFIX-1 vcpu)" 1
expect_eq "scheduler alone: the emulator stays on CPU 0" "$(threads_allowed $PREFIX-1 other)" 0
expect_eq "scheduler alone: a floating guest is not moved either" \
	"$(threads_allowed $PREFIX-2 vcpu) $(threads_allowed $PREFIX-2 other)" "$ALL_CPUS $ALL_CPUS"
expect "scheduler alone: tuned-adm profile virtual-host again" tuned-adm profile virtual-host
virsh -q -c $URI vcpupin $PREFIX-1 0 "$ALL_CPUS" >/dev/null && virsh -q -c $URI emulatorpin $PREFIX-1 "$ALL_CPUS" >/dev/null

# 5. A host's own value is kept as it is, and the file untouched.
printf '# the host chose\nisolated_cores = 1\n' >$VARFILE
sum=$(md5sum <$VARFILE)
mark_log
expect "host's value: tuned-adm profile kvm-latency" tuned-adm profile kvm-latency
expect_eq "host's value: file untouched" "$(md5sum <$VARFILE)" "$sum"
expect_eq "host's value: nothing said" "$(log_count 'isolated_cores was not set')" 0
expect "host's value: dedicated guest pinned" wait_for 10 is_pinned $PREFIX-1 1 0

# 6. A bad value: switching to the profile is refused with one line naming it, and tuned
#    applies the profile it had (tuned re-applying kvm-latency over itself would expand
#    the old units with the new file's values: tuned reads variables when it loads).
expect "tuned-adm profile virtual-host" tuned-adm profile virtual-host
printf 'isolated_cores=1,7\n' >$VARFILE
mark_log
out=$(tuned-adm profile kvm-latency 2>&1)
expect_eq "bad value: tuned-adm fails, saying why" "$?:$(grep -c 'CPUs 7 are not online' <<<"$out")" "1:1"
expect_eq "bad value: one line in tuned's log naming it" \
	"$(log_count "ERROR .*isolated_cores=1,7 in $VARFILE is invalid: CPUs 7 are not online; expected online CPUs (0-1)")" 1
expect_eq "bad value: the file untouched" "$(cat $VARFILE)" "isolated_cores=1,7"
expect_eq "bad value: virtual-host stays" "$(tuned-adm active | sed 's/.*: //')" virtual-host

# 7. Off (from virtual-host). Every value as it was before the first profile.
expect "tuned-adm off" tuned-adm off
AFTER=$(host_state)
expect_eq "every value the profiles touched is back" \
	"$(diff <(echo "$BEFORE") <(echo "$AFTER") | grep '^[<>]' | paste -sd'|')" ""
moved=$(join <(echo "$TASKS_BEFORE" | awk '{print $1"/"$2, $3}' | sort) \
	<(task_affinities | awk '{print $1"/"$2, $3}' | sort) | awk '$2 != $3')
expect_eq "every task's CPU affinity is back ($(echo "$TASKS_BEFORE" | wc -l) tasks)" "$moved" ""
expect "no journal left" test -z "$(ls /var/lib/kvmtune/*.journal 2>/dev/null)"

summary
