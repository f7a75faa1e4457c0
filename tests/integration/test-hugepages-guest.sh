#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A real hugepage-backed QEMU (TCG) guest under the real libvirtd and tuned: defined with
# <memoryBacking><hugepages/> and autostart, the profile's pages=auto reserves its pool (and
# mounts hugetlbfs), libvirtd is restarted to see the mount (it looks for hugetlbfs only when
# it starts), the guest starts and HugePages_Free drops by its size; switching profile while
# it runs leaves its pages, and they come back once it is gone. Pools, mounts, /etc/tuned,
# the domain and every daemon this test started are put back, whatever fails.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

export KT_GUEST_DIR=/var/tmp/kvmtune-guests-hp
export KT_LIBVIRT_URI=qemu:///system
GUESTS=tests/guests/guests.sh
NAME=kthp-guest
MEM_MIB=256
PAGES=$((MEM_MIB / 2))
JOURNAL=/var/lib/kvmtune/kvm_hugepages-hp.journal
LIBVIRTD_PIDFILE=/run/libvirtd.pid
OURS_LIBVIRTD=

meminfo() { sed -n "s/^$1: *\([0-9]*\).*/\1/p" /proc/meminfo; }
virsh_q() { virsh -q -c "$KT_LIBVIRT_URI" "$@"; }

