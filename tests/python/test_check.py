# SPDX-License-Identifier: LGPL-2.1-or-later
"""`kvmtune check` and `kvmtune status` as a user runs them, on fixture roots: --json against
the schemas shipped in schemas/ (python3-jsonschema), --metrics through the Prometheus text
parser of python3-prometheus-client."""
import fcntl
import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import unittest
import zlib

import jsonschema
from prometheus_client.parser import text_string_to_metric_families

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
KVMTUNE = os.path.join(TOP, "build", "kvmtune")
FIXTURES = os.path.join(TOP, "tests", "fixtures")
SCHEMAS = os.path.join(TOP, "schemas")


def schema(name):
    with open(os.path.join(SCHEMAS, name)) as f:
        s = json.load(f)
    jsonschema.Draft7Validator.check_schema(s)
    return s


CHECK_SCHEMA = schema("kvmtune-check.schema.json")
FACTS_SCHEMA = schema("kvmtune-facts.schema.json")
STATUS_SCHEMA = schema("kvmtune-status.schema.json")


def run(root, *args):
    p = subprocess.run([KVMTUNE, "--root=" + root, *args], capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def journal_text(values):
    """A journal as lib/journal.c writes it: the entries' CRC-32 on the end line."""
    lines = "".join("%s=%s\n" % kv for kv in values)
    return ("# values replaced by kvmtune, restored on unapply\nkvmtune-journal 1\n" + lines +
            "end %d %08x\n" % (len(values), zlib.crc32(lines.encode())))


class FixtureRoot(unittest.TestCase):
    fixture = "check-2node"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kvmtune-check-")
        self.root = os.path.join(self.tmp, "root")
        shutil.copytree(os.path.join(FIXTURES, self.fixture), self.root, symlinks=True)
        self.domains = os.path.join(self.root, "etc", "libvirt", "qemu")
        self.locks = []

    def tearDown(self):
        for fd in self.locks:
            os.close(fd)
        shutil.rmtree(self.tmp)

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def hold(self, area, holder, journal):
        """Takes an area's lock as lib/lock.c does: an OFD write lock on the whole file."""
        fd = os.open(os.path.join(self.root, "run", "kvmtune", area + ".lock"),
                     os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0))
        os.write(fd, ("pid=%d\nholder=%s\njournal=%s\n" % (os.getpid(), holder, journal)).encode())
        self.locks.append(fd)


