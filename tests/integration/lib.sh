# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the integration tests: assertions, the host's KSM state saved and put back,
# and the daemons a test starts (system D-Bus, tuned), stopped by pid, only if it started them.

KSM=/sys/kernel/mm/ksm
KSM_KNOBS="run pages_to_scan sleep_millisecs merge_across_nodes use_zero_pages max_page_sharing
stable_node_chains_prune_millisecs smart_scan advisor_mode advisor_max_cpu
advisor_min_pages_to_scan advisor_max_pages_to_scan advisor_target_scan_time"
TUNED_LOG=/var/log/tuned/tuned.log
TUNED_PIDFILE=/run/tuned/tuned.pid

PASSED=0
FAILED=0
STARTED_DBUS_PID=
STARTED_TUNED_PID=
declare -A SAVED_KSM=()
SAVED_ETC_TUNED=

pass() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
failure() { FAILED=$((FAILED + 1)); echo "not ok - $1"; }
# What this host cannot test, and why: said, and counted neither as passed nor as failed.
skip() { echo "skip - $1"; }

# expect_eq DESCRIPTION ACTUAL EXPECTED
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else failure "$1: got '$2', expected '$3'"; fi
}

# expect DESCRIPTION COMMAND...: the command succeeds.
expect() {
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then pass "$desc"; else failure "$desc ($* failed)"; fi
}

# ksm_get KNOB: the knob's value, advisor_mode reduced to its active word; "" when absent.
ksm_get() {
	local v
	[ -e "$KSM/$1" ] || { echo ""; return; }
	v=$(cat "$KSM/$1")
	if [[ $v == *"["*"]"* ]]; then v=${v#*[}; v=${v%%]*}; fi
	echo "$v"
}

ksm_snapshot() {
	local k out=""
	for k in $KSM_KNOBS; do out+="$k=$(ksm_get "$k") "; done
	echo "${out% }"
}

ksm_save() {
	local k
	for k in $KSM_KNOBS; do SAVED_KSM[$k]=$(ksm_get "$k"); done
}

# Puts back the saved knobs in the order the kernel accepts them.
ksm_put_back() {
	local k
	[ "${#SAVED_KSM[@]}" -gt 0 ] || return 0
	if [ "$(cat $KSM/pages_shared)" != 0 ]; then echo 2 >$KSM/run; fi
	[ -e $KSM/advisor_mode ] && echo none >$KSM/advisor_mode
	for k in $KSM_KNOBS; do
		case $k in run | advisor_mode) continue ;; esac
		[ -e "$KSM/$k" ] && [ "$(ksm_get "$k")" != "${SAVED_KSM[$k]}" ] &&
			echo "${SAVED_KSM[$k]}" >"$KSM/$k"
	done
	[ -e $KSM/advisor_mode ] && echo "${SAVED_KSM[advisor_mode]}" >$KSM/advisor_mode
	echo "${SAVED_KSM[run]}" >$KSM/run
}

# ksm_set KNOB=VALUE...: sets up a starting state the test can recognise afterwards.
ksm_set() {
	local kv
	for kv in "$@"; do echo "${kv#*=}" >"$KSM/${kv%%=*}"; done
}

# The tuned tests' starting values: distinct from the kernel defaults and from kvm-dense,
# so a restore to the wrong values shows.
ORIGINALS=(run=0 pages_to_scan=123 sleep_millisecs=37 use_zero_pages=0)
[ -e $KSM/smart_scan ] && ORIGINALS+=(smart_scan=0)

# dense_expected WHEN: kvm-dense's static knobs are set; run and pages_to_scan, which
# belong to its controller, are left alone on a roomy host without guests.
dense_expected() {
	expect_eq "$1: use_zero_pages" "$(ksm_get use_zero_pages)" 1
	[ -e $KSM/smart_scan ] && expect_eq "$1: smart_scan" "$(ksm_get smart_scan)" 1
	[ -e $KSM/advisor_mode ] && expect_eq "$1: advisor_mode" "$(ksm_get advisor_mode)" none
	expect_eq "$1: run left to the controller" "$(ksm_get run)" 0
	expect_eq "$1: pages_to_scan left to the controller" "$(ksm_get pages_to_scan)" 123
}

