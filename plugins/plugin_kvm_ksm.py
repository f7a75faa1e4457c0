# SPDX-License-Identifier: LGPL-2.1-or-later
"""
tuned plugin kvm_ksm: the knobs of /sys/kernel/mm/ksm, and a dynamic controller.

Knob options are the knobs of the same name; values are validated as a whole before
anything is written, written in the order the kernel requires, journalled on disk so that
the originals survive a tuned crash, and restored on profile switch or tuned-adm off.

mode=dynamic (or advisor) starts the controller on its own thread, which decides when
KSM runs and how fast it scans (advisor: leaves the rate to the kernel's advisor); it is
stopped and joined on unapply, before the knobs are restored.

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

# Knobs the controller owns in each mode: journalled, and not set statically.
CONTROLLED = {
    "dynamic": ("run", "pages_to_scan", "sleep_millisecs"),
    "advisor": ("run", "advisor_mode"),
}


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
        instance._kt_originals = None
        instance._kt_controller = None
        self._contexts[instance.name] = kt.make_context(kt.prefix(PLUGIN, instance))

    def _instance_cleanup(self, instance):
        self._stop_controller(instance)
        self._contexts.pop(instance.name, None)

    def _options(self, instance):
        """(knob options, controller options, mode) of the instance."""
        options = kt.expand_options(self._variables, instance.options)
        controller = dict((k, v) for k, v in options.items() if k in CONTROLLER_OPTIONS)
        knobs = dict((k, v) for k, v in options.items() if k not in CONTROLLER_OPTIONS)
        return knobs, controller, controller.get("mode", "static")

    def _instance_apply_static(self, instance):
        # An apply without an unapply in between must not leave a second thread behind.
        self._stop_controller(instance)
        ctx = self._contexts[instance.name]
        knobs, controller_options, mode = self._options(instance)
        errors = []
        controller = None
        # Everything is checked before anything is written: one line names every problem.
        try:
            controller = ctx.ksm_controller(controller_options)
        except ValueError as e:
            errors.append(str(e))
        try:
            ctx.ksm_verify(knobs)
        except ValueError as e:
            errors.append(str(e))
        if errors:
            kt.log.error("%s: %s; KSM left as it was" % (kt.prefix(PLUGIN, instance), "; ".join(errors)))
            return
        owned = CONTROLLED.get(mode, ())
        for name in owned:
            if name in knobs:
                kt.log.warning("%s: %s is decided by the controller with mode=%s, ignoring"
                               % (kt.prefix(PLUGIN, instance), name, mode))
                del knobs[name]
        if mode == "dynamic" and "advisor_mode" not in knobs and \
                "advisor_mode" in ctx.ksm_status()["knobs"]:
            # The kernel advisor would refuse the controller's pages_to_scan.
            knobs["advisor_mode"] = "none"
        ctx.ksm_add_current(knobs, owned)
        try:
            instance._kt_originals = ctx.ksm_tune(kt.journal_name(PLUGIN, instance), knobs)
        except (ValueError, OSError) as e:
            kt.log.error("%s: %s; KSM left as it was" % (kt.prefix(PLUGIN, instance), e))
            return
        if mode != "static":
            controller.start()
            instance._kt_controller = controller

    def _stop_controller(self, instance):
        controller = getattr(instance, "_kt_controller", None)
        if controller is not None:
            controller.stop()
            instance._kt_controller = None

    def _instance_verify_static(self, instance, ignore_missing, devices):
        ctx = self._contexts[instance.name]
        knobs, _, mode = self._options(instance)
        for name in CONTROLLED.get(mode, ()):
            knobs.pop(name, None)
        try:
            results = ctx.ksm_verify(knobs)
        except (ValueError, OSError) as e:
            kt.log.error("%s: %s" % (kt.prefix(PLUGIN, instance), e))
            return False
        ok = True
        for name, wanted, current, good in results:
            if not kt.log_verification(self, "%s.%s" % (instance.name, name), wanted, current, good):
                ok = False
        return ok

    def _instance_unapply_static(self, instance, *args, **kwargs):
        # The controller never outlives the profile, whatever the rollback level.
        self._stop_controller(instance)
        if not kt.should_restore(args, kwargs):
            return
        ctx = self._contexts[instance.name]
        try:
            ctx.ksm_untune(kt.journal_name(PLUGIN, instance), instance._kt_originals)
        except (ValueError, OSError) as e:
            kt.log.error("%s: cannot restore KSM: %s; the journal in %s keeps the originals"
                         % (kt.prefix(PLUGIN, instance), e, kt._kvmtune.STATE_DIR))
        instance._kt_originals = None
