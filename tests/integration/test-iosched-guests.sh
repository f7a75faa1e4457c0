#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kvm_iosched inside the real tuned, with a real QEMU (TCG) guest under a real libvirtd whose
# disk is a stack of real block devices: an image file on the host's disk, a loop device
# holding it, and a dm-linear device on that loop device (where this kernel has no
# device-mapper, that part is skipped, said so, and a second loop device on the first
# stands in for it). The schedulers and queue knobs are set by the profile, verified,
# shown, restored by tuned-adm off, refused whole on bad input, and put back by `kvmtune
# restore --orphans` after tuned is killed. With tuned's dynamic tuning off, libvirt's
# domain events alone set the devices of a guest started after the profile, and put them
# back when it stops, within seconds (the latency is printed), also after libvirtd restarts.
# Every queue setting of the host is compared before and after; guests, devices, daemons,
# /etc/tuned (tuned-main.conf included) are put back whatever fails.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
# guests.sh's functions (daemons, images, XML), without its strict mode leaking into the checks.
. tests/guests/guests.sh
set +euo pipefail

PREFIX=ktio
GUEST=$PREFIX-1
URI=qemu:///system
DM_NAME=kvmtune-test-iosched
JOURNAL=/var/lib/kvmtune/kvm_iosched-kvm_iosched.journal
# How long an event may take to reach the device: seconds, with TCG guests on 2 CPUs.
EVENT_LIMIT=5
WORK=
LOOP_IMG=
LOOP_TOP=
DM_MADE=
DM_LOADED=