class TestCheck(FixtureRoot):
    def check_json(self, *args, rc):
        code, out, err = run(self.root, "check", "--json", *args)
        self.assertEqual(code, rc, err)
        doc = json.loads(out)
        jsonschema.validate(doc, CHECK_SCHEMA)
        levels = [r["level"] for r in doc["results"]]
        self.assertEqual(doc["summary"], {"pass": levels.count("PASS"), "warn": levels.count("WARN"),
                                          "fail": levels.count("FAIL")})
        return doc

    def test_domains_dir(self):
        doc = self.check_json("--domains-dir=" + self.domains, rc=1)
        self.assertEqual(doc["domains"], ["db1", "web1"])
        by = {}
        for r in doc["results"]:
            by.setdefault(r["check"], []).append(r)
        self.assertEqual([r["level"] for r in by["hugepages"]], ["FAIL", "FAIL"])
        self.assertIn("1 domain needs 8 pages of 1.0 GiB, the pool has 4", by["hugepages"][0]["message"])
        self.assertEqual(by["disk-scheduler"][0]["level"], "WARN")
        self.assertIn("web1 disk vda is on sda", by["disk-scheduler"][0]["message"])
        self.assertEqual(by["memory-overcommit"][0]["level"], "PASS")
        for r in doc["results"]:
            if r["level"] != "PASS":
                self.assertTrue(r["hint"], r)

    def test_no_domains_passes(self):
        doc = self.check_json("--uri=none", rc=0)
        self.assertEqual(doc["domains"], [])
        self.assertEqual(doc["summary"]["fail"], 0)
        self.assertEqual(doc["summary"]["warn"], 0)

    def test_libvirt_test_driver(self):
        # libvirt's test driver holds one domain "test": 8 GiB, 2 vCPUs.
        doc = self.check_json("--uri=test:///default", rc=0)
        self.assertEqual(doc["domains"], ["test"])
        mem = [r for r in doc["results"] if r["check"] == "memory-overcommit"][0]
        self.assertIn("1 domain commits 8.0 GiB", mem["message"])

    def test_unreachable_libvirt_warns(self):
        doc = self.check_json("--uri=qemu+unix:///system?socket=/nonexistent", rc=0)
        self.assertEqual(doc["results"][0]["check"], "domains")
        self.assertEqual(doc["results"][0]["level"], "WARN")

    def test_overcommit_fails_without_swap(self):
        with open(os.path.join(self.root, "proc", "meminfo")) as f:
            meminfo = f.read().replace("SwapTotal:       8388608 kB", "SwapTotal:             0 kB")
        self.write("proc/meminfo", meminfo)
        for i in range(3):
            self.write("dom/g%d.xml" % i, "<domain type='kvm'><name>g%d</name>"
                       "<memory unit='GiB'>10</memory><vcpu>1</vcpu></domain>" % i)
        doc = self.check_json("--domains-dir=" + os.path.join(self.root, "dom"), rc=1)
        swap = [r for r in doc["results"] if r["check"] == "swap"][0]
        self.assertEqual(swap["level"], "FAIL")
        self.assertIn("at least 10.0 GiB (8.0 GiB for the host, 2.0 GiB for the guests)",
                      swap["message"])

    def test_text_output(self):
        code, out, _ = run(self.root, "check", "--domains-dir=" + self.domains)
        self.assertEqual(code, 1)
        self.assertRegex(out, r"(?m)^FAIL  hugepages +1 domain needs 8 pages")
        self.assertRegex(out, r"(?m)^ +hint: raise nr_hugepages")
        self.assertRegex(out, r"(?m)^\d+ passed, \d+ warnings, 2 failed$")

    def test_counts_in_the_singular(self):
        # kvm-dense active and nothing holding KSM: exactly one warning.
        self.write("etc/tuned/active_profile", "kvm-dense\n")
        self.write("dom/a.xml", "<domain type='kvm'><name>a</name><memory unit='GiB'>1</memory>"
                   "<vcpu>1</vcpu></domain>")
        code, out, _ = run(self.root, "check", "--domains-dir=" + os.path.join(self.root, "dom"))
        self.assertEqual(code, 0)
        self.assertRegex(out, r"(?m)^\d+ passed, 1 warning, 0 failed$")
        self.assertIn("1 domain commits 1.0 GiB", out)
        self.assertIn("1 vCPU on 4 CPUs", out)
        self.assertNotRegex(out, r"\b1 (domains|vCPUs|CPUs|disks|pages|warnings)\b")

    def test_bad_arguments(self):
        self.assertEqual(run(self.root, "check", "--host-reserve=lots")[0], 2)
        self.assertEqual(run(self.root, "check", "--uri=none", "--domains-dir=/x")[0], 2)
        self.assertEqual(run(self.root, "check", "extra")[0], 2)
        for bad in ("0", "65", "2.5", "many"):
            code, out, err = run(self.root, "check", "--vcpu-ratio=" + bad)
            self.assertEqual((code, out), (2, ""), bad)
            self.assertEqual(err, "kvmtune: error: --vcpu-ratio=%s is invalid: expected vCPUs "
                                  "per host CPU, an integer 1..64\n" % bad)
        code, _, err = run(self.root, "check", "--domains-dir=/nonexistent")
        self.assertEqual(code, 1)
        self.assertIn("--domains-dir=/nonexistent", err)


