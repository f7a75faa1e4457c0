#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `kvmtune check` and `kvmtune status` on this host: a real QEMU (TCG) guest under a real
# libvirtd is counted; a defined domain with a disk on the host's own disk, cache=unsafe
# and an e1000 NIC fails and warns as it should; with the real tuned applying kvm-dense,
# status names the tuned instance that holds KSM and the journal's originals, shows the
# dynamic controller's last decision, and what `kvmtune pin apply` pinned (from its
# journal); its --json and --metrics are read back by the schema and Prometheus' parser.
# Guests, daemons, pinning, KSM and /etc/tuned are put back whatever fails.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

GUESTS=tests/guests/guests.sh
PREFIX=ktcheck
DEFINED=ktcheck-defined
KVMTUNE=build/kvmtune
PY=/usr/bin/python3
OUT=$(mktemp -d)

cleanup() {
	[ -e /var/lib/kvmtune/pin-cmd.journal ] && $KVMTUNE pin restore >/dev/null 2>&1
	stop_tuned
	stop_system_bus
	virsh -q -c qemu:///system undefine "$DEFINED" >/dev/null 2>&1
	$GUESTS down $PREFIX >/dev/null 2>&1
	$GUESTS daemons-down >/dev/null 2>&1
	ksm_put_back
	etc_tuned_put_back
	rm -f /var/lib/kvmtune/kvm_ksm-kvm_ksm.journal
	rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x $KVMTUNE ] || { echo "build kvmtune first (make)"; exit 1; }
ksm_save
etc_tuned_save

