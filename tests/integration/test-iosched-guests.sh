#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kvm_iosched inside the real tuned, with a real QEMU (TCG) guest under a real libvirtd whose
# disk is a stack of real block devices: an image file on the host's disk, a loop device
# holding it, and a dm-linear device on that loop device (where this kernel has no
# device-mapper, a second loop device on the first stands in for it). The schedulers and
# queue knobs are set by the profile, verified, shown, restored by tuned-adm off, refused
# whole on bad input, put back by `kvmtune restore --orphans` after tuned is killed, and
# put back by tuned's update once the guest stops.
# Every queue setting of the host is compared before and after; guests, devices, daemons
# and /etc/tuned are put back whatever fails.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

GUESTS=tests/guests/guests.sh
PREFIX=ktio
DM_NAME=kvmtune-test-iosched
JOURNAL=/var/lib/kvmtune/kvm_iosched-kvm_iosched.journal
WORK=
LOOP_IMG=
LOOP_TOP=
DM_MADE=

cleanup() {
	stop_tuned
	stop_system_bus
	$GUESTS down $PREFIX >/dev/null 2>&1
	$GUESTS daemons-down >/dev/null 2>&1
	[ -n "$DM_MADE" ] && dmsetup remove "$DM_NAME" 2>/dev/null
	[ -n "$LOOP_TOP" ] && losetup -d "$LOOP_TOP" 2>/dev/null
	[ -n "$LOOP_IMG" ] && losetup -d "$LOOP_IMG" 2>/dev/null
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

sched_of() { # DEV
	local v
	v=$(cat "/sys/block/$1/queue/scheduler")
	if [[ $v == *"["*"]"* ]]; then v=${v#*[}; v=${v%%]*}; fi
	echo "$v"
}

etc_tuned_save
SAVED_QUEUES=$(queues)

# The guest's disk: an image file on the host's own filesystem, a loop device holding it,
# and a device mapped linearly on that loop device.
WORK=$(mktemp -d /var/tmp/kvmtune-iosched.XXXXXX)
chmod 755 "$WORK"
truncate -s 64M "$WORK/disk.img"
LOOP_IMG=$(losetup --find --show "$WORK/disk.img") || exit 1
sectors=$(blockdev --getsz "$LOOP_IMG")
if dmsetup create "$DM_NAME" --table "0 $sectors linear $LOOP_IMG 0" 2>/dev/null; then
	DM_MADE=1
	TOP=/dev/mapper/$DM_NAME
	top_dev=$(basename "$(readlink -f "/sys/dev/block/$(dmsetup info -c --noheadings -o major,minor "$DM_NAME" | tr -d ' ')")")
else
	echo "# no device-mapper in this kernel: a loop device on $LOOP_IMG stands in for dm-linear"
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
KT_GUEST_DEVICES="<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='$TOP'/><target dev='vda' bus='virtio'/></disk>" \
	$GUESTS up 1 128 8 8 $PREFIX || exit 1
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

# 5. The guest stops while the profile is applied: tuned's next update (update_interval,
# 10 s) sees libvirt's run directory change and puts its devices back.
queue_is() { [ "$(queues)" = "$1" ]; }
img_is() { [ "$(sched_of "$img_dev")" = "$1" ]; }
expect "tuned restarted applies the profile again" start_tuned
expect "applied on start" wait_for 20 img_is none
$GUESTS down $PREFIX >/dev/null 2>&1
expect "the guest stopped: every queue setting back within 30 s" wait_for 30 queue_is "$before"
expect "the journal keeps nothing of it" test ! -s "$JOURNAL" -o -z "$(grep "^$img_dev\." "$JOURNAL")"
expect "tuned-adm off (no guest)" tuned-adm off
expect_eq "no guest: every queue setting back" "$(queues)" "$before"

summary