class TestPeer(FixtureRoot):
    def facts(self, *args):
        code, out, err = run(self.root, "check", "--facts", *args)
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        jsonschema.validate(doc, FACTS_SCHEMA)
        return doc

    def peer(self, doc, rc):
        path = os.path.join(self.tmp, "other.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        code, out, err = run(self.root, "check", "--json", "--peer=" + path,
                             "--domains-dir=" + self.domains)
        self.assertEqual(code, rc, err)
        res = json.loads(out)
        jsonschema.validate(res, CHECK_SCHEMA)
        return {r["check"]: r for r in res["results"]}

    def test_facts(self):
        doc = self.facts("--domains-dir=" + self.domains)
        self.assertEqual(doc["hostname"], "kvm-a")
        self.assertEqual(doc["cpu"]["vendor"], "GenuineIntel")
        self.assertTrue(doc["cpu"]["nx"] and doc["cpu"]["lm"])
        self.assertIn("avx512f", doc["cpu"]["flags"])
        self.assertEqual(doc["domains"], ["db1", "web1"])
        self.assertEqual(doc["bridges"], ["br0"])
        self.assertEqual(doc["used_bridges"], ["br0"])
        self.assertEqual(doc["used_networks"], ["default"])

    def test_peer(self):
        other = self.facts("--uri=none")
        other.update(hostname="kvm-b", networks=["default"], storage_pools=[])
        other["cpu"]["flags"].remove("avx512f")
        by = self.peer(other, rc=0)
        self.assertEqual(by["peer-cpu"]["level"], "WARN")
        self.assertIn("kvm-b lacks 1 CPU flag this host has: avx512f", by["peer-cpu"]["message"])
        self.assertEqual(by["peer-network"]["level"], "PASS")
        self.assertEqual(by["peer-domains"]["level"], "PASS")
        other.update(domains=["web1"], bridges=[])
        other["cpu"].update(vendor="AuthenticAMD", nx=False)
        by = self.peer(other, rc=1)
        self.assertEqual(by["peer-domains"]["level"], "FAIL")
        self.assertEqual(by["peer-network"]["level"], "FAIL")
        self.assertIn("bridges kvm-b lacks: br0", by["peer-network"]["message"])

    def test_bad_peer(self):
        path = os.path.join(self.tmp, "other.json")
        for text in ("", "{", '{"version": 2}', "[]"):
            with open(path, "w") as f:
                f.write(text)
            code, _, err = run(self.root, "check", "--peer=" + path, "--uri=none")
            self.assertEqual(code, 2, text)
            self.assertIn("is not the output of kvmtune check --facts", err)
        self.assertEqual(run(self.root, "check", "--facts", "--json")[0], 2)