cleanup() {
	virsh_q destroy $NAME >/dev/null 2>&1
	virsh_q undefine $NAME >/dev/null 2>&1
	stop_tuned
	stop_system_bus
	[ -n "$OURS_LIBVIRTD" ] && $GUESTS daemons-down >/dev/null 2>&1
	hugetlbfs_put_back
	hp_put_back
	etc_tuned_put_back
	rm -f $JOURNAL
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v tuned >/dev/null || { echo "tuned is not installed"; exit 1; }
command -v virsh >/dev/null || { echo "libvirt is not installed"; exit 1; }
[ -f "$(/usr/bin/python3 -c 'import os, tuned.plugins as p; print(os.path.dirname(p.__file__))')/plugin_kvm_hugepages.py" ] ||
	{ echo "kvmtune is not installed into tuned: run make install"; exit 1; }

libvirtd_pid() { local p; p=$(cat $LIBVIRTD_PIDFILE 2>/dev/null) && kill -0 "$p" 2>/dev/null && echo "$p"; }

hugetlbfs_save
hp_save
etc_tuned_save
rm -f $JOURNAL
$GUESTS build >/dev/null || { echo "cannot build the guest images"; exit 1; }
if ! libvirtd_pid >/dev/null; then
	$GUESTS daemons-up >/dev/null || { echo "cannot start libvirtd"; exit 1; }
	OURS_LIBVIRTD=1
fi
start_system_bus || { echo "cannot start a system D-Bus"; exit 1; }
start_tuned || exit 1
tuned-adm profile virtual-host >/dev/null
before=$(hp_snapshot)

# The guest, defined and marked autostart so that pages=auto counts it before it runs.
sed -e "s|@NAME@|$NAME|" -e "s|@MEM_MIB@|$MEM_MIB|" -e "s|@KERNEL@|$KT_GUEST_DIR/vmlinuz|" \
	-e "s|@INITRD@|$KT_GUEST_DIR/initramfs.cpio.gz|" \
	-e "s|@CMDLINE@|console=ttyS0 quiet panic=-1 transparent_hugepage=never kt.shared_mib=32 kt.unique_mib=32 kt.seed=1|" \
	-e "s|@CONSOLE_LOG@|$KT_GUEST_DIR/$NAME.console.log|" \
	-e "s|</currentMemory>|</currentMemory><memoryBacking><hugepages/><allocation mode='immediate'/></memoryBacking>|" \
	tests/guests/guest.xml.in >"$KT_GUEST_DIR/$NAME.xml"
expect "virsh define a hugepage-backed guest" virsh_q define "$KT_GUEST_DIR/$NAME.xml"
expect "virsh autostart" virsh_q autostart $NAME

mkdir -p /etc/tuned/kvmtune-test-hpguest
cat >/etc/tuned/kvmtune-test-hpguest/tuned.conf <<'CONF'
[main]
summary=kvmtune test: hugepage pools sized from libvirt
include=virtual-host
[hp]
type=kvm_hugepages
pages=auto
CONF
mark_log
expect "tuned-adm profile kvmtune-test-hpguest" tuned-adm profile kvmtune-test-hpguest
expect_eq "auto reserved the guest's pages" "$(hp_get 0 2048)" "$PAGES"
status=$(build/kvmtune hugepages status --json)
expect "status names the guest's need" grep -q "\"name\":\"$NAME\",\"pages\":{\"-1\":$PAGES}" <<<"$status"
expect "a hugetlbfs is mounted for 2M pages" grep -q " /dev/hugepages hugetlbfs " /proc/mounts
expect "tuned-adm verify passes" tuned-adm verify
if [ -z "$SAVED_HUGETLBFS" ]; then
	expect "tuned's log says libvirtd must restart to see the mount" \
		grep -q "looks for hugetlbfs mounts only when it starts" <(log_since_mark)
	# libvirt's QEMU driver reads the hugetlbfs mounts when it starts: a guest started now
	# fails, so the test restarts the libvirtd it started (it never touches another's).
	if [ -n "$OURS_LIBVIRTD" ]; then
		out=$(virsh_q start $NAME 2>&1)
		expect "before a restart, libvirtd does not know the mount" grep -q "hugetlbfs" <<<"$out"
		# A restarted libvirtd would start an autostart domain by itself: the pool is sized.
		virsh_q autostart --disable $NAME >/dev/null
		$GUESTS daemons-down >/dev/null 2>&1
		$GUESTS daemons-up >/dev/null || { failure "libvirtd restart"; summary; exit 1; }
	else
		echo "# libvirtd (pid $(libvirtd_pid)) was not started by this test and did not see the mount: cannot start the guest"
		summary
		exit 1
	fi
fi

free0=$(meminfo HugePages_Free)
rm -f "$KT_GUEST_DIR/$NAME.console.log"
expect "virsh start the guest" virsh_q start $NAME
for _ in $(seq 300); do
	grep -qs KVMTUNE-GUEST-READY "$KT_GUEST_DIR/$NAME.console.log" && break
	sleep 1
done
expect "the guest booted and filled its memory" grep -qs KVMTUNE-GUEST-READY "$KT_GUEST_DIR/$NAME.console.log"
expect_eq "HugePages_Free dropped by the guest's size" "$(meminfo HugePages_Free)" "$((free0 - PAGES))"

# Switching profile while it runs: its pages stay, the rest goes, and the log says why.
mark_log
expect "tuned-adm profile virtual-host while the guest runs" tuned-adm profile virtual-host
expect "the guest still runs" test "$(virsh_q domstate $NAME)" = running
expect "its pages were not pulled" test "$(hp_get 0 2048)" -ge "$PAGES"
expect_eq "all of its pages still in use" "$(($(hp_get 0 2048) - $(hp_get 0 2048 free_hugepages)))" "$PAGES"
expect "the log names what stayed and why" grep -q "pages stay instead of the original .* in use by running guests" \
	<(log_since_mark)
expect "the journal keeps the original" test -e $JOURNAL
expect "the guest still writes to its console" grep -qs KVMTUNE-GUEST-READY "$KT_GUEST_DIR/$NAME.console.log"

# Once the guest is gone, the journal gives the originals back.
virsh_q destroy $NAME >/dev/null
expect "kvmtune restore --orphans after the guest stopped" build/kvmtune restore --orphans
expect_eq "every pool back" "$(hp_snapshot)" "$before"
expect_eq "hugetlbfs mounts as before" "$(hugetlbfs_mounts)" "$SAVED_HUGETLBFS"
expect "the journal is gone" test ! -e $JOURNAL
summary