etc_tuned_save() {
	SAVED_ETC_TUNED=$(mktemp -d)
	cp -a /etc/tuned/. "$SAVED_ETC_TUNED/" 2>/dev/null || true
}

etc_tuned_put_back() {
	[ -n "$SAVED_ETC_TUNED" ] || return 0
	rm -rf /etc/tuned/kvmtune-test-*
	for f in active_profile profile_mode post_loaded_profile; do
		if [ -e "$SAVED_ETC_TUNED/$f" ]; then cp -a "$SAVED_ETC_TUNED/$f" /etc/tuned/; else rm -f "/etc/tuned/$f"; fi
	done
	if [ -e "$SAVED_ETC_TUNED/tuned-main.conf" ] &&
		! cmp -s "$SAVED_ETC_TUNED/tuned-main.conf" /etc/tuned/tuned-main.conf; then
		cp -a "$SAVED_ETC_TUNED/tuned-main.conf" /etc/tuned/
	fi
	rm -rf "$SAVED_ETC_TUNED"
}

# tuned_main_set KEY VALUE: one setting of tuned-main.conf (read when tuned starts), put
# back by etc_tuned_put_back.
tuned_main_set() {
	local f=/etc/tuned/tuned-main.conf
	if grep -qE "^[[:space:]]*$1[[:space:]]*=" "$f"; then
		sed -i -E "s/^[[:space:]]*$1[[:space:]]*=.*/$1 = $2/" "$f"
	else
		echo "$1 = $2" >>"$f"
	fi
}

system_bus_up() {
	dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetId \
		>/dev/null 2>&1
}

start_system_bus() {
	system_bus_up && return 0
	mkdir -p /run/dbus
	rm -f /run/dbus/system_bus_socket /run/dbus/pid
	STARTED_DBUS_PID=$(dbus-daemon --system --fork --print-pid) || return 1
	for _ in $(seq 50); do system_bus_up && return 0; sleep 0.1; done
	return 1
}

tuned_on_bus() {
	dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
		org.freedesktop.DBus.NameHasOwner string:com.redhat.tuned 2>/dev/null | grep -q 'boolean true'
}