class TestStatus(FixtureRoot):
    def setUp(self):
        super().setUp()
        self.write("etc/tuned/active_profile", 'kvm-"dense"\\\n')
        self.write("var/lib/kvmtune/kvm_ksm-kvm_ksm.journal",
                   journal_text([("run", "0"), ("pages_to_scan", "100")]))
        self.write("var/lib/kvmtune/hugepages-old.journal", journal_text([("nr_hugepages", "0")]))
        self.write("var/lib/kvmtune/pin-x.journal", journal_text([("a", "1")]).rsplit("end ", 1)[0])
        self.hold("ksm", "tuned instance kvm_ksm (mode dynamic)", "kvm_ksm-kvm_ksm")
        self.write("run/kvmtune/hugepages-2048kB.lock", "")
        self.write("sys/kernel/mm/ksm/pages_sharing", "2048\n")
        # The KSM controller's state file as lib/ksmctl-state.c writes it; pid 1 runs in
        # the fixture. A pinning journal nobody holds.
        self.now = int(time.time())
        self.write("run/kvmtune/ksm-controller.state",
                   "owner=tuned instance kvm_ksm\nmode=dynamic\nphase=merging\nsince=%d\n"
                   "decided=%d\nreason=guests 3072 MiB + threshold above RAM: merging\n"
                   "guests_mib=3072\nguests_rss_mib=2900\nthreshold_mib=6553\n"
                   "available_mib=20000\npsi_some_avg10=1.50\nsaved_mib=12.5\n"
                   "ksmd_cpu_seconds=3.25\npid=1\n" % (self.now - 60, self.now - 30))
        self.write("var/lib/kvmtune/kvm_pin-kvm_pin.journal",
                   journal_text([("uri", "qemu:///system"), ("9f1c.id", "4"),
                                 ("9f1c.name", "db1"), ("9f1c.vcpu0", "0-3")]))

    def test_json(self):
        code, out, err = run(self.root, "status", "--json")
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        jsonschema.validate(doc, STATUS_SCHEMA)
        self.assertEqual(doc["profile"], 'kvm-"dense"\\')
        areas = {a["area"]: a["controlled_by"] for a in doc["areas"]}
        self.assertEqual(areas["ksm"], {"holder": "tuned instance kvm_ksm (mode dynamic)",
                                        "pid": os.getpid(), "journal": "kvm_ksm-kvm_ksm"})
        self.assertIsNone(areas["hugepages-2048kB"])
        journals = {j["name"]: j for j in doc["journals"]}
        ksm = journals["kvm_ksm-kvm_ksm"]
        self.assertEqual((ksm["area"], ksm["orphan"]), ("ksm", False))
        self.assertEqual(ksm["values"][0], {"key": "run", "host_had": "0", "now": "0"})
        self.assertTrue(journals["hugepages-old"]["orphan"])
        self.assertIsNone(journals["hugepages-old"]["corrupt"])
        # status only reads: a corrupt journal is shown, and left where it is.
        self.assertIn("truncated", journals["pin-x"]["corrupt"])
        self.assertTrue(os.path.exists(os.path.join(self.root, "var/lib/kvmtune/pin-x.journal")))
        self.assertEqual(doc["ksm"]["saved_bytes"], 2048 * os.sysconf("SC_PAGE_SIZE"))
        ctl = {c["area"]: c for c in doc["controllers"]}
        self.assertEqual(sorted(ctl), ["ksm", "pin"])
        self.assertEqual((ctl["ksm"]["source"], ctl["ksm"]["stale"], ctl["ksm"]["decided"]),
                         ("state", False, self.now - 30))
        self.assertGreaterEqual(ctl["ksm"]["age_seconds"], 30)
        self.assertEqual(ctl["ksm"]["ksm"]["phase"], "merging")
        self.assertEqual(ctl["ksm"]["ksm"]["reason"], "guests 3072 MiB + threshold above RAM: merging")
        self.assertEqual(ctl["ksm"]["ksm"]["inputs"]["guests_rss_mib"], 2900)
        self.assertEqual((ctl["pin"]["journal"], ctl["pin"]["stale"], ctl["pin"]["owner"]),
                         ("kvm_pin-kvm_pin", True, None))
        self.assertEqual(ctl["pin"]["subjects"], [{"name": "db1", "items": "vcpu0"}])
        pools = {(p["node"], p["page_size"]): p["total"] for p in doc["hugepage_pools"]}
        self.assertEqual(pools[(None, 2 << 20)], 1024)
        self.assertEqual(pools[(1, 1 << 30)], 2)

    def test_metrics(self):
        code, out, err = run(self.root, "status", "--metrics")
        self.assertEqual(code, 0, err)
        samples = {}
        for family in text_string_to_metric_families(out):
            self.assertTrue(family.name.startswith("kvmtune_"), family.name)
            self.assertTrue(family.documentation, family.name)
            self.assertEqual(family.type, "gauge", family.name)
            for s in family.samples:
                samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
        self.assertEqual(samples[("kvmtune_profile_info", (("profile", 'kvm-"dense"\\'),))], 1)
        self.assertEqual(samples[("kvmtune_ksm_saved_bytes", ())], 2048 * os.sysconf("SC_PAGE_SIZE"))
        self.assertEqual(samples[("kvmtune_ksm_counter", (("counter", "pages_sharing"),))], 2048)
        self.assertEqual(samples[("kvmtune_area_controlled", (
            ("area", "ksm"), ("holder", "tuned instance kvm_ksm (mode dynamic)")))], 1)
        self.assertEqual(samples[("kvmtune_area_controlled", (
            ("area", "hugepages-2048kB"), ("holder", "")))], 0)
        self.assertEqual(samples[("kvmtune_journal_values", (
            ("journal", "hugepages-old"), ("orphan", "1")))], 1)
        self.assertEqual(samples[("kvmtune_hugepages_total", (
            ("node", "1"), ("page_size", str(1 << 30))))], 2)
        self.assertEqual(samples[("kvmtune_hugepages_free", (
            ("node", "all"), ("page_size", str(2 << 20))))], 1024)
        self.assertEqual(samples[("kvmtune_ksm_controller_up", ())], 1)
        self.assertEqual(samples[("kvmtune_ksm_controller_phase", (("phase", "merging"),))], 1)
        self.assertEqual(samples[("kvmtune_ksm_controller_phase", (("phase", "settled"),))], 0)
        self.assertEqual(samples[("kvmtune_ksm_controller_info", (
            ("mode", "dynamic"), ("owner", "tuned instance kvm_ksm")))], 1)
        self.assertEqual(samples[("kvmtune_ksm_controller_last_decision_timestamp_seconds", ())],
                         self.now - 30)
        self.assertEqual(samples[("kvmtune_ksm_controller_guests_resident_bytes", ())], 2900 << 20)
        self.assertEqual(samples[("kvmtune_ksm_controller_memory_pressure_ratio", ())], 0.015)
        self.assertEqual(samples[("kvmtune_ksm_controller_saved_bytes", ())], 12.5 * (1 << 20))
        self.assertEqual(samples[("kvmtune_controller_journal_subjects", (
            ("area", "pin"), ("journal", "kvm_pin-kvm_pin")))], 1)
        self.assertAlmostEqual(samples[("kvmtune_controller_journal_written_timestamp_seconds", (
            ("area", "pin"), ("journal", "kvm_pin-kvm_pin")))], time.time(), delta=60)
        # Prometheus' conventions: base units, _timestamp_seconds, _info with value 1.
        for name, _ in samples:
            self.assertRegex(name, r"^kvmtune_[a-z0-9_]+$")
            self.assertNotRegex(name, r"_(mib|percent|ms)$")

    def test_text(self):
        code, out, _ = run(self.root, "status")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"(?m)^ksm +tuned instance kvm_ksm \(mode dynamic\) \(pid \d+, "
                              r"journal kvm_ksm-kvm_ksm\)$")
        self.assertRegex(out, r"(?m)^kvm_ksm-kvm_ksm +run +0 +0$")
        self.assertIn("nobody holds it", out)
        self.assertRegex(out, r"(?m)^Controller: +tuned instance kvm_ksm, mode dynamic, phase "
                              r"merging since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+ s ago\)$")
        self.assertRegex(out, r"(?m)^Last decision: +\S+ \S+ UTC \(3\d s ago\): guests 3072 MiB "
                              r"\+ threshold above RAM: merging$")
        self.assertRegex(out, r"(?m)^Inputs: +guests 3072 MiB \(resident 2900 MiB\)")
        self.assertRegex(out, r"(?m)^Pinning: +journal kvm_pin-kvm_pin, written .*, held by nobody "
                              r"now: 1 domain: db1 \(vcpu0\)$")
        self.assertRegex(out, r"(?m)^I/O schedulers: +none")
        self.assertNotRegex(out, r"\b1 (domains|devices|CPUs|vCPUs|pages)\b")


class TestStatusBareHost(FixtureRoot):
    """A host without tuned, kvmtune's state or KSM."""
    fixture = "no-ksm"

    def test_json_and_metrics(self):
        code, out, err = run(self.root, "status", "--json")
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        jsonschema.validate(doc, STATUS_SCHEMA)
        self.assertIsNone(doc["profile"])
        self.assertEqual(doc["ksm"]["state"], "unavailable")
        self.assertEqual(doc["journals"], [])
        code, out, err = run(self.root, "status", "--metrics")
        self.assertEqual(code, 0, err)
        names = {f.name for f in text_string_to_metric_families(out)}
        self.assertIn("kvmtune_ksm_available", names)
        self.assertIn("kvmtune_ksm_controller_up", names)
        self.assertNotIn("kvmtune_ksm_controller_phase", names)
        self.assertEqual(doc["controllers"], [])


if __name__ == "__main__":
    unittest.main()
