#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kvm_hugepages inside the real tuned daemon on this host's real pools: reserve, verify,
# rollback exact on switch and off, a killed tuned, invalid values, a node this host lacks
# and a request beyond memory. Every pool, /etc/tuned and the daemons are put back
# as they were, whatever fails.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

J2=/var/lib/kvmtune/kvm_hugepages-hp2m.journal
J1=/var/lib/kvmtune/kvm_hugepages-hp1g.journal
BADJ=/var/lib/kvmtune/kvm_hugepages-hpbad.journal
G2=/sys/kernel/mm/hugepages/hugepages-2048kB

THP=/sys/kernel/mm/transparent_hugepage
THP_KNOBS="enabled defrag khugepaged/max_ptes_none khugepaged/max_ptes_shared"
declare -A SAVED_THP=()
thp_get() { local v; v=$(cat "$THP/$1"); if [[ $v == *"["*"]"* ]]; then v=${v#*[}; v=${v%%]*}; fi; echo "$v"; }
thp_snapshot() { local k out=""; for k in $THP_KNOBS; do out+="$k=$(thp_get "$k") "; done; echo "${out% }"; }

cleanup() {
	stop_tuned
	stop_system_bus
	hp_put_back
	for k in "${!SAVED_THP[@]}"; do
		[ "$(thp_get "$k")" = "${SAVED_THP[$k]}" ] || echo "${SAVED_THP[$k]}" >"$THP/$k"
	done
	etc_tuned_put_back
	rm -f $J2 $J1 $BADJ
	hugetlbfs_put_back
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -e $G2/nr_hugepages ] || { echo "this kernel has no 2M hugepages: nothing to test"; exit 1; }
command -v tuned >/dev/null || { echo "tuned is not installed"; exit 1; }
[ -f "$(/usr/bin/python3 -c 'import os, tuned.plugins as p; print(os.path.dirname(p.__file__))')/plugin_kvm_hugepages.py" ] ||
	{ echo "kvmtune is not installed into tuned: run make install"; exit 1; }

hugetlbfs_save
hp_save
for k in $THP_KNOBS; do SAVED_THP[$k]=$(thp_get "$k"); done
etc_tuned_save
rm -f $J2 $J1
start_system_bus || { echo "cannot start a system D-Bus"; exit 1; }
start_tuned || exit 1
tuned-adm profile virtual-host >/dev/null
# Originals the test recognises afterwards: 3 pages of 2M on node 0, no 1G page.
echo 3 >$HP_NODES/node0/hugepages/hugepages-2048kB/nr_hugepages
[ -e $HP_NODES/node0/hugepages/hugepages-1048576kB ] &&
	echo 0 >$HP_NODES/node0/hugepages/hugepages-1048576kB/nr_hugepages
before=$(hp_snapshot)

mkdir -p /etc/tuned/kvmtune-test-hp
cat >/etc/tuned/kvmtune-test-hp/tuned.conf <<'CONF'
[main]
summary=kvmtune test: a 2M pool per node and one 1G page
include=virtual-host
[hp2m]
type=kvm_hugepages
size=2M
pages=512M
libvirt_uri=none
[hp1g]
type=kvm_hugepages
size=1G
pages=0:1G
reclaim=drop-caches
libvirt_uri=none
CONF

# 1. Apply and verify.
mark_log
expect "tuned-adm profile kvmtune-test-hp" tuned-adm profile kvmtune-test-hp
expect_eq "2M pool reserved on node 0" "$(hp_get 0 2048)" 256
expect_eq "2M pages all free" "$(hp_get 0 2048 free_hugepages)" 256
expect_eq "1G page reserved on node 0" "$(hp_get 0 1048576)" 1
expect "the 2M journal holds the original" grep -qx "node0=3" $J2
if [ -z "$SAVED_HUGETLBFS" ]; then
	expect "a hugetlbfs is mounted for 2M pages" grep -q "^hugetlbfs /dev/hugepages hugetlbfs .*pagesize=2M" /proc/mounts
	expect "and one for 1G pages" grep -qE "^hugetlbfs /dev/hugepages1G hugetlbfs .*pagesize=(1024M|1G)" /proc/mounts
	expect "the journal records the mount" grep -qx "mounted=dev/hugepages" $J2
fi
expect "the 1G journal holds the original" grep -qx "node0=0" $J1
expect "tuned-adm verify passes" tuned-adm verify
expect "verify reports each pool" grep -q "verify: passed: 'hp2m.node0.2M' = '256'" <(log_since_mark)
expect_eq "no error in tuned's log" "$(log_since_mark | grep -c ' ERROR ')" 0
status=$(build/kvmtune hugepages status --json --libvirt-uri=none)
expect "status names tuned as the 2M pool's holder" grep -q '"holder":"tuned instance hp2m"' <<<"$status"

# 2. Drift is seen by verify.
echo 200 >$HP_NODES/node0/hugepages/hugepages-2048kB/nr_hugepages
mark_log
expect "verify fails after drift" test "$(tuned-adm verify >/dev/null 2>&1; echo $?)" != 0
expect "verify names the pool" grep -q "verify: failed: 'hp2m.node0.2M' = '200', expected '256'" \
	<(log_since_mark)

# 3. Switching to a profile without kvm_hugepages restores every pool exactly.
expect "tuned-adm profile virtual-host" tuned-adm profile virtual-host
expect_eq "virtual-host: every pool back" "$(hp_snapshot)" "$before"
expect "virtual-host: the journals are gone" test ! -e $J2 -a ! -e $J1
expect_eq "virtual-host: hugetlbfs mounts as before" "$(hugetlbfs_mounts)" "$SAVED_HUGETLBFS"

# 4. tuned-adm off restores every pool.
tuned-adm profile kvmtune-test-hp >/dev/null
expect_eq "applied again" "$(hp_get 0 2048)" 256
expect "tuned-adm off" tuned-adm off
expect_eq "off: every pool back" "$(hp_snapshot)" "$before"

# 5. tuned killed after apply: the pools stay, the journal keeps the originals, and the
#    switch after the restart restores them.
tuned-adm profile kvmtune-test-hp >/dev/null
killed=$STARTED_TUNED_PID
kill -9 "$killed"
wait_gone "$killed"
STARTED_TUNED_PID=
expect_eq "after kill -9: the pool stays" "$(hp_get 0 2048)" 256
start_tuned || exit 1
expect_eq "after the restart: still reserved" "$(hp_get 0 2048)" 256
expect "tuned-adm profile virtual-host after the crash" tuned-adm profile virtual-host
expect_eq "after the crash: originals from the journal" "$(hp_snapshot)" "$before"

# 6. Invalid values: one error line naming option, value and what is allowed; nothing changes.
mkdir -p /etc/tuned/kvmtune-test-hpbad
cat >/etc/tuned/kvmtune-test-hpbad/tuned.conf <<'CONF'
[main]
summary=kvmtune test: invalid kvm_hugepages values
[hpbad]
type=kvm_hugepages
pages=-1
size=3M
min_available=100T
libvirt_uri=none
CONF
mark_log
pid=$STARTED_TUNED_PID
tuned-adm profile kvmtune-test-hpbad >/dev/null 2>&1
errors=$(log_since_mark | grep ' ERROR ' | grep -c 'kvm_hugepages\[hpbad\]')
expect_eq "bad values: one error line" "$errors" 1
line=$(log_since_mark | grep ' ERROR ' | grep 'kvm_hugepages\[hpbad\]')
for part in "pages=-1 is invalid: expected auto" \
	"size=3M is invalid: this kernel has no pool of that page size; it has 2M, 1G" \
	"min_available=100T is invalid: it is not below the host's memory"; do
	expect "bad values: the line names '$part'" grep -qF "$part" <<<"$line"
done
expect_eq "bad values: pools unchanged" "$(hp_snapshot)" "$before"
expect "bad values: no journal" test ! -e $BADJ
expect "bad values: tuned still runs" kill -0 "$pid"

# 7. A node that does not exist, and more than memory can give: refused before any write.
cat >/etc/tuned/kvmtune-test-hpbad/tuned.conf <<'CONF'
[main]
summary=kvmtune test: a node this host lacks
[hpbad]
type=kvm_hugepages
pages=0:64M,7:1G
libvirt_uri=none
CONF
mark_log
tuned-adm profile kvmtune-test-hpbad >/dev/null 2>&1
expect "missing node: one error naming it" grep -q "kvm_hugepages\[hpbad\]: pages is invalid for this host: node 7 does not exist" \
	<(log_since_mark)
expect_eq "missing node: pools unchanged" "$(hp_snapshot)" "$before"
mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
sed -i "s/^pages=.*/pages=$((mem_kb / 1024))M/" /etc/tuned/kvmtune-test-hpbad/tuned.conf
mark_log
tuned-adm profile kvmtune-test-hpbad >/dev/null 2>&1
expect "all of RAM: refused with the numbers" grep -q "kvm_hugepages\[hpbad\]: the 2M pools would take .* more, but MemAvailable is .* and min_available=.* must stay" \
	<(log_since_mark)
expect_eq "all of RAM: pools unchanged" "$(hp_snapshot)" "$before"
expect "tuned still runs" kill -0 "$pid"

# 8. kvm-dense's THP values go through tuned's vm and sysfs plugins, and come back.
thp_before=$(thp_snapshot)
tuned-adm profile kvm-dense >/dev/null 2>&1
expect_eq "kvm-dense: THP values" "$(thp_snapshot)" \
	"enabled=madvise defrag=defer khugepaged/max_ptes_none=64 khugepaged/max_ptes_shared=0"
tuned-adm profile virtual-host >/dev/null 2>&1
expect_eq "virtual-host: THP values back" "$(thp_snapshot)" "$thp_before"
expect "tuned still runs after all that" kill -0 "$pid"
tuned-adm profile virtual-host >/dev/null 2>&1
expect_eq "at the end: every pool back" "$(hp_snapshot)" "$before"
expect_eq "at the end: hugetlbfs mounts as before" "$(hugetlbfs_mounts)" "$SAVED_HUGETLBFS"
summary
