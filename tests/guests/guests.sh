#!/usr/bin/env bash
# Boots and tears down kvmtune test guests: transient libvirt domains running
# under QEMU TCG (never KVM) whose RAM holds a known amount of cross-guest
# identical pages and of guest-unique pages (see build-initramfs.sh).
#
#   guests.sh up N MEM_MIB SHARED_MIB UNIQUE_MIB [PREFIX]
#   guests.sh down [PREFIX]
#   guests.sh pids [PREFIX]
#   guests.sh daemons-up | daemons-down
#   guests.sh build
#   guests.sh kernel
#
# Can also be sourced for its kt_* functions; sourcing turns on
# set -euo pipefail in the caller, which the functions rely on.
#
# Environment:
#   KT_GUEST_DIR      artifacts, console logs, daemon pid record
#                     (default /var/tmp/kvmtune-guests)
#   KT_LIBVIRT_URI    default qemu:///system
#   KT_KERNEL         guest kernel (default: Debian's cloud kernel, downloaded
#                     once into KT_KERNEL_CACHE, never installed on the host)
#   KT_KERNEL_CACHE   default /var/cache/kvmtune/guest-kernel
#   KT_READY_TIMEOUT  seconds to wait for all guests (default 300)
#   KT_MAX_GUESTS     cap on running domains, the host has 2 cores (default 3)
#   KT_KEEP_ON_FAILURE=1  leave guests running when `up` fails, for debugging
#   KT_GUEST_DEVICES  XML added to every guest's <devices> (a <disk> for the iosched test)
set -euo pipefail

