# kvmtune: tuned plugins and profiles for KVM hosts.
VERSION := 0.1.0

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
# The JSON schemas of `kvmtune check --json` and `kvmtune status --json`.
SCHEMADIR ?= $(PREFIX)/share/kvmtune/schemas
DESTDIR ?=
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
# tuned runs under the system interpreter, not whatever python3 is first on PATH.
PYTHON ?= /usr/bin/python3

CC ?= cc
CLANG ?= clang
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
	-Wformat=2 -Wvla -Wno-format-nonliteral
CFLAGS ?= -O2 -g
LIBVIRT_CFLAGS := $(shell pkg-config --cflags libvirt libxml-2.0 2>/dev/null)
LIBS := $(shell pkg-config --libs libvirt libxml-2.0 2>/dev/null || echo -lvirt -lxml2) -linih -lpthread
ALL_CFLAGS := -std=gnu11 $(WARNINGS) -fPIC -D_GNU_SOURCE -DKT_VERSION=\"$(VERSION)\" $(LIBVIRT_CFLAGS) \
	-Ilib $(CPPFLAGS) $(CFLAGS)
# Unit tests run the library against a fake kernel (tests/unit/fixture.c), which also
# stands in for mount(2) of hugetlbfs, and a guard on the libc calls io.c makes with a
# path fails any that leaves the test's fixture. kt_stat gives fixture files the device
# numbers of the machine they describe.
WRAP := -Wl,--wrap=kt_write_attr -Wl,--wrap=kt_hugetlbfs_mount -Wl,--wrap=kt_hugetlbfs_umount \
	-Wl,--wrap=kt_stat \
	$(foreach f,openat faccessat fstatat mkdirat renameat2 unlinkat,-Wl,--wrap=$(f))
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_FLAGS := -fsanitize=address,undefined
# Each compile also writes what it included (foo.o -> foo.d), read back below: a changed
# header rebuilds exactly the objects that include it. -MMD needs one source per compiler run.
DEPFLAGS := -MMD -MP

