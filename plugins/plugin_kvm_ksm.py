# SPDX-License-Identifier: LGPL-2.1-or-later
"""
tuned plugin kvm_ksm: the knobs of /sys/kernel/mm/ksm.

Every option is the knob of the same name; values are validated as a whole before anything
is written, written in the order the kernel requires, journalled on disk so that the
originals survive a tuned crash, and restored on profile switch or tuned-adm off.

[ksm]
type=kvm_ksm
run=1
pages_to_scan=1000
"""
from . import base
from . import kvmtune_tuned as kt

PLUGIN = "kvm_ksm"

# One option per knob, as the kernel names them; _kvmtune.ksm_knobs() must match.
OPTIONS = (
    "run",
    "pages_to_scan",
    "sleep_millisecs",
    "merge_across_nodes",
    "use_zero_pages",
    "max_page_sharing",
    "stable_node_chains_prune_millisecs",
    "smart_scan",
    "advisor_mode",
    "advisor_max_cpu",
    "advisor_min_pages_to_scan",
    "advisor_max_pages_to_scan",
    "advisor_target_scan_time",
)


class KvmKsmPlugin(base.Plugin):
    """Kernel samepage merging for KVM hosts."""

    def __init__(self, *args, **kwargs):
        super(KvmKsmPlugin, self).__init__(*args, **kwargs)
        self._contexts = {}

    @classmethod
    def _get_config_options(cls):
        return dict((name, None) for name in OPTIONS)

    def _get_effective_options(self, options):
        return kt.effective_options(self._get_config_options(), options)

    def _instance_init(self, instance):
        instance._has_static_tuning = True
        instance._has_dynamic_tuning = False
        instance._kt_originals = None
        self._contexts[instance.name] = kt.make_context(kt.prefix(PLUGIN, instance))

    def _instance_cleanup(self, instance):
        self._contexts.pop(instance.name, None)

    def _options(self, instance):
        return kt.expand_options(self._variables, instance.options)

    def _instance_apply_static(self, instance):
        ctx = self._contexts[instance.name]
        try:
            instance._kt_originals = ctx.ksm_tune(kt.journal_name(PLUGIN, instance),
                                                  self._options(instance))
        except (ValueError, OSError) as e:
            kt.log.error("%s: %s; KSM left as it was" % (kt.prefix(PLUGIN, instance), e))
            instance._kt_originals = None

    def _instance_verify_static(self, instance, ignore_missing, devices):
        ctx = self._contexts[instance.name]
        try:
            results = ctx.ksm_verify(self._options(instance))
        except (ValueError, OSError) as e:
            kt.log.error("%s: %s" % (kt.prefix(PLUGIN, instance), e))
            return False
        ok = True
        for name, wanted, current, good in results:
            if not kt.log_verification(self, "%s.%s" % (instance.name, name), wanted, current, good):
                ok = False
        return ok

    def _instance_unapply_static(self, instance, *args, **kwargs):
        if not kt.should_restore(args, kwargs):
            return
        ctx = self._contexts[instance.name]
        try:
            ctx.ksm_untune(kt.journal_name(PLUGIN, instance), instance._kt_originals)
        except (ValueError, OSError) as e:
            kt.log.error("%s: cannot restore KSM: %s; the journal in %s keeps the originals"
                         % (kt.prefix(PLUGIN, instance), e, kt._kvmtune.STATE_DIR))
        instance._kt_originals = None
