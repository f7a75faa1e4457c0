# SPDX-License-Identifier: LGPL-2.1-or-later
"""
tuned plugin kvm_ksm: the knobs of /sys/kernel/mm/ksm, and a dynamic controller.

Knob options are the knobs of the same name; values are validated as a whole before
anything is written, written in the order the kernel requires, journalled on disk so that
the originals survive a tuned crash, and restored on profile switch or tuned-adm off.

mode=dynamic (or advisor) starts the controller on its own thread, which decides when
KSM runs and how fast it scans (advisor: leaves the rate to the kernel's advisor); it is
stopped and joined on unapply, before the knobs are restored.

Which knobs a mode owns, what is journalled and the KSM lock are the library's
(kt_ksm_tuning_apply): this shim holds the option table and tuned's API only.

[ksm]
type=kvm_ksm
mode=dynamic
use_zero_pages=1
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

# The controller's options; _kvmtune.ksm_controller_option_known() must accept each.
CONTROLLER_OPTIONS = (
    "mode",
    "interval",
    "thres_coef",
    "thres_const",
    "cpu_budget",
    "merge_pages",
    "merge_sleep",
    "idle_pages",
    "idle_sleep",
    "psi_merge",
    "stop",
    "libvirt_uri",
    "ksmtuned_conf",
)


class KvmKsmPlugin(base.Plugin):
    """Kernel samepage merging for KVM hosts."""

    def __init__(self, *args, **kwargs):
        super(KvmKsmPlugin, self).__init__(*args, **kwargs)
        self._contexts = {}

    @classmethod
    def _get_config_options(cls):
        return dict((name, None) for name in OPTIONS + CONTROLLER_OPTIONS)

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
        # An apply without an unapply in between must not leave a second tuning behind.
        kt.drop_tuning(instance)
        ctx = self._contexts[instance.name]
        options = kt.expand_options(self._variables, instance.options)
        try:
            instance._kt_tuning = ctx.ksm_apply(kt.journal_name(PLUGIN, instance),
                                                kt.holder(instance), options)
        except (ValueError, OSError) as e:
            kt.log.error("%s: %s; KSM left as it was" % (kt.prefix(PLUGIN, instance), kt.reason(e)))

    def _instance_verify_static(self, instance, ignore_missing, devices):
        ctx = self._contexts[instance.name]
        options = kt.expand_options(self._variables, instance.options)
        try:
            results = ctx.ksm_verify(options)
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
                # The controller never outlives the profile, whatever the rollback level.
                tuning.unapply(restore)
            elif restore:
                # Unapplied before without restoring (ROLLBACK_NONE): the journal has them.
                self._contexts[instance.name].ksm_restore(kt.journal_name(PLUGIN, instance))
        except (ValueError, OSError) as e:
            kt.log.error("%s: %s" % (kt.prefix(PLUGIN, instance), kt.reason(e)))
