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
        instance._has_static_tuning = True
        instance._has_dynamic_tuning = False
        instance._kt_tuning = None
        self._contexts[instance.name] = kt.make_context(kt.prefix(PLUGIN, instance))

    def _instance_cleanup(self, instance):
        kt.drop_tuning(instance)
        self._contexts.pop(instance.name, None)

    def _instance_apply_static(self, instance):
        kt.drop_tuning(instance)
        ctx = self._contexts[instance.name]
        options = kt.expand_options(self._variables, instance.options)
        try:
            instance._kt_tuning = ctx.hugepages_apply(kt.journal_name(PLUGIN, instance),
                                                      kt.holder(instance), options)
        except (ValueError, OSError) as e:
            kt.log.error("%s: %s; hugepage pools left as they were"
                         % (kt.prefix(PLUGIN, instance), kt.reason(e)))

    def _instance_verify_static(self, instance, ignore_missing, devices):
        ctx = self._contexts[instance.name]
        options = kt.expand_options(self._variables, instance.options)
        try:
            results = ctx.hugepages_verify(options)
        except (ValueError, OSError) as e:
            kt.log.error("%s: %s" % (kt.prefix(PLUGIN, instance), kt.reason(e)))
            return False
        ok = True
        for name, wanted, current, good in results:
            if not kt.log_verification(self, "%s.%s" % (instance.name, name), wanted, current, good):
                ok = False
        return ok

    def _instance_unapply_static(self, instance, *args, **kwargs):
        restore = kt.should_restore(args, kwargs)
        tuning = instance._kt_tuning
        instance._kt_tuning = None
        try:
            if tuning is not None:
                tuning.unapply(restore)
            elif restore:
                # Unapplied before without restoring (ROLLBACK_NONE): the journal has them.
                self._contexts[instance.name].hugepages_restore(kt.journal_name(PLUGIN, instance))
        except (ValueError, OSError) as e:
            kt.log.error("%s: %s" % (kt.prefix(PLUGIN, instance), kt.reason(e)))
