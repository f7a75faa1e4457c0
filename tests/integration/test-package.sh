#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The .deb on this host: built (dpkg-buildpackage), installed with apt, kvm-dense applied
# by the real tuned and a KSM knob checked, switched back, crash recovery as the package's
# tuned.service drop-in does it (kill -9 tuned under kvm-dense, run the drop-in's
# ExecStartPre, start tuned with virtual-host: the originals are back), purged: no file of
# the package left and tuned still starts. Then the Ansible role from packaging/ansible,
# run twice with a local connection: the first run installs the same .deb, writes
# /etc/tuned/kvm-dense-variables.conf and activates kvm-dense, gated on tuned-adm verify;
# the second changes nothing. Purged again at the end.
#
# A source install (make install, from any branch) is set aside first and put back
# exactly as it was at the end; so are KSM, /etc/tuned and kvmtune's journals. Only the
# daemons this test started are stopped, by pid. It refuses to run while a tuned it did
# not start runs or the kvmtune package is installed.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

export DEBIAN_FRONTEND=noninteractive
PY=/usr/bin/python3
PLUGINS_DIR=$($PY -c 'import os, tuned.plugins as p; print(os.path.dirname(p.__file__))' 2>/dev/null)
STATE=/var/lib/kvmtune
DROPIN=/usr/lib/systemd/system/tuned.service.d/kvmtune.conf
JOURNAL=$STATE/kvm_ksm-kvm_ksm.journal
# Distinct from the kernel defaults and from kvm-dense, so a restore to the wrong values shows.
ORIGINALS=(run=0 pages_to_scan=123 sleep_millisecs=37 use_zero_pages=0)
[ -e $KSM/smart_scan ] && ORIGINALS+=(smart_scan=0)

WORK=
SAVED_STATE=
SOURCE_INSTALL=
PROFILES_DIR_EXISTED=

# What make install leaves in the system's tuned and in /usr/local, whichever branch ran
# it: plugins, the extension, their byte code, the recommend.d rule (the package has one
# of its own there), profiles that are directories, the command, its man pages and data.
source_install_files() {
	local f
	for f in "$PLUGINS_DIR"/_kvmtune.abi3.so "$PLUGINS_DIR"/kvmtune_tuned.py \
		"$PLUGINS_DIR"/plugin_kvm_*.py "$PLUGINS_DIR"/__pycache__/kvmtune_tuned.* \
		"$PLUGINS_DIR"/__pycache__/plugin_kvm_*.* "${PLUGINS_DIR%/plugins}"/profiles/functions/function_kvmtune_*.py \
		"${PLUGINS_DIR%/plugins}"/profiles/functions/__pycache__/function_kvmtune_*.* /usr/local/bin/kvmtune \
		/usr/lib/tuned/recommend.d/40-kvmtune.conf /usr/local/share/man/man8/kvmtune.8 \
		/usr/local/share/man/man7/tuned-profiles-kvm.7; do
		[ -e "$f" ] && echo "$f"
	done
	for f in /usr/lib/tuned/kvm-* /usr/lib/tuned/profiles/kvm-* /usr/local/share/kvmtune; do
		[ -d "$f" ] && [ ! -L "$f" ] && echo "$f"
	done
}

package_installed() {
	dpkg-query -W -f='${Status}' kvmtune 2>/dev/null | grep -q 'install ok installed'
}

purge() {
	apt-get purge -y -q kvmtune >"$WORK/purge.log" 2>&1
}

