# SPDX-License-Identifier: LGPL-2.1-or-later
"""Calls every public callable of _kvmtune with wrong, missing and hostile arguments and
prints one JSON line per call: what it raised, or that it returned. Run by
test_hostile.py in a child interpreter, so that a crash shows as the child dying, with
the extension directory first on sys.path and KVMTUNE_ROOT at a fixture tree."""
import gc
import json
import os
import sys

import _kvmtune

ROOT = os.environ["KVMTUNE_ROOT"]


class Weird(object):
    """Breaks every protocol it is asked for."""

    def __str__(self):
        raise RuntimeError("no str")

    def __hash__(self):
        raise RuntimeError("no hash")

    def __eq__(self, other):
        raise RuntimeError("no eq")

    def __iter__(self):
        raise RuntimeError("no iter")

    def __len__(self):
        raise RuntimeError("no len")


class Str(str):
    """A str subclass whose methods are not to be trusted."""

    def __str__(self):
        raise RuntimeError("subclass str")


HOSTILE = [None, 0, -1, 2 ** 70, 1.5, float("nan"), True, b"bytes", bytearray(b"x"), "", "\0",
           "a\0b", "../../etc", "/abs", "x" * 100000, "\udcff", [], (), {}, set(), object(),
           Weird(), Str("kvm_ksm-x"), {"run": "1"}, {"run": None}, {"run": "\0"},
           {"run": Weird()}, {1: "1"}, {"pages_to_scan": 2 ** 80}, {"x" * 5000: "y" * 5000},
           {"mode": "dynamic", "interval": "0"}, {"advisor_mode": "none [scan-time]"},
           {"ksmtuned_conf": "/proc/self/mem"}, {"ksmtuned_conf": "relative"},
           {"libvirt_uri": "x" * 1000}]
GOOD_OPTS = {"use_zero_pages": "1", "mode": "static"}


def outcome(fn, *args, **kwargs):
    try:
        r = fn(*args, **kwargs)
    except BaseException as e:  # every exception is a fine answer; a crash is not
        return type(e).__name__
    if isinstance(r, _kvmtune.Tuning):
        r.unapply(True)
    return "returned"


def arg_sets(arity):
    yield ()
    for h in HOSTILE:
        yield (h,) * max(arity, 1)
    for h in HOSTILE:
        # Hostile in one place, plausible elsewhere.
        for pos in range(arity):
            good = ["kvm_ksm-hostile", "tuned instance hostile", dict(GOOD_OPTS)][:arity]
            good[pos] = h
            yield tuple(good)
    yield ("a",) * (arity + 3)


def main():
    results = []

    def log(prio, text):
        raise RuntimeError("a log callback that raises")

    ctxs = [_kvmtune.Context(root=ROOT, log=log), _kvmtune.Context(root=ROOT)]
    # Not initialised: every method must refuse, not dereference NULL.
    bare = _kvmtune.Context.__new__(_kvmtune.Context)
    targets = []
    for name in dir(_kvmtune):
        obj = getattr(_kvmtune, name)
        if callable(obj) and not isinstance(obj, type):
            targets.append(("_kvmtune.%s" % name, obj, 1))
    for ctx in ctxs + [bare]:
        for name in dir(ctx):
            if name.startswith("_"):
                continue
            method = getattr(ctx, name)
            if callable(method):
                targets.append(("Context.%s" % name, method, 3))
    for name, fn, arity in targets:
        for args in arg_sets(arity):
            results.append((name, outcome(fn, *args)))
        results.append((name, outcome(fn, bogus=1)))
    # Types: made only where that is safe.
    for args in arg_sets(2):
        results.append(("Context()", outcome(_kvmtune.Context, *args)))
        results.append(("Tuning()", outcome(_kvmtune.Tuning, *args)))
    results.append(("Context.__init__ twice", outcome(ctxs[1].__init__, root=ROOT)))
    results.append(("Tuning.__new__", outcome(_kvmtune.Tuning.__new__, _kvmtune.Tuning)))
    # A tuning used after unapply, and one dropped while its controller thread runs.
    t = ctxs[1].ksm_apply("kvm_ksm-hostile", "test", {"mode": "dynamic", "interval": "1",
                                                        "libvirt_uri": "none"})
    results.append(("Tuning.stats", outcome(t.stats)))
    results.append(("Tuning.unapply", outcome(t.unapply)))
    results.append(("Tuning.unapply again", outcome(t.unapply)))
    results.append(("Tuning.stats after", outcome(t.stats)))
    for args in arg_sets(1):
        t2 = ctxs[0].ksm_apply("kvm_ksm-hostile2", "test", {"mode": "dynamic", "interval": "1",
                                                             "libvirt_uri": "none"})
        results.append(("Tuning.unapply args", outcome(t2.unapply, *args)))
        del t2
    before = len(os.listdir("/proc/self/task"))
    t3 = ctxs[0].ksm_apply("kvm_ksm-hostile3", "test", {"mode": "dynamic", "interval": "1",
                                                         "libvirt_uri": "none"})
    running = len(os.listdir("/proc/self/task"))
    del t3
    gc.collect()
    after = len(os.listdir("/proc/self/task"))
    # Dropped without unapply: its thread is joined and the KSM lock released.
    results.append(("dropped tuning: threads", "%d %d %d" % (before, running, after)))
    results.append(("apply after a dropped tuning",
                    outcome(ctxs[1].ksm_apply, "kvm_ksm-hostile4", "test", dict(GOOD_OPTS))))
    del ctxs, bare
    gc.collect()
    for name, what in results:
        print(json.dumps({"call": name, "outcome": what}))
    print(json.dumps({"done": True}))


if __name__ == "__main__":
    main()