# jq-free reading of the JSON: python3 prints what an expression selects.
json() { # FILE EXPRESSION (over d)
	$PY -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
valid() { # FILE SCHEMA
	$PY -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' "$1" "$2"
}

$GUESTS daemons-up || exit 1
$GUESTS up 1 256 16 16 $PREFIX || exit 1

# 1. A running guest and nothing wrong: every check passes, exit status 0.
$KVMTUNE check --json >"$OUT/check1.json"
expect_eq "a running guest: exit status 0" "$?" 0
expect "a running guest: --json matches the schema" valid "$OUT/check1.json" schemas/kvmtune-check.schema.json
expect_eq "the guest is among the domains" "$(json "$OUT/check1.json" "'$PREFIX-1' in d['domains']")" True
expect_eq "no FAIL" "$(json "$OUT/check1.json" "d['summary']['fail']")" 0
expect "its memory is counted" grep -q '"check":"memory-overcommit","level":"PASS","message":"[0-9]* domains\? commits\? ' "$OUT/check1.json"
expect "no count says \"1 domains\" or the like" sh -c "! grep -Eq '[^0-9.]1 (domains|vCPUs|CPUs|disks|pages) ' '$OUT/check1.json'"

# 2. A defined domain with a disk on this host's disk, cache=unsafe and an e1000 NIC.
root_dev=$(basename "$(findmnt -n -o SOURCE / | sed 's/[0-9]*$//; s/p$//')")
[ -e "/sys/block/$root_dev" ] || root_dev=vda
cat >"$OUT/defined.xml" <<XML
<domain type='qemu'>
  <name>$DEFINED</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='unsafe'/>
      <source dev='/dev/$root_dev'/>
      <target dev='sda' bus='sata'/>
    </disk>
    <interface type='network'>
      <source network='default'/>
      <model type='e1000'/>
    </interface>
  </devices>
</domain>
XML
expect "virsh define" virsh -q -c qemu:///system define "$OUT/defined.xml"
$KVMTUNE check >"$OUT/check2.txt"
expect_eq "cache=unsafe: exit status 1" "$?" 1
cat "$OUT/check2.txt"
expect "cache=unsafe fails" grep -q "^FAIL  disk-cache  *domain $DEFINED disk sda has cache mode unsafe" "$OUT/check2.txt"
expect "the SATA disk warns" grep -q "^WARN  virtio  *domain $DEFINED disk sda is on bus sata" "$OUT/check2.txt"
expect "the e1000 NIC warns" grep -q "^WARN  virtio  *domain $DEFINED NIC on default is e1000" "$OUT/check2.txt"
if [ "$(cat "/sys/block/$root_dev/queue/rotational")" = 1 ] &&
	grep -q '\[none\]' "/sys/block/$root_dev/queue/scheduler"; then
	expect "a rotational $root_dev with none warns" \
		grep -q "^WARN  disk-scheduler  *domain $DEFINED disk sda is on $root_dev" "$OUT/check2.txt"
else
	expect "$root_dev is found under the disk" grep -q "^PASS  disk-scheduler  *[1-9]" "$OUT/check2.txt"
fi
virsh -q -c qemu:///system undefine "$DEFINED" >/dev/null

# 3. The real tuned applies kvm-dense: status names who holds KSM and what it replaced.
start_system_bus || exit 1
start_tuned || exit 1
expect "tuned-adm profile kvm-dense" tuned-adm profile kvm-dense
sleep 2
# The dynamic controller writes its state file at its first decision (interval 5 s).
for _ in $(seq 30); do
	[ -s /run/kvmtune/ksm-controller.state ] && break
	sleep 1
done
# Pinning as status shows it, from its journal: tuned's kvm_pin when the installed
# kvm-dense has one, else `kvmtune pin apply` with the guest running.
if [ "$($KVMTUNE status --json | $PY -c 'import json, sys; print([a["controlled_by"] is not None for a in json.load(sys.stdin)["areas"] if a["area"] == "pin"])')" = "[True]" ]; then
	pin_journal=kvm_pin-kvm_pin
	pin_owner="by tuned instance kvm_pin"
else
	pin_journal=pin-cmd
	pin_owner="held by nobody now"
	expect "kvmtune pin apply" $KVMTUNE pin apply
fi
$KVMTUNE status --json >"$OUT/status.json"
expect_eq "status: exit status 0" "$?" 0
expect "status --json matches the schema" valid "$OUT/status.json" schemas/kvmtune-status.schema.json
expect_eq "status: the active profile" "$(json "$OUT/status.json" "d['profile']")" kvm-dense
expect_eq "status: tuned's instance holds KSM" \
	"$(json "$OUT/status.json" "[a['controlled_by']['holder'] for a in d['areas'] if a['area'] == 'ksm'][0]")" \
	"tuned instance kvm_ksm, mode dynamic"
expect_eq "status: the journal is tuned's, not an orphan" \
	"$(json "$OUT/status.json" "[(j['area'], j['orphan']) for j in d['journals'] if j['name'] == 'kvm_ksm-kvm_ksm']")" \
	"[('ksm', False)]"
expect_eq "status: the KSM controller's last decision, by tuned's instance, live" \
	"$(json "$OUT/status.json" "[(c['owner'], c['stale'], c['ksm']['mode'], c['ksm']['reason'] != '', c['age_seconds'] < 120) for c in d['controllers'] if c['area'] == 'ksm']")" \
	"[('tuned instance kvm_ksm, mode dynamic', False, 'dynamic', True, True)]"
expect_eq "status: what pin apply pinned, from its journal" \
	"$(json "$OUT/status.json" "[(c['journal'], '$PREFIX-1' in [x['name'] for x in c['subjects']]) for c in d['controllers'] if c['area'] == 'pin']")" \
	"[('$pin_journal', True)]"
$KVMTUNE status >"$OUT/status.txt"
expect "status: the decision line" grep -Eq '^Last decision:  [0-9-]+ [0-9:]+ UTC \([0-9]+ (s|min) ago\): .+' "$OUT/status.txt"
expect "status: the controller line" grep -q '^Controller:     tuned instance kvm_ksm, mode dynamic, phase [a-z]* since ' "$OUT/status.txt"
expect "status: the pinning line" grep -q "^Pinning:        journal $pin_journal, written .*, $pin_owner: 1 domain: $PREFIX-1" "$OUT/status.txt"
$KVMTUNE status --metrics >"$OUT/metrics.txt"
expect "status --metrics parses as Prometheus text" $PY -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
s = {(x.name, tuple(sorted(x.labels.items()))): x.value
     for f in text_string_to_metric_families(open(sys.argv[1]).read()) for x in f.samples}
assert s[("kvmtune_profile_info", (("profile", "kvm-dense"),))] == 1
assert s[("kvmtune_area_controlled", (("area", "ksm"), ("holder", "tuned instance kvm_ksm, mode dynamic")))] == 1
assert s[("kvmtune_ksm_controller_up", ())] == 1
assert sum(v for (n, l), v in s.items() if n == "kvmtune_ksm_controller_phase") == 1
assert s[("kvmtune_ksm_controller_info", (("mode", "dynamic"), ("owner", "tuned instance kvm_ksm, mode dynamic")))] == 1
assert s[("kvmtune_ksm_controller_guests_bytes", ())] > 0
assert s[("kvmtune_controller_journal_subjects", (("area", "pin"), ("journal", sys.argv[2])))] >= 1
' "$OUT/metrics.txt" "$pin_journal"
$KVMTUNE check >"$OUT/check3.txt"
expect "check: KSM controlled by tuned's instance" \
	grep -q "^PASS  ksm  *KSM run=[01], saving .*, controlled by tuned instance kvm_ksm" "$OUT/check3.txt"
echo "--- kvmtune check"
cat "$OUT/check3.txt"
echo "--- kvmtune status"
cat "$OUT/status.txt"
[ "$pin_journal" = pin-cmd ] && expect "kvmtune pin restore" $KVMTUNE pin restore
expect "tuned-adm off" tuned-adm off

summary
