# SPDX-License-Identifier: LGPL-2.1-or-later
"""
tuned plugin kvm_hugepages: one hugepage pool per section, sized per NUMA node.

Options are checked as a whole before anything is written; the pools of every node are
journalled on disk so that the originals survive a tuned crash, allocated node by node
(write, check, compact, retry, drop clean caches when reclaim=drop-caches) and restored on
profile switch or tuned-adm off, never taking pages that back a running guest.

Sizing, the lock per page size, the journal and the shortfall report are the library's
(kt_hp_tuning_apply): this shim holds the option table and tuned's API only.

[hugepages_2m]
type=kvm_hugepages
size=2M
pages=auto
"""
from . import base
from . import kvmtune_tuned as kt

PLUGIN = "kvm_hugepages"

# The library's option names; _kvmtune.hugepages_options() must match.
OPTIONS = (
    "size",
    "pages",
    "headroom",
    "min_available",
    "reclaim",
    "shortfall",
    "timeout",
    "libvirt_uri",
    "mount",
)


class KvmHugepagesPlugin(base.Plugin):
    """Hugepage pools per NUMA node for KVM guests."""

    def __init__(self, *args, **kwargs):
        super(KvmHugepagesPlugin, self).__init__(*args, **kwargs)
        self._contexts = {}

    @classmethod
    def _get_config_options(cls):
        return dict((name, None) for name in OPTIONS)

    def _get_effective_options(self, options):
        return kt.effective_options(self._get_config_options(), options)

    def _instance_init(self, instance):
        kt.init_instance(self, PLUGIN, instance)

    def _instance_cleanup(self, instance):
        kt.cleanup_instance(self, instance)

    def _instance_apply_static(self, instance):
        kt.apply_instance(self, PLUGIN, instance, "hugepages_apply",
                          "hugepage pools left as they were")

    def _instance_verify_static(self, instance, ignore_missing, devices):
        return kt.verify_instance(self, PLUGIN, instance, "hugepages_verify")

    def _instance_unapply_static(self, instance, *args, **kwargs):
        kt.unapply_instance(self, PLUGIN, instance, args, kwargs,
                            lambda ctx, journal: ctx.hugepages_restore(journal))