B := build
LIB_SRC := $(sort $(wildcard lib/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
HELPER_SRC := $(sort $(wildcard helpers/*.c))
HELPER_OBJ := $(HELPER_SRC:%.c=$(B)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test-*.c))
UNIT_OBJ := $(UNIT_SRC:%.c=$(B)/%.o) $(B)/tests/unit/fixture.o
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# The sanitizer build recompiles the library so the instrumented code is what is tested.
ASAN_LIB_OBJ := $(LIB_SRC:%.c=$(B)/asan/%.o)
ASAN_OBJ = $(ASAN_LIB_OBJ) $(UNIT_OBJ:$(B)/%=$(B)/asan/%) $(EXT_ASAN_OBJ)
UNIT_ASAN_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/asan/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(B)/fuzz/%.o)
FUZZ_OBJ := $(FUZZ_LIB_OBJ) $(FUZZ_SRC:%.c=$(B)/fuzz/%.o)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)

EXT := $(B)/_kvmtune.abi3.so
EXT_ASAN := $(B)/asan/_kvmtune.abi3.so
EXT_SRC := $(sort $(wildcard plugins/_kvmtune/*.c))
EXT_SYM := plugins/_kvmtune/_kvmtune.sym
EXT_OBJ := $(EXT_SRC:%.c=$(B)/%.o)
EXT_ASAN_OBJ := $(EXT_SRC:%.c=$(B)/asan/%.o)
PY_INCLUDE = $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
# Limited API of Python 3.9 (RHEL 9's interpreter): one binary serves every newer Python.
EXT_CFLAGS = -I$(PY_INCLUDE) -Iplugins/_kvmtune -DPy_LIMITED_API=0x03090000 -fvisibility=hidden
# Only PyInit__kvmtune leaves the .so: the static library's symbols stay inside.
EXT_LDFLAGS = -shared -Wl,--version-script=$(EXT_SYM)
TUNED_PLUGINS_DIR ?= $(shell $(PYTHON) -c 'import os, tuned.plugins; print(os.path.dirname(tuned.plugins.__file__))')
# tuned 2.23 moved system profiles to /usr/lib/tuned/profiles and renamed the constant.
TUNED_PROFILES_DIR ?= $(shell $(PYTHON) -c 'import tuned.consts as c; print(getattr(c, "SYSTEM_PROFILES_DIR", None) or getattr(c, "SYSTEM_PROFILE_DIR", None) or c.LOAD_DIRECTORIES[0])')
# tuned loads profile functions (${f:name:...}) from the package next to its plugins.
TUNED_FUNCTIONS_DIR ?= $(patsubst %/plugins,%,$(TUNED_PLUGINS_DIR))/profiles/functions
# tuned 2.23 moved user profiles to /etc/tuned/profiles (USER_PROFILES_DIR): `kvmtune profile`
# has both directories built in, as this tuned names them.
TUNED_USER_PROFILES_DIR ?= $(shell $(PYTHON) -c 'import tuned.consts as c; print(getattr(c, "USER_PROFILES_DIR", None) or c.LOAD_DIRECTORIES[-1])' 2>/dev/null)
TUNED_RECOMMEND_DIR ?= $(shell $(PYTHON) -c 'import tuned.consts as c; print(c.RECOMMEND_DIRECTORIES[0])' 2>/dev/null)
PLUGINS := $(wildcard plugins/*.py)
FUNCTIONS := $(wildcard plugins/functions/function_*.py)
PROFILES := $(notdir $(wildcard profiles/*))

.PHONY: bench all check check-unit check-python check-python-asan check-asan check-integration check-fuzz check-all \
	check-man fuzz lint man install uninstall clean

all: $(B)/libkvmtune.a $(B)/kvmtune $(EXT) man

# The man pages; the plugins' options in tuned-profiles-kvm(7) come from the same table as
# `kvmtune profile new` and lint (lib/profile-options.c).
MAN_PAGES := $(B)/man/kvmtune.8 $(B)/man/tuned-profiles-kvm.7
man: $(MAN_PAGES)

$(B)/man/kvmtune.8: packaging/kvmtune.8
	@mkdir -p $(dir $@)
	cp $< $@

$(B)/man/tuned-profiles-kvm.7: packaging/tuned-profiles-kvm.7.in $(B)/kvmtune
	@mkdir -p $(dir $@)
	$(B)/kvmtune profile options --man > $@.options
	sed -e '/^@PLUGIN_OPTIONS@$$/{r $@.options' -e 'd;}' $< > $@
	rm -f $@.options

# Every man page renders without a warning (what man -l shows).
check-man: $(MAN_PAGES)
	@for m in $(MAN_PAGES); do out=$$(LC_ALL=C.UTF-8 groff -man -ww -z $$m 2>&1); \
		if [ -n "$$out" ]; then echo "$$m:"; echo "$$out"; exit 1; fi; echo "$$m: no warnings"; done

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(OBJ_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(B)/libkvmtune.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(B)/kvmtune: $(HELPER_OBJ) $(B)/libkvmtune.a
	$(CC) $(ALL_CFLAGS) -o $@ $(HELPER_OBJ) $(B)/libkvmtune.a $(LDFLAGS) $(LIBS)

$(EXT_OBJ) $(EXT_ASAN_OBJ): OBJ_CFLAGS = $(EXT_CFLAGS)
# Without tuned at build time, the directories of tuned <= 2.22 (cmd-profile.c's defaults).
$(B)/helpers/cmd-profile.o: OBJ_CFLAGS = \
	$(if $(TUNED_PROFILES_DIR),-DKT_TUNED_SYSTEM_DIR=\"$(TUNED_PROFILES_DIR)\") \
	$(if $(TUNED_USER_PROFILES_DIR),-DKT_TUNED_USER_DIR=\"$(TUNED_USER_PROFILES_DIR)\")

$(EXT): $(EXT_OBJ) $(EXT_SYM) $(B)/libkvmtune.a
	$(CC) $(ALL_CFLAGS) $(EXT_LDFLAGS) -o $@ $(EXT_OBJ) $(B)/libkvmtune.a $(LDFLAGS) $(LIBS)

# The extension with the library under AddressSanitizer and UBSan; it imports only with
# libasan preloaded into the interpreter (make check-python-asan does that).
$(EXT_ASAN): $(EXT_ASAN_OBJ) $(EXT_SYM) $(ASAN_LIB_OBJ)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(EXT_LDFLAGS) -o $@ $(EXT_ASAN_OBJ) $(ASAN_LIB_OBJ) $(LDFLAGS) $(LIBS)

$(UNIT_BIN): $(B)/tests/%: $(B)/tests/unit/%.o $(B)/tests/unit/fixture.o $(B)/libkvmtune.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(WRAP) -lcmocka $(LIBS)

# bench/pin's measuring half, on the library.
bench: $(B)/bench/pin-bench

$(B)/bench/pin-bench: bench/pin-bench.c $(B)/libkvmtune.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libkvmtune.a $(LDFLAGS) $(LIBS)

$(ASAN_OBJ): $(B)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(OBJ_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(UNIT_ASAN_BIN): $(B)/asan/%: $(B)/asan/tests/unit/%.o $(B)/asan/tests/unit/fixture.o $(ASAN_LIB_OBJ)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(WRAP) -lcmocka $(LIBS)

$(FUZZ_OBJ): $(B)/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(ALL_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c -o $@ $<

$(FUZZ_BIN): $(B)/fuzz/%: $(B)/fuzz/tests/fuzz/%.o $(FUZZ_LIB_OBJ)
	$(CLANG) $(ALL_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

check: check-unit check-python

check-unit: $(UNIT_BIN)
	tests/run-unit $(UNIT_BIN)

check-asan: $(UNIT_ASAN_BIN)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run-unit $(UNIT_ASAN_BIN)

check-python: $(EXT) $(B)/kvmtune
	$(PYTHON) -m unittest discover -s tests/python -t . -v

# The Python tests against the sanitized extension. Leaks are CPython's own at exit.
# libasan intercepts the xdr_* functions and forwards them to glibc, which no longer has
# them: libvirt's remote driver (libtirpc's XDR) crashes unless libtirpc comes next.
check-python-asan: $(EXT_ASAN) $(B)/kvmtune
	KVMTUNE_EXT=$(EXT_ASAN) \
		LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libtirpc.so.3)" \
		ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(PYTHON) -m unittest discover -s tests/python -t . -v

fuzz: $(FUZZ_BIN)

# Replays each corpus and fuzzes a bounded number of new inputs: a regression check.
# New inputs go to build/, so the stored corpus only changes when someone adds to it.
check-fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); \
		echo "$$n: corpus tests/fuzz/corpus/$$n"; \
		mkdir -p $(B)/fuzz/$$n.new; \
		$$f -runs=20000 -max_len=512 $(B)/fuzz/$$n.new tests/fuzz/corpus/$$n >$(B)/fuzz/$$n.log 2>&1 \
			|| { tail -40 $(B)/fuzz/$$n.log; exit 1; }; done

# Needs root, tuned and a system D-Bus: starts what it needs and stops only that.
check-integration: all
	tests/integration/run

# Everything the README's test command runs.
check-all:
	tests/run-all

lint: check-man
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
		--suppress=missingIncludeSystem --library=python -Ilib -Iplugins/_kvmtune lib helpers \
		plugins/_kvmtune
	clang-tidy --quiet $(LIB_SRC) $(HELPER_SRC) -- $(ALL_CFLAGS)
	clang-tidy --quiet $(EXT_SRC) -- $(ALL_CFLAGS) $(EXT_CFLAGS)

install: all
	@test -n "$(TUNED_PLUGINS_DIR)" || { echo "tuned is not importable by $(PYTHON): install tuned or set TUNED_PLUGINS_DIR" >&2; exit 1; }
	@test -n "$(TUNED_PROFILES_DIR)" || { echo "cannot find tuned's profile directory: set TUNED_PROFILES_DIR" >&2; exit 1; }
	@test -n "$(TUNED_RECOMMEND_DIR)" || { echo "cannot find tuned's recommend.d directory: set TUNED_RECOMMEND_DIR" >&2; exit 1; }
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(TUNED_PLUGINS_DIR)
	install -m 0755 $(B)/kvmtune $(DESTDIR)$(BINDIR)/kvmtune
	install -d $(DESTDIR)$(SCHEMADIR)
	install -m 0644 schemas/*.schema.json $(DESTDIR)$(SCHEMADIR)/
	install -m 0644 $(EXT) $(DESTDIR)$(TUNED_PLUGINS_DIR)/_kvmtune.abi3.so
	install -m 0644 $(PLUGINS) $(DESTDIR)$(TUNED_PLUGINS_DIR)/
	install -d $(DESTDIR)$(TUNED_FUNCTIONS_DIR)
	install -m 0644 $(FUNCTIONS) $(DESTDIR)$(TUNED_FUNCTIONS_DIR)/
	install -D -m 0644 $(B)/man/kvmtune.8 $(DESTDIR)$(MANDIR)/man8/kvmtune.8
	install -D -m 0644 $(B)/man/tuned-profiles-kvm.7 $(DESTDIR)$(MANDIR)/man7/tuned-profiles-kvm.7
	install -D -m 0644 recommend.d/40-kvmtune.conf $(DESTDIR)$(TUNED_RECOMMEND_DIR)/40-kvmtune.conf
	for p in $(PROFILES); do \
		install -d $(DESTDIR)$(TUNED_PROFILES_DIR)/$$p; \
		install -m 0644 profiles/$$p/* $(DESTDIR)$(TUNED_PROFILES_DIR)/$$p/; done
# A profile that always reads its variables file (kvm-latency: isolated_cores) gets one
# in /etc/tuned, as tuned's own Makefile does for cpu-partitioning; the host's is kept.
	for p in $(PROFILES); do v=$(SYSCONFDIR)/tuned/$$p-variables.conf; \
		grep -qx "include=$$v" profiles/$$p/tuned.conf || continue; \
		test -e $(DESTDIR)$$v || install -D -m 0644 profiles/$$p/$$p-variables.conf $(DESTDIR)$$v; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kvmtune $(DESTDIR)$(TUNED_PLUGINS_DIR)/_kvmtune.abi3.so
	rm -rf $(DESTDIR)$(SCHEMADIR)
	rm -f $(DESTDIR)$(MANDIR)/man8/kvmtune.8 $(DESTDIR)$(MANDIR)/man7/tuned-profiles-kvm.7 \
		$(DESTDIR)$(TUNED_RECOMMEND_DIR)/40-kvmtune.conf
	for f in $(notdir $(PLUGINS)); do \
		rm -f $(DESTDIR)$(TUNED_PLUGINS_DIR)/$$f $(DESTDIR)$(TUNED_PLUGINS_DIR)/__pycache__/$${f%.py}.*; done
	for f in $(notdir $(FUNCTIONS)); do \
		rm -f $(DESTDIR)$(TUNED_FUNCTIONS_DIR)/$$f $(DESTDIR)$(TUNED_FUNCTIONS_DIR)/__pycache__/$${f%.py}.*; done
	for p in $(PROFILES); do rm -rf $(DESTDIR)$(TUNED_PROFILES_DIR)/$$p; done
# A variables file is removed only as installed: values written since are the host's.
	for p in $(PROFILES); do v=$(DESTDIR)$(SYSCONFDIR)/tuned/$$p-variables.conf; \
		test -e profiles/$$p/$$p-variables.conf && cmp -s profiles/$$p/$$p-variables.conf $$v && \
		rm -f $$v; done; true

# Distribution packages, in build/packages/ (packaging/README.md): a .deb with
# dpkg-buildpackage, an .rpm with rpmbuild -bb. Both build from a copy of the tree.
.PHONY: deb rpm
deb:
	packaging/build-deb.sh $(B)/packages

rpm:
	packaging/build-rpm.sh $(B)/packages

clean:
	rm -rf $(B)

-include $(patsubst %.o,%.d,$(LIB_OBJ) $(HELPER_OBJ) $(UNIT_OBJ) $(ASAN_OBJ) $(FUZZ_OBJ) $(EXT_OBJ))