KT_GUEST_DIR=${KT_GUEST_DIR:-/var/tmp/kvmtune-guests}
KT_LIBVIRT_URI=${KT_LIBVIRT_URI:-qemu:///system}
KT_READY_TIMEOUT=${KT_READY_TIMEOUT:-300}
KT_MAX_GUESTS=${KT_MAX_GUESTS:-3}
KT_KEEP_ON_FAILURE=${KT_KEEP_ON_FAILURE:-0}
KT_KERNEL=${KT_KERNEL:-}
KT_KERNEL_CACHE=${KT_KERNEL_CACHE:-/var/cache/kvmtune/guest-kernel}

readonly KT_DEFAULT_PREFIX=kt-guest
# A metapackage: it depends on the image of the newest cloud kernel.
readonly KT_KERNEL_PACKAGE=linux-image-cloud-amd64
readonly KT_READY_MARKER=KVMTUNE-GUEST-READY
readonly KT_FAILED_MARKER=KVMTUNE-GUEST-FAILED
readonly KT_LIBVIRTD_PIDFILE=/run/libvirtd.pid
readonly KT_VIRTLOGD_PIDFILE=/run/virtlogd.pid
readonly KT_QEMU_PIDDIR=/run/libvirt/qemu
# The daemons get an unreachable system bus.  GLib makes a process that is
# connected to the system bus SIGTERM itself when the bus goes away, and other
# tests on this host start and stop their own dbus-daemon; libvirtd needs no
# D-Bus without systemd.
readonly KT_NO_DBUS=unix:path=/nonexistent/kvmtune-no-dbus

kt_src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

kt_log() {
	printf 'guests.sh: %s\n' "$*" >&2
}

kt_die() {
	kt_log "error: $*"
	exit 1
}

kt_virsh() {
	virsh -q -c "$KT_LIBVIRT_URI" "$@"
}

kt_is_uint() {
	[[ $1 =~ ^[0-9]+$ ]]
}

kt_check_prefix() {
	[[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] ||
		kt_die "bad PREFIX '$1' (letters, digits, _ . - only)"
}

kt_check_dir() {
	# The path ends up inside XML attribute values.
	[[ $KT_GUEST_DIR == /* && $KT_GUEST_DIR != *[\<\>\&\'\"]* ]] ||
		kt_die "KT_GUEST_DIR must be an absolute path without <>&'\" characters"
	# QEMU runs as libvirt-qemu and must reach the kernel and initrd; an
	# existing directory keeps the mode its owner chose.
	if [[ ! -d $KT_GUEST_DIR ]]; then
		mkdir -p "$KT_GUEST_DIR"
		chmod 755 "$KT_GUEST_DIR"
	fi
}

kt_libvirt_reachable() {
	timeout 20 virsh -q -c "$KT_LIBVIRT_URI" uri >/dev/null 2>&1
}

# True if PID is a live (not zombie) process, named NAME if given.  A daemon
# that just exited can linger as a zombie until PID 1 reaps it.
kt_alive() {
	local pid=$1 name=${2:-} stat comm
	kt_is_uint "$pid" || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]] || return 1
	[[ -z $name ]] && return 0
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
	[[ $comm == "$name" ]]
}

# Prints the pid in PIDFILE if that process is alive and named NAME.
kt_pid_from_file() {
	local pidfile=$1 name=$2 pid
	[[ -r $pidfile ]] || return 1
	# Daemon pid files carry no trailing newline, which read would reject.
	pid=$(<"$pidfile")
	kt_alive "$pid" "$name" || return 1
	printf '%s\n' "$pid"
}

# Waits up to SECS for CMD to succeed.
kt_wait_for() {
	local secs=$1
	shift
	local deadline=$((SECONDS + secs))
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# Starts virtlogd and libvirtd if they are not running; the pids of the ones
# started here go to KT_GUEST_DIR/daemons.pids so daemons-down stops only
# those.
kt_daemons_up() {
	kt_check_dir
	local record=$KT_GUEST_DIR/daemons.pids pid
	if ! kt_pid_from_file "$KT_VIRTLOGD_PIDFILE" virtlogd >/dev/null; then
		DBUS_SYSTEM_BUS_ADDRESS=$KT_NO_DBUS virtlogd -d
		kt_wait_for 20 kt_pid_from_file "$KT_VIRTLOGD_PIDFILE" virtlogd >/dev/null ||
			kt_die "virtlogd did not start"
		pid=$(kt_pid_from_file "$KT_VIRTLOGD_PIDFILE" virtlogd)
		printf 'virtlogd %s\n' "$pid" >>"$record"
		kt_log "started virtlogd (pid $pid)"
	fi
	if ! kt_libvirt_reachable; then
		kt_pid_from_file "$KT_LIBVIRTD_PIDFILE" libvirtd >/dev/null &&
			kt_die "libvirtd runs but $KT_LIBVIRT_URI does not answer"
		DBUS_SYSTEM_BUS_ADDRESS=$KT_NO_DBUS libvirtd -d
		kt_wait_for 60 kt_libvirt_reachable ||
			kt_die "libvirtd did not come up on $KT_LIBVIRT_URI"
		pid=$(kt_pid_from_file "$KT_LIBVIRTD_PIDFILE" libvirtd) ||
			kt_die "libvirtd answers but $KT_LIBVIRTD_PIDFILE names no libvirtd"
		printf 'libvirtd %s\n' "$pid" >>"$record"
		kt_log "started libvirtd (pid $pid)"
	fi
}

# Stops, by pid and newest first, only the daemons kt_daemons_up started.
kt_daemons_down() {
	local record=$KT_GUEST_DIR/daemons.pids
	if [[ ! -f $record ]]; then
		kt_log "no daemons were started by guests.sh"
		return 0
	fi
	local -a lines=()
	mapfile -t lines <"$record"
	if kt_libvirt_reachable; then
		local running
		running=$(kt_running_domains | tr '\n' ' ')
		[[ -z $running ]] ||
			kt_log "warning: domains still running, QEMU keeps them alive: $running"
	fi
	local i name pid
	for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
		read -r name pid <<<"${lines[i]}"
		kt_is_uint "${pid:-}" || continue
		# A recycled pid must not be killed: check it still is that daemon.
		if ! kt_alive "$pid" "$name"; then
			kt_log "$name (pid $pid) already gone"
			continue
		fi
		kill -TERM "$pid"
		if ! kt_wait_for 30 kt_pid_gone "$pid"; then
			kt_log "warning: $name (pid $pid) ignored SIGTERM, sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		kt_log "stopped $name (pid $pid)"
	done
	rm -f "$record"
}

kt_pid_gone() {
	! kt_alive "$1"
}

# Restarts the libvirtd kt_daemons_up started (QEMU keeps the guests running meanwhile)
# and records its new pid: 0, 1 when it failed, 2 (nothing done) when libvirtd was not
# started here.
kt_libvirtd_restart() {
	local record=$KT_GUEST_DIR/daemons.pids old new
	old=$(awk '$1 == "libvirtd" {print $2}' "$record" 2>/dev/null | tail -1)
	[[ -n $old ]] && kt_alive "$old" libvirtd || return 2
	kill -TERM "$old"
	kt_wait_for 30 kt_pid_gone "$old" || return 1
	DBUS_SYSTEM_BUS_ADDRESS=$KT_NO_DBUS libvirtd -d
	kt_wait_for 60 kt_libvirt_reachable || return 1
	new=$(kt_pid_from_file "$KT_LIBVIRTD_PIDFILE" libvirtd) || return 1
	sed -i "s/^libvirtd $old\$/libvirtd $new/" "$record"
}

kt_running_domains() {
	kt_virsh list --name | sed '/^$/d'
}

# Running domains named PREFIX-<number>, the names `up` gives.
kt_prefix_domains() {
	local prefix=$1 name rest
	while read -r name; do
		[[ $name == "$prefix"-* ]] || continue
		rest=${name#"$prefix"-}
		[[ $rest =~ ^[0-9]+$ ]] && printf '%s\n' "$name"
	done < <(kt_running_domains)
	return 0
}

kt_qemu_pid() {
	local pid pidfile=$KT_QEMU_PIDDIR/$1.pid
	[[ -r $pidfile ]] || return 1
	pid=$(<"$pidfile")
	kt_is_uint "$pid" || return 1
	printf '%s\n' "$pid"
}

# Prints the cached cloud kernel, downloading and unpacking the package first when the
# cache has none. The kernel is never installed: that would run update-initramfs on the
# host and could make the test kernel the bootloader's default.
kt_default_kernel() {
	local -a kernels=("$KT_KERNEL_CACHE"/boot/vmlinuz-*)
	if [[ ! -e ${kernels[0]} ]]; then
		kt_log "downloading $KT_KERNEL_PACKAGE into $KT_KERNEL_CACHE"
		"$kt_src_dir/../../scripts/apt-fetch.sh" --depends "$KT_KERNEL_CACHE" "$KT_KERNEL_PACKAGE" >&2 ||
			kt_die "cannot download $KT_KERNEL_PACKAGE (needed once, from the package archive); or set KT_KERNEL"
		# Guests boot a busybox initramfs that loads no module.
		rm -rf "${KT_KERNEL_CACHE:?}/lib" "${KT_KERNEL_CACHE:?}/usr"
		kernels=("$KT_KERNEL_CACHE"/boot/vmlinuz-*)
		[[ -e ${kernels[0]} ]] || kt_die "$KT_KERNEL_PACKAGE holds no /boot/vmlinuz-*"
	fi
	printf '%s\n' "${kernels[@]}" | sort -V | tail -n 1
}

# Puts vmlinuz and initramfs.cpio.gz into KT_GUEST_DIR.  The kernel is copied
# because libvirt re-owns kernel and initrd to the QEMU user while a guest
# runs, which should not happen to files under /boot.  The initramfs is
# rebuilt only when build-initramfs.sh or busybox changed.
kt_prepare_images() {
	kt_check_dir
	local busybox=${KT_BUSYBOX:-/bin/busybox}
	[[ -r $busybox ]] || kt_die "$busybox not found (apt-get install busybox-static)"

	local lockfd kernel=$KT_KERNEL
	exec {lockfd}>"$KT_GUEST_DIR/.prepare.lock"
	flock "$lockfd"
	[[ -n $kernel ]] || kernel=$(kt_default_kernel)
	[[ -r $kernel ]] || kt_die "kernel $kernel not readable"
	kt_log "guest kernel $kernel"

	if ! cmp -s "$kernel" "$KT_GUEST_DIR/vmlinuz"; then
		cp "$kernel" "$KT_GUEST_DIR/.vmlinuz.$$"
		chmod 644 "$KT_GUEST_DIR/.vmlinuz.$$"
		mv -f "$KT_GUEST_DIR/.vmlinuz.$$" "$KT_GUEST_DIR/vmlinuz"
	fi

	local key old_key=
	key=$(cat "$kt_src_dir/build-initramfs.sh" "$busybox" | sha256sum)
	key=${key%% *}
	[[ -r $KT_GUEST_DIR/initramfs.key ]] && read -r old_key <"$KT_GUEST_DIR/initramfs.key"
	if [[ $key != "$old_key" || ! -s $KT_GUEST_DIR/initramfs.cpio.gz ]]; then
		kt_log "building initramfs in $KT_GUEST_DIR"
		KT_BUSYBOX=$busybox "$kt_src_dir/build-initramfs.sh" "$KT_GUEST_DIR" >/dev/null
		printf '%s\n' "$key" >"$KT_GUEST_DIR/initramfs.key"
	fi

	exec {lockfd}>&-
}

kt_render_xml() {
	local name=$1 mem_mib=$2 cmdline=$3 console_log=$4 xml
	xml=$(<"$kt_src_dir/guest.xml.in")
	# Quoted replacements: bash 5.2 would otherwise expand & in them.
	xml=${xml//@NAME@/"$name"}
	xml=${xml//@MEM_MIB@/"$mem_mib"}
	xml=${xml//@KERNEL@/"$KT_GUEST_DIR/vmlinuz"}
	xml=${xml//@INITRD@/"$KT_GUEST_DIR/initramfs.cpio.gz"}
	xml=${xml//@CMDLINE@/"$cmdline"}
	xml=${xml//@CONSOLE_LOG@/"$console_log"}
	[[ -z ${KT_GUEST_DEVICES:-} ]] || xml=${xml//"</devices>"/"$KT_GUEST_DEVICES</devices>"}
	printf '%s\n' "$xml"
}

kt_destroy() {
	local name err
	for name in "$@"; do
		if err=$(kt_virsh destroy "$name" 2>&1 >/dev/null); then
			kt_log "destroyed $name"
		elif ! kt_virsh domstate "$name" >/dev/null 2>&1; then
			# A guest whose init died is destroyed by on_reboot already.
			kt_log "$name already gone"
		else
			kt_log "warning: could not destroy $name: $err"
		fi
	done
}

# Called on every failure path of kt_up after domains exist.
kt_up_fail() {
	local msg=$1
	shift
	if [[ $KT_KEEP_ON_FAILURE == 1 ]]; then
		kt_log "KT_KEEP_ON_FAILURE=1: leaving $* running"
	elif [[ $# -gt 0 ]]; then
		kt_destroy "$@"
	fi
	kt_die "$msg"
}

kt_console_tail() {
	local log=$1
	[[ -r $log ]] || return 0
	kt_log "last console lines of $log:"
	tail -n 15 "$log" | tr -d '\r' | sed 's/^/    /' >&2
}

kt_up() {
	[[ $# -ge 4 && $# -le 5 ]] ||
		kt_die "usage: guests.sh up N MEM_MIB SHARED_MIB UNIQUE_MIB [PREFIX]"
	local n=$1 mem_mib=$2 shared_mib=$3 unique_mib=$4 prefix=${5:-$KT_DEFAULT_PREFIX}
	local arg
	for arg in "$n" "$mem_mib" "$shared_mib" "$unique_mib" "$KT_READY_TIMEOUT" "$KT_MAX_GUESTS"; do
		kt_is_uint "$arg" || kt_die "'$arg' is not a non-negative integer"
	done
	kt_check_prefix "$prefix"
	((n >= 1)) || kt_die "N must be at least 1"
	((shared_mib <= 16384)) || kt_die "SHARED_MIB is limited to 16384"
	# Guest kernel, memmap and watermarks take about 64 MiB + MEM/16 (measured:
	# 256 MiB guests OOM with 192 MiB of fill, 4 GiB ones with 3872 MiB).
	local max_fill=$((mem_mib - mem_mib / 16 - 64))
	((shared_mib + unique_mib <= max_fill)) ||
		kt_die "SHARED_MIB + UNIQUE_MIB must be at most $max_fill for MEM_MIB $mem_mib (64 MiB + MEM_MIB/16 stay with the guest kernel)"

	kt_daemons_up
	local -a running=() mine=()
	mapfile -t running < <(kt_running_domains)
	((${#running[@]} + n <= KT_MAX_GUESTS)) ||
		kt_die "$n more guests would make $((${#running[@]} + n)) running domains, KT_MAX_GUESTS is $KT_MAX_GUESTS"
	mapfile -t mine < <(kt_prefix_domains "$prefix")
	((${#mine[@]} == 0)) ||
		kt_die "domains with prefix $prefix already run (${mine[*]}); run: guests.sh down $prefix"

	kt_prepare_images

	# transparent_hugepage=never: with THP on, khugepaged raises the guest's
	# min_free_kbytes to ~44 MiB, memory the fill could not use.
	local cmdline="console=ttyS0 quiet panic=-1 transparent_hugepage=never"
	cmdline+=" kt.shared_mib=$shared_mib kt.unique_mib=$unique_mib"
	local -a names=() pids=() logs=() started=()
	local i name log xmlfile pid
	for ((i = 1; i <= n; i++)); do
		name=$prefix-$i
		log=$KT_GUEST_DIR/$name.console.log
		xmlfile=$KT_GUEST_DIR/$name.xml
		kt_render_xml "$name" "$mem_mib" "$cmdline kt.seed=$i" "$log" >"$xmlfile"
		# A stale log could already hold the ready marker.
		rm -f "$log"
		kt_virsh create "$xmlfile" >/dev/null ||
			kt_up_fail "virsh create $xmlfile failed" "${names[@]}"
		started+=("${EPOCHREALTIME/./}")
		names+=("$name")
		pid=$(kt_qemu_pid "$name") ||
			kt_up_fail "no QEMU pid for $name in $KT_QEMU_PIDDIR" "${names[@]}"
		pids+=("$pid")
		logs+=("$log")
	done

	local -a ready_us=()
	local deadline=$((SECONDS + KT_READY_TIMEOUT)) pending=$n now
	while ((pending > 0)); do
		pending=0
		for ((i = 0; i < n; i++)); do
			[[ -n ${ready_us[i]:-} ]] && continue
			log=${logs[i]}
			if grep -qs "$KT_READY_MARKER" "$log"; then
				now=${EPOCHREALTIME/./}
				ready_us[i]=$((now - started[i]))
				continue
			fi
			if grep -qs "$KT_FAILED_MARKER" "$log"; then
				kt_console_tail "$log"
				kt_up_fail "guest ${names[i]} reported failure" "${names[@]}"
			fi
			if kt_pid_gone "${pids[i]}"; then
				kt_console_tail "$log"
				kt_up_fail "guest ${names[i]} stopped before it was ready (QEMU pid ${pids[i]} gone)" "${names[@]}"
			fi
			pending=$((pending + 1))
		done
		((pending == 0)) && break
		if ((SECONDS >= deadline)); then
			for ((i = 0; i < n; i++)); do
				[[ -n ${ready_us[i]:-} ]] || kt_console_tail "${logs[i]}"
			done
			kt_up_fail "$pending guest(s) not ready after ${KT_READY_TIMEOUT}s" "${names[@]}"
		fi
		sleep 0.5
	done

	for ((i = 0; i < n; i++)); do
		kt_log "$(printf '%s ready after %d.%01d s' "${names[i]}" \
			$((ready_us[i] / 1000000)) $((ready_us[i] % 1000000 / 100000)))"
		printf '%s %s\n' "${names[i]}" "${pids[i]}"
	done
}

kt_down() {
	[[ $# -le 1 ]] || kt_die "usage: guests.sh down [PREFIX]"
	local prefix=${1:-$KT_DEFAULT_PREFIX}
	kt_check_prefix "$prefix"
	if ! kt_libvirt_reachable; then
		kt_log "$KT_LIBVIRT_URI not reachable: no domains to destroy"
		return 0
	fi
	local -a doms=()
	mapfile -t doms < <(kt_prefix_domains "$prefix")
	((${#doms[@]} > 0)) || {
		kt_log "no running domains with prefix $prefix"
		return 0
	}
	kt_destroy "${doms[@]}"
}

kt_pids() {
	[[ $# -le 1 ]] || kt_die "usage: guests.sh pids [PREFIX]"
	local prefix=${1:-$KT_DEFAULT_PREFIX} name pid
	kt_check_prefix "$prefix"
	kt_libvirt_reachable || kt_die "$KT_LIBVIRT_URI not reachable"
	while read -r name; do
		pid=$(kt_qemu_pid "$name") || pid=-
		printf '%s %s\n' "$name" "$pid"
	done < <(kt_prefix_domains "$prefix")
}

kt_usage() {
	cat <<EOF
usage: guests.sh up N MEM_MIB SHARED_MIB UNIQUE_MIB [PREFIX]
       guests.sh down [PREFIX]
       guests.sh pids [PREFIX]
       guests.sh daemons-up | daemons-down
       guests.sh build
       guests.sh kernel
PREFIX defaults to $KT_DEFAULT_PREFIX; domains are named PREFIX-1..PREFIX-N.
EOF
}

kt_main() {
	local cmd=${1:-}
	[[ $# -gt 0 ]] && shift
	case $cmd in
	up) kt_up "$@" ;;
	down) kt_down "$@" ;;
	pids) kt_pids "$@" ;;
	daemons-up) kt_daemons_up ;;
	daemons-down) kt_daemons_down ;;
	build) kt_prepare_images && printf '%s\n' "$KT_GUEST_DIR/vmlinuz" "$KT_GUEST_DIR/initramfs.cpio.gz" ;;
	kernel) if [[ -n $KT_KERNEL ]]; then printf '%s\n' "$KT_KERNEL"; else kt_default_kernel; fi ;;
	-h | --help | help) kt_usage ;;
	*)
		kt_usage >&2
		exit 2
		;;
	esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	kt_main "$@"
fi