cleanup() {
	stop_tuned
	stop_system_bus
	package_installed && purge
	ksm_put_back
	rm -f /etc/tuned/kvm-*-variables.conf
	# A variables file the host had (a package removed but not purged) is put back too.
	[ -n "$SAVED_ETC_TUNED" ] && cp -a "$SAVED_ETC_TUNED"/kvm-*-variables.conf /etc/tuned/ 2>/dev/null
	etc_tuned_put_back
	rm -f $STATE/kvm_ksm-kvm_ksm.journal* $STATE/ksm-watch.journal*
	if [ -n "$SAVED_STATE" ]; then
		mkdir -p -m 0700 $STATE
		cp -a "$SAVED_STATE/." $STATE/ 2>/dev/null
		rm -rf "$SAVED_STATE"
	fi
	# The source install exactly as it was, byte code included.
	if [ -n "$SOURCE_INSTALL" ]; then
		tar -C / -xpf "$SOURCE_INSTALL" && echo "# the source install is back"
	fi
	[ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -d $KSM ] || { echo "this kernel has no KSM: nothing to test"; exit 1; }
[ -n "$PLUGINS_DIR" ] || { echo "tuned is not installed"; exit 1; }
for tool in dpkg-buildpackage dh dh_python3 apt-get ansible-playbook; do
	command -v $tool >/dev/null || { echo "$tool is missing: scripts/deps-debian.sh"; exit 1; }
done
if pid=$(tuned_pid); then
	echo "tuned is running (pid $pid) and was not started by this test: stop it first"
	exit 1
fi
if package_installed; then
	echo "the kvmtune package is installed: this test installs and purges it, remove it first"
	exit 1
fi

WORK=$(mktemp -d /tmp/kvmtune-test-package.XXXXXX)
chmod 0755 "$WORK" # apt reads the .deb as its unprivileged user
ksm_save
etc_tuned_save
mkdir -p $STATE
SAVED_STATE=$(mktemp -d)
cp -a $STATE/. "$SAVED_STATE/"
rm -f $STATE/*.journal*
[ -d /usr/lib/tuned/profiles ] && PROFILES_DIR_EXISTED=1

# A source install would be overwritten by the package, then removed with it.
mapfile -t found < <(source_install_files)
if [ "${#found[@]}" -gt 0 ]; then
	SOURCE_INSTALL=$WORK/source-install.tar
	tar -C / -cpf "$SOURCE_INSTALL" "${found[@]#/}" || exit 1
	make -s uninstall >/dev/null
	rm -rf "${found[@]}"
	echo "# a source install (${#found[@]} files) is set aside until the end"
fi
expect_eq "no source install left" "$(source_install_files)" ""

# 1. Build and install with apt.
start=$SECONDS
if log=$(packaging/build-deb.sh "$WORK/packages" 2>&1); then
	pass "dpkg-buildpackage -us -uc -b ($((SECONDS - start)) s)"
else
	failure "dpkg-buildpackage -us -uc -b"
	tail -30 <<<"$log" | sed 's/^/# /'
	exit 1
fi
deb=$(ls "$WORK"/packages/kvmtune_*.deb)
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print substr($6, 2) }' >"$WORK/files"
if apt-get install -y -q --no-install-recommends "$deb" >"$WORK/install.log" 2>&1; then
	pass "apt-get install $(basename "$deb")"
else
	failure "apt-get install $(basename "$deb")"
	tail -20 "$WORK/install.log" | sed 's/^/# /'
	exit 1
fi
expect "kvmtune is /usr/bin/kvmtune" test "$(command -v kvmtune)" = /usr/bin/kvmtune
expect "the variables file is in /etc/tuned" test -f /etc/tuned/kvm-dense-variables.conf

# no_file_left WHEN: nothing of the package remains after a purge.
no_file_left() {
	local f left=()
	while read -r f; do [ -e "$f" ] || [ -L "$f" ] && left+=("$f"); done <"$WORK/files"
	for f in /etc/tuned/kvm-dense-variables.conf "$PLUGINS_DIR"/__pycache__/kvmtune_tuned.* \
		"$PLUGINS_DIR"/__pycache__/plugin_kvm_*.* /usr/lib/tuned/profiles/kvm-dense \
		/usr/lib/systemd/system/tuned.service.d $STATE; do
		[ -e "$f" ] && left+=("$f")
	done
	[ -z "$PROFILES_DIR_EXISTED" ] && [ -e /usr/lib/tuned/profiles ] && left+=(/usr/lib/tuned/profiles)
	expect_eq "$1: no file of the package left" "${left[*]}" ""
}

# 2. tuned with the package's plugin and profile.
start_system_bus || { echo "cannot start a system D-Bus"; exit 1; }
start_tuned || exit 1
tuned-adm profile virtual-host >/dev/null
ksm_set "${ORIGINALS[@]}"
[ -e $KSM/advisor_mode ] && ksm_set advisor_mode=none
before=$(ksm_snapshot)
mark_log
expect "tuned-adm profile kvm-dense" tuned-adm profile kvm-dense
sleep 2
expect_eq "kvm-dense: use_zero_pages" "$(ksm_get use_zero_pages)" 1
expect "kvm-dense: tuned-adm verify" tuned-adm verify
expect "kvm-dense: the plugin is the package's" \
	grep -q "verify: passed: 'kvm_ksm.use_zero_pages' = '1'" <(log_since_mark)
expect_eq "kvm-dense: no error in tuned's log (the variables file was found)" \
	"$(log_since_mark | grep -c ' ERROR ')" 0
expect "tuned-adm profile virtual-host" tuned-adm profile virtual-host
expect_eq "virtual-host: every knob back" "$(ksm_snapshot)" "$before"

# 3. Crash recovery: kill -9 under kvm-dense, the drop-in's command, tuned with virtual-host.
tuned-adm profile kvm-dense >/dev/null
sleep 1
expect "kvm-dense again: the journal is written" test -e $JOURNAL
killed=$STARTED_TUNED_PID
kill -9 "$killed"
wait_gone "$killed"
STARTED_TUNED_PID=
expect_eq "killed under kvm-dense: use_zero_pages stays 1" "$(ksm_get use_zero_pages)" 1
pre=$(sed -n 's/^ExecStartPre=-\{0,1\}//p' $DROPIN)
expect_eq "the drop-in's ExecStartPre" "$pre" "/usr/bin/kvmtune restore --orphans"
orphans_count
out=$($pre 2>&1)
expect_eq "the drop-in's command succeeds" "$?" 0
expect_orphans_restored "it restores the journals" "$out"
echo virtual-host >/etc/tuned/active_profile
start_tuned || exit 1
expect_eq "tuned started with virtual-host" \
	"$(tuned-adm active | sed -n 's/^Current active profile: //p')" virtual-host
expect_eq "after the crash: originals back" "$(ksm_snapshot)" "$before"
expect "after the crash: no journal left" test ! -e $JOURNAL

# 4. Purge: nothing left, and tuned starts without the package.
if purge; then pass "apt-get purge kvmtune"; else failure "apt-get purge kvmtune"; fi
no_file_left "purged"
stop_tuned
start_tuned
expect_eq "tuned starts after the purge" \
	"$(tuned-adm active | sed -n 's/^Current active profile: //p')" virtual-host

# 5. The Ansible role, twice, against this host.
cat >"$WORK/vars.json" <<JSON
{"kvmtune_package_file": "$deb", "kvmtune_profile": "kvm-dense",
 "kvmtune_variables": {"kvm-dense": {"ksm_cpu_budget": 40, "ksm_thres_coef": 20}}}
JSON
playbook() { # LOG
	ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_LOCAL_TEMP="$WORK/ansible" \
		ANSIBLE_REMOTE_TEMP="$WORK/ansible" ansible-playbook -c local -i localhost, \
		packaging/ansible/site.yml -e @"$WORK/vars.json" >"$1" 2>&1
}
changed() { sed -n 's/^localhost *:.* changed=\([0-9]*\).*/\1/p' "$1"; }
mark_log
start=$SECONDS
playbook "$WORK/ansible-1.log"
rc=$?
expect_eq "ansible, first run: succeeds ($((SECONDS - start)) s)" "$rc" 0
[ "$rc" = 0 ] || tail -30 "$WORK/ansible-1.log" | sed 's/^/# /'
expect "ansible, first run: changes the host" test "$(changed "$WORK/ansible-1.log")" -ge 3
expect "ansible, first run: the package is installed" package_installed
expect "ansible, first run: the variables file is written" \
	grep -qx 'ksm_cpu_budget=40' /etc/tuned/kvm-dense-variables.conf
expect_eq "ansible, first run: kvm-dense is active" \
	"$(tuned-adm active | sed -n 's/^Current active profile: //p')" kvm-dense
expect_eq "ansible, first run: use_zero_pages" "$(ksm_get use_zero_pages)" 1
expect "ansible, first run: gated on tuned-adm verify" \
	grep -q 'Verify the active profile' "$WORK/ansible-1.log"
expect_eq "ansible, first run: no error in tuned's log" "$(log_since_mark | grep -c ' ERROR ')" 0
start=$SECONDS
playbook "$WORK/ansible-2.log"
rc=$?
expect_eq "ansible, second run: succeeds ($((SECONDS - start)) s)" "$rc" 0
expect_eq "ansible, second run: changed=0" "$(changed "$WORK/ansible-2.log")" 0
[ "$(changed "$WORK/ansible-2.log")" = 0 ] || grep -B2 '^changed:' "$WORK/ansible-2.log" | sed 's/^/# /'

tuned-adm profile virtual-host >/dev/null
expect_eq "role's profile switched away: every knob back" "$(ksm_snapshot)" "$before"
if purge; then pass "apt-get purge kvmtune after the role"; else failure "apt-get purge kvmtune after the role"; fi
no_file_left "purged after the role"

summary