tuned_pid() {
	local pid
	pid=$(cat $TUNED_PIDFILE 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start_tuned() {
	local pid
	if pid=$(tuned_pid); then
		if [ "$pid" != "$STARTED_TUNED_PID" ]; then
			echo "tuned is already running (pid $pid) and not started by this test: stop it first" >&2
			return 1
		fi
		return 0
	fi
	rm -f $TUNED_PIDFILE
	tuned -d || return 1
	for _ in $(seq 100); do
		if pid=$(tuned_pid) && tuned_on_bus; then
			STARTED_TUNED_PID=$pid
			return 0
		fi
		sleep 0.2
	done
	echo "tuned did not come up within 20 s; see $TUNED_LOG" >&2
	return 1
}

wait_gone() {
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}

stop_tuned() {
	[ -n "$STARTED_TUNED_PID" ] || return 0
	kill "$STARTED_TUNED_PID" 2>/dev/null && wait_gone "$STARTED_TUNED_PID"
	STARTED_TUNED_PID=
}

stop_system_bus() {
	[ -n "$STARTED_DBUS_PID" ] || return 0
	kill "$STARTED_DBUS_PID" 2>/dev/null && wait_gone "$STARTED_DBUS_PID"
	rm -f /run/dbus/system_bus_socket
	# dbus-daemon leaves its pid file behind when stopped.
	if [ "$(cat /run/dbus/pid 2>/dev/null)" = "$STARTED_DBUS_PID" ]; then rm -f /run/dbus/pid; fi
	STARTED_DBUS_PID=
}

# Lines tuned logged since mark_log.
LOG_MARK=0
mark_log() { LOG_MARK=$(wc -l <"$TUNED_LOG" 2>/dev/null || echo 0); }
log_since_mark() { tail -n +$((LOG_MARK + 1)) "$TUNED_LOG"; }

summary() {
	echo "$(basename "$0" .sh): $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

# Hugepage pools of every size on every node ("node0.2048kB=3 ..."), saved and put back.
HP_NODES=/sys/devices/system/node
declare -A SAVED_HP=()

hp_pools() {
	local p
	for p in $HP_NODES/node*/hugepages/hugepages-*kB; do
		[ -e "$p/nr_hugepages" ] && echo "$p"
	done
}

hp_key() { local p=$1 n; n=${p#$HP_NODES/}; echo "${n%%/*}.${p##*hugepages-}"; }

hp_snapshot() {
	local p out=""
	for p in $(hp_pools); do out+="$(hp_key "$p")=$(cat "$p/nr_hugepages") "; done
	echo "${out% }"
}

hp_save() {
	local p
	for p in $(hp_pools); do SAVED_HP[$p]=$(cat "$p/nr_hugepages"); done
}

hp_put_back() {
	local p
	for p in "${!SAVED_HP[@]}"; do
		[ "$(cat "$p/nr_hugepages")" = "${SAVED_HP[$p]}" ] || echo "${SAVED_HP[$p]}" >"$p/nr_hugepages"
	done
}

# hp_get NODE KB [FILE]: one node's pool counter.
hp_get() { cat "$HP_NODES/node$1/hugepages/hugepages-$2kB/${3:-nr_hugepages}"; }

# hugetlbfs mounts: a test unmounts only what appeared during it.
SAVED_HUGETLBFS=
hugetlbfs_mounts() { awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts | sort; }
hugetlbfs_save() { SAVED_HUGETLBFS=$(hugetlbfs_mounts); }
hugetlbfs_put_back() {
	local m
	for m in $(hugetlbfs_mounts); do
		grep -qxF "$m" <<<"$SAVED_HUGETLBFS" || umount "$m"
	done
}

# Block queues, saved with SAVED_QUEUES=$(queues) and put back with queues_put_back.
QUEUE_KNOBS="scheduler nr_requests read_ahead_kb rq_affinity"
SAVED_QUEUES=
# Every block queue's settings, one "dev knob value" line each, the scheduler reduced to
# the bracketed one.
queues() {
	local q dev k v
	for q in /sys/block/*/queue; do
		dev=${q%/queue}
		dev=${dev##*/}
		for k in $QUEUE_KNOBS; do
			[ -r "$q/$k" ] || continue
			v=$(cat "$q/$k")
			if [[ $v == *"["*"]"* ]]; then v=${v#*[}; v=${v%%]*}; fi
			echo "$dev $k $v"
		done
	done
}

# Writes back what queues() saved, scheduler first (switching it resets nr_requests).
queues_put_back() {
	local dev k v
	[ -n "$SAVED_QUEUES" ] || return 0
	for pass in scheduler other; do
		while read -r dev k v; do
			[ -e "/sys/block/$dev/queue/$k" ] || continue
			if [ "$pass" = scheduler ] && [ "$k" != scheduler ]; then continue; fi
			if [ "$pass" = other ] && [ "$k" = scheduler ]; then continue; fi
			cur=$(cat "/sys/block/$dev/queue/$k")
			if [[ $cur == *"["*"]"* ]]; then cur=${cur#*[}; cur=${cur%%]*}; fi
			[ "$cur" = "$v" ] || echo "$v" >"/sys/block/$dev/queue/$k" 2>/dev/null
		done <<<"$SAVED_QUEUES"
	done
}

# Libvirt guests: where libvirt pinned them and what each QEMU thread may run on.
emulatorpin() { virsh -q -c "${URI:-qemu:///system}" emulatorpin "$1" | awk '{print $NF}'; }
cpu_shares() { virsh -q -c "${URI:-qemu:///system}" schedinfo "$1" | awk '$1 == "cpu_shares" {print $3}'; }
qemu_pid() { cat /run/libvirt/qemu/"$1".pid; }
# Cpus_allowed_list of a task (/proc/PID or /proc/PID/task/TID).
allowed() { awk '/^Cpus_allowed_list/ {print $2}' "$1/status" 2>/dev/null; }
# threads_allowed NAME vcpu|other: Cpus_allowed_list of its vCPU threads, or of the rest.
threads_allowed() {
	local pid t comm out=""
	pid=$(qemu_pid "$1") || return 1
	for t in /proc/"$pid"/task/*; do
		comm=$(cat "$t/comm" 2>/dev/null) || continue
		if { [[ $comm == CPU\ * ]] && [ "$2" = vcpu ]; } || { [[ $comm != CPU\ * ]] && [ "$2" = other ]; }; then
			out+="$(allowed "$t") "
		fi
	done
	echo "$out" | tr ' ' '\n' | sed '/^$/d' | sort -u | paste -sd' '
}

# wait_for SECONDS COMMAND...: polls every 0.1 s until the command succeeds.
wait_for() {
	local limit=$1
	shift
	for _ in $(seq $((limit * 10))); do "$@" && return 0; sleep 0.1; done
	return 1
}

# expect_orphans_restored DESCRIPTION OUTPUT: `kvmtune restore --orphans` counted every
# journal that was in /var/lib/kvmtune before it ran (ORPHANS, set by orphans_count), at least one.
orphans_count() { ORPHANS=$(find /var/lib/kvmtune -maxdepth 1 -name '*.journal' 2>/dev/null | wc -l); }
expect_orphans_restored() {
	local n
	n=$(sed -n 's/^\([0-9]*\) journals\{0,1\} restored$/\1/p' <<<"$2")
	if [ "${ORPHANS:-0}" -ge 1 ] && [ "$n" = "$ORPHANS" ]; then pass "$1 ($n)"
	else failure "$1: counted '$n', expected the $ORPHANS journals present"; fi
}

# dense_rollbacks BEFORE: with kvm-dense applied by the tuned this test started, a switch
# to virtual-host, tuned-adm off, and a tuned killed with SIGKILL and restarted each give
# KSM back exactly as BEFORE (ksm_snapshot) and leave no journal ($JOURNAL). Returns 1
# when tuned cannot be restarted.
dense_rollbacks() {
	local before=$1 killed
	expect "tuned-adm profile virtual-host" tuned-adm profile virtual-host
	expect_eq "virtual-host: every knob back" "$(ksm_snapshot)" "$before"
	expect "virtual-host: the journal is gone" test ! -e "$JOURNAL"

	tuned-adm profile kvm-dense >/dev/null
	dense_expected "kvm-dense again"
	expect "tuned-adm off" tuned-adm off
	expect_eq "off: every knob back" "$(ksm_snapshot)" "$before"

	# The restarted tuned re-applies, and the switch restores the originals from the
	# journal, not the values the first tuned wrote.
	tuned-adm profile kvm-dense >/dev/null
	dense_expected "before kill -9"
	killed=$STARTED_TUNED_PID
	kill -9 "$killed"
	wait_gone "$killed"
	STARTED_TUNED_PID=
	dense_expected "after kill -9"
	start_tuned || return 1
	expect_eq "restarted tuned runs kvm-dense" \
		"$(tuned-adm active | sed -n 's/^Current active profile: //p')" kvm-dense
	dense_expected "after the restart"
	expect "tuned-adm profile virtual-host after the crash" tuned-adm profile virtual-host
	expect_eq "after the crash: originals from the journal" "$(ksm_snapshot)" "$before"
	expect "after the crash: the journal is gone" test ! -e "$JOURNAL"
}