cleanup() {
	stop_tuned
	stop_system_bus
	virsh -q -c $URI destroy $GUEST >/dev/null 2>&1
	tests/guests/guests.sh daemons-down >/dev/null 2>&1
	[ -n "$DM_MADE" ] && dmsetup remove "$DM_NAME" 2>/dev/null
	[ -n "$LOOP_TOP" ] && losetup -d "$LOOP_TOP" 2>/dev/null
	[ -n "$LOOP_IMG" ] && losetup -d "$LOOP_IMG" 2>/dev/null
	[ -n "$DM_LOADED" ] && modprobe -r dm_mod 2>/dev/null
	queues_put_back
	[ -n "$WORK" ] && rm -rf "$WORK"
	etc_tuned_put_back
	rm -f "$JOURNAL"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS COMMAND...: polls until the command succeeds.
wait_for() {
	local limit=$1
	shift
	for _ in $(seq $((limit * 2))); do "$@" && return 0; sleep 0.5; done
	return 1
}

# latency SECONDS COMMAND...: polls every 20 ms until the command succeeds; prints the time
# it took from the call (0.02 s resolution), or fails after SECONDS.
latency() {
	local limit=$1 t0 t1
	shift
	t0=$(date +%s%N)
	for _ in $(seq $((limit * 50))); do
		if "$@"; then
			t1=$(date +%s%N)
			printf '%d.%03d\n' $(((t1 - t0) / 1000000000)) $(((t1 - t0) / 1000000 % 1000))
			return 0
		fi
		sleep 0.02
	done
	return 1
}

# The guest, its disk the top of the stack; transient, started at once (its boot is not
# waited for: QEMU holds the disk from the start).
start_guest() {
	local xml=$KT_GUEST_DIR/$GUEST.xml
	KT_GUEST_DEVICES="<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='$TOP'/><target dev='vda' bus='virtio'/></disk>" \
		kt_render_xml "$GUEST" 128 "console=ttyS0 quiet panic=-1 kt.shared_mib=8 kt.unique_mib=8" \
		"$KT_GUEST_DIR/$GUEST.console.log" >"$xml"
	virsh -q -c $URI create "$xml" >/dev/null
}
stop_guest() { virsh -q -c $URI destroy $GUEST >/dev/null; }

sched_of() { # DEV
	local v
	v=$(cat "/sys/block/$1/queue/scheduler")
	if [[ $v == *"["*"]"* ]]; then v=${v#*[}; v=${v%%]*}; fi
	echo "$v"
}

etc_tuned_save
SAVED_QUEUES=$(queues)
# Guests that start or stop must be seen without tuned's periodic update.
tuned_main_set dynamic_tuning 0

# device-mapper: the module is loaded for the test when the kernel has one (and unloaded
# afterwards); what the kernel answers otherwise is the evidence printed with the skip.
dm_evidence() {
	local e
	e=$(dmsetup version 2>&1 | grep -m1 -iE 'failed|no such|cannot')
	echo "no device-mapper in /proc/misc, /sys/module/dm_mod absent, $(modprobe -n dm_mod 2>&1 | head -1), dmsetup version: ${e:-?}"
}
if ! grep -qw device-mapper /proc/misc && modprobe dm_mod 2>/dev/null; then DM_LOADED=1; fi

# The guest's disk: an image file on the host's own filesystem, a loop device holding it,
# and a device mapped linearly on that loop device.
WORK=$(mktemp -d /var/tmp/kvmtune-iosched.XXXXXX)
chmod 755 "$WORK"
truncate -s 64M "$WORK/disk.img"
LOOP_IMG=$(losetup --find --show "$WORK/disk.img") || exit 1
sectors=$(blockdev --getsz "$LOOP_IMG")
if grep -qw device-mapper /proc/misc &&
	dmsetup create "$DM_NAME" --table "0 $sectors linear $LOOP_IMG 0"; then
	DM_MADE=1
	TOP=/dev/mapper/$DM_NAME
	top_dev=$(basename "$(readlink -f "/sys/dev/block/$(dmsetup info -c --noheadings -o major,minor "$DM_NAME" | tr -d ' ')")")
else
	skip "dm-linear on the loop device: this kernel has no device-mapper ($(dm_evidence)); a second loop device on $LOOP_IMG stands in"
	LOOP_TOP=$(losetup --find --show "$LOOP_IMG") || exit 1
	TOP=$LOOP_TOP
	top_dev=${LOOP_TOP#/dev/}
fi
img_dev=${LOOP_IMG#/dev/}
# What holds the image file: the host's disk, found the way kvm_iosched finds it.
fs_dev=$(basename "$(readlink -f "/sys/dev/block/$(stat -c '%Hd:%Ld' "$WORK/disk.img")")")
[ -e "/sys/class/block/$fs_dev/partition" ] &&
	fs_dev=$(basename "$(dirname "$(readlink -f "/sys/class/block/$fs_dev")")")
echo "# guest disk $TOP ($top_dev) on $LOOP_IMG ($img_dev) on $WORK/disk.img on $fs_dev"
(kt_daemons_up && kt_prepare_images) || exit 1
start_guest || exit 1
start_system_bus || exit 1
start_tuned || exit 1
# tuned applied the host's active profile on start: nothing but this test's from here on.
tuned-adm off >/dev/null 2>&1
# Start from schedulers kvm_iosched has to change.
echo mq-deadline >"/sys/block/$img_dev/queue/scheduler"
[ -e "/sys/block/$top_dev/queue/scheduler" ] &&
	echo mq-deadline >"/sys/block/$top_dev/queue/scheduler" 2>/dev/null
before=$(queues)

mkdir -p /etc/tuned/kvmtune-test-iosched /etc/tuned/kvmtune-test-iosched-bad
cat >/etc/tuned/kvmtune-test-iosched/tuned.conf <<'CONF'
[main]
summary=kvmtune test: kvm_iosched with queue knobs
[kvm_iosched]
nr_requests=32
read_ahead_kb=512
CONF
cat >/etc/tuned/kvmtune-test-iosched-bad/tuned.conf <<CONF
[main]
summary=kvmtune test: kvm_iosched with a scheduler the device does not offer
[kvm_iosched]
overrides=$img_dev:cfq
nr_requests=32
CONF

# 1. Applied: the loop devices get none, the knobs; what backs no guest is left alone.
mark_log
expect "tuned-adm profile kvmtune-test-iosched" tuned-adm profile kvmtune-test-iosched
expect_eq "the image's loop device: none" "$(sched_of "$img_dev")" none
expect_eq "its nr_requests, after the scheduler" "$(cat "/sys/block/$img_dev/queue/nr_requests")" 32
expect_eq "its read_ahead_kb" "$(cat "/sys/block/$img_dev/queue/read_ahead_kb")" 512
if [ -n "$DM_MADE" ]; then
	expect_eq "the dm device is left to the devices beneath it" \
		"$(grep "^$top_dev " <<<"$(queues)")" "$(grep "^$top_dev " <<<"$before")"
else
	expect_eq "the top loop device: none" "$(sched_of "$top_dev")" none
fi
expect_eq "the host disk beneath the image file: $fs_dev keeps mq-deadline" "$(sched_of "$fs_dev")" \
	"$(grep "^$fs_dev scheduler " <<<"$before" | cut -d' ' -f3)"
expect "the journal holds the originals" grep -q "^$img_dev.scheduler=mq-deadline$" "$JOURNAL"
unused=$(queues | awk -v a="$img_dev" -v b="$top_dev" -v c="$fs_dev" '$1 != a && $1 != b && $1 != c')
expect_eq "devices that back no guest are untouched" \
	"$unused" "$(awk -v a="$img_dev" -v b="$top_dev" -v c="$fs_dev" '$1 != a && $1 != b && $1 != c' <<<"$before")"
expect "tuned-adm verify" tuned-adm verify
show=$(build/kvmtune iosched show)
echo "$show" | sed 's/^/# /'
expect "iosched show: the guest, its disk and the chain" \
	grep -q "$top_dev" <<<"$(grep -A6 "^$PREFIX-1" <<<"$show")"
expect "iosched show: the image's loop device and its file" grep -q "backing $WORK/disk.img" <<<"$show"
expect "iosched show --json is JSON" python3 -c 'import json,sys; json.load(sys.stdin)' \
	<<<"$(build/kvmtune iosched show --json)"
expect_eq "no error in tuned's log" "$(log_since_mark | grep -c ' ERROR ')" 0

# 2. tuned-adm off puts every queue back exactly (a profile with tuned's [disk] would change
# read_ahead_kb of every disk, loop devices included, on its own).
expect "tuned-adm off" tuned-adm off
expect_eq "every queue setting back" "$(queues)" "$before"
expect "the journal is gone" test ! -e "$JOURNAL"

# 3. Bad input: one line naming the option, the device and what it offers; nothing changed.
mark_log
tuned-adm profile kvmtune-test-iosched-bad >/dev/null 2>&1
expect_eq "bad override: one line with what the device offers" \
	"$(log_since_mark | grep -c "overrides=$img_dev:cfq is invalid for $img_dev (loop): it offers")" 1
expect_eq "bad override: nothing changed" "$(queues)" "$before"
expect "bad override: tuned is alive" tuned_pid
tuned-adm off >/dev/null 2>&1

# 4. tuned killed while the profile is applied: restore --orphans puts everything back.
expect "tuned-adm profile kvmtune-test-iosched (again)" tuned-adm profile kvmtune-test-iosched
expect_eq "applied again" "$(sched_of "$img_dev")" none
kill -9 "$STARTED_TUNED_PID"
wait_gone "$STARTED_TUNED_PID"
STARTED_TUNED_PID=
expect "kvmtune restore --orphans" build/kvmtune restore --orphans
expect_eq "after a killed tuned: every queue setting back" "$(queues)" "$before"
expect "the journal is gone after the restore" test ! -e "$JOURNAL"

# 5. Dynamic tuning off: the guest stops while the profile is applied, and libvirt's event
# puts its devices back.
queue_is() { [ "$(queues)" = "$1" ]; }
img_is() { [ "$(sched_of "$img_dev")" = "$1" ]; }
mark_log
expect "tuned restarted applies the profile again" start_tuned
expect "applied on start" wait_for 20 img_is none
expect_eq "tuned's dynamic tuning is off (tuned-main.conf)" \
	"$(log_since_mark | grep -c 'dynamic tuning is enabled')" 0
stop_guest
if stop_s=$(latency $EVENT_LIMIT queue_is "$before"); then
	pass "the guest stopped: every queue setting back within $EVENT_LIMIT s ($stop_s s)"
else
	failure "the guest stopped: queue settings not back within $EVENT_LIMIT s"
fi
expect "the journal keeps nothing of it" test ! -s "$JOURNAL" -o -z "$(grep "^$img_dev\." "$JOURNAL")"

# 6. A guest started after the profile was applied: its devices are set at its event.
start_guest
if start_s=$(latency $EVENT_LIMIT img_is none); then
	pass "a guest started later: $img_dev none within $EVENT_LIMIT s ($start_s s)"
else
	failure "a guest started later: $img_dev still $(sched_of "$img_dev") after $EVENT_LIMIT s"
fi
expect "its nr_requests too" wait_for 2 eval '[ "$(cat /sys/block/$img_dev/queue/nr_requests)" = 32 ]'
expect "the journal holds its original" grep -q "^$img_dev.scheduler=mq-deadline$" "$JOURNAL"
expect "tuned-adm verify (guest started later)" tuned-adm verify
stop_guest
if stop2_s=$(latency $EVENT_LIMIT queue_is "$before"); then
	pass "stopped again: every queue setting back within $EVENT_LIMIT s ($stop2_s s)"
else
	failure "stopped again: queue settings not back within $EVENT_LIMIT s"
fi
echo "# libvirt event -> block queue latency (from virsh's return): stop ${stop_s:-?} s, start ${start_s:-?} s, stop ${stop2_s:-?} s"

# 7. libvirtd restarts: the shared event loop reconnects, and a guest started afterwards is
# set too.
log_has() { log_since_mark | grep -q "$1"; }
kt_libvirtd_restart
case $? in
0)
	expect "tuned reconnected to libvirtd" wait_for 40 log_has "connected to $URI again"
	start_guest
	if s=$(latency $EVENT_LIMIT img_is none); then
		pass "after libvirtd's restart: a guest started: $img_dev none within $EVENT_LIMIT s ($s s)"
	else
		failure "after libvirtd's restart: $img_dev still $(sched_of "$img_dev") after $EVENT_LIMIT s"
	fi
	stop_guest
	expect "after libvirtd's restart: the guest stopped, every queue setting back" \
		wait_for $EVENT_LIMIT queue_is "$before"
	;;
2) skip "libvirtd restart: this libvirtd was not started by tests/guests/guests.sh" ;;
*) failure "libvirtd restart (kt_libvirtd_restart)" ;;
esac
expect_eq "no error in tuned's log (events)" "$(log_since_mark | grep -c ' ERROR ')" 0
expect "tuned-adm off (no guest)" tuned-adm off
expect_eq "no guest: every queue setting back" "$(queues)" "$before"

summary
