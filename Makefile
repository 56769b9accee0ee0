# vmdelay — top-level build.
#
#   make            build libvmdelay and every tool into build/release/
#   make check      install missing deps, build with ASan+UBSan, run every test (unit, e2e, fuzz)
#   make demo       install missing deps, build, run the default scenario, store it in ./vmdelay.db
#   make fuzz       every fuzz harness for FUZZ_SECONDS (default 300) each
#   make bench      benchmarks (ratios against baselines measured in the same run)
#   make check-kmod tcpmon.ko's tests only (builds it, boots it in a qemu guest)
#   make install    PREFIX=/usr/local DESTDIR=
#   make deps       install the Debian packages that are missing (and only those)
#
# Each program directory carries a small prog.mk fragment (see mk/prog.mk.example), so adding
# a tool never means editing this file. Unit tests are tests/unit/test_*.c (cmocka), end-to-end
# tests are tests/e2e/*.sh, fuzz harnesses tests/fuzz/fuzz_*.c (libFuzzer).

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
VARIANT ?= release
MAKEFLAGS += --no-print-directory
BUILD := build/$(VARIANT)

PKG_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 jansson libpq 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs libnl-genl-3.0 jansson libpq 2>/dev/null)

CC ?= cc
WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter -Wno-format-truncation
BASE_CFLAGS := -std=gnu11 -g $(WARN) -Iinclude -Ilib $(PKG_CFLAGS) -DVMDELAY_VERSION='"$(VERSION)"' -MMD -MP
LDLIBS := $(PKG_LIBS) -lpcap -lsqlite3 -lz -lzstd -lm

ifeq ($(VARIANT),release)
OPT_CFLAGS := -O2 -D_FORTIFY_SOURCE=2
else ifeq ($(VARIANT),asan)
OPT_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else ifeq ($(VARIANT),fuzz)
CC := clang
OPT_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -DVMDELAY_FUZZ \
	-Wno-unknown-warning-option
LDFLAGS += -fsanitize=fuzzer,address,undefined
endif
CFLAGS := $(BASE_CFLAGS) $(OPT_CFLAGS) $(EXTRA_CFLAGS)

# Quiet by default, like Kbuild: `make V=1` prints the full commands.
ifeq ($(V),1)
say :=
else
say = @printf '  %-6s %s\n' $(1) $(2);
endif

LIB_SRCS := $(sort $(wildcard lib/*/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIBA := $(BUILD)/libvmdelay.a

# Program fragments: each sets PROGS += name and name_DIR := dir.
PROGS :=
include $(sort $(wildcard */prog.mk))

BINS := $(PROGS:%=$(BUILD)/bin/%)

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all tests fuzzers fuzz check check-unit check-e2e check-fuzz check-testbeds demo bench install clean deps kmod help
all: $(LIBA) $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CFLAGS) -c $< -o $@

$(LIBA): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

define PROG_RULE
$(1)_SRCS := $$(sort $$(wildcard $$($(1)_DIR)/*.c))
$(1)_OBJS := $$($(1)_SRCS:%.c=$(BUILD)/obj/%.o)
$(BUILD)/bin/$(1): $$($(1)_OBJS) $(LIBA)
	@mkdir -p $$(@D)
	$$(call say,LD,$$@)$$(CC) $$(LDFLAGS) -o $$@ $$^ $(LDLIBS) $$($(1)_LDLIBS)
endef
$(foreach p,$(PROGS),$(eval $(call PROG_RULE,$(p))))

# A unit test may reach a program's internals by linking its non-main objects: list them in
# tests/unit/test_NAME.deps as source paths (e.g. tping/options.c).
.SECONDEXPANSION:
$(BUILD)/tests/%: tests/unit/%.c $(LIBA) $$(shell cat tests/unit/$$*.deps 2>/dev/null)
	@mkdir -p $(@D)
	$(call say,TEST,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(shell cat tests/unit/$*.deps 2>/dev/null) $(LIBA) -lcmocka $(LDLIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIBA)
	@mkdir -p $(@D)
	$(call say,FUZZ,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

tests: $(UNIT_BINS)
fuzzers: $(FUZZ_BINS)

-include $(shell find build -name '*.d' 2>/dev/null)

deps:
	@mk/deps.sh

# check: every test, built with ASan+UBSan; the e2e scripts use the sanitized binaries too.
check: deps layers
	$(MAKE) VARIANT=asan all tests
	$(MAKE) VARIANT=fuzz fuzzers
	$(MAKE) VARIANT=release all
	tests/run.sh

check-unit check-e2e check-fuzz: deps
	$(MAKE) VARIANT=asan all tests
	$(if $(filter check-fuzz,$@),$(MAKE) VARIANT=fuzz fuzzers)
	tests/run.sh $(@:check-%=%)

# The testbeds' tests, and each paper's reduced scenario with the direction of its effect
# (tests/e2e/testbeds_repro_*.sh: minutes each under TCG, so not part of make check, where they
# skip). The guests run the release binaries.
check-testbeds: deps
	$(MAKE) VARIANT=asan all tests
	$(MAKE) VARIANT=release all
	VMDELAY_CHECK_TESTBEDS=1 tests/run.sh testbeds

# Longer fuzzing than check's 20 s per harness: make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 300
fuzz: deps
	$(MAKE) VARIANT=fuzz fuzzers
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run.sh fuzz

kmod:
	$(MAKE) -C kmod

demo: deps
	$(MAKE) VARIANT=release all
	testbeds/demo.sh

bench: deps
	$(MAKE) VARIANT=release all
	tests/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	for m in docs/man/*.1; do [ -f "$$m" ] && install -m 0644 "$$m" $(DESTDIR)$(PREFIX)/share/man/man1/; done; true

clean:
	rm -rf build
	-$(MAKE) -C kmod clean 2>/dev/null

help:
	@sed -n '2,12p' Makefile

# check-kmod: only tcpmon.ko's tests (tests/e2e/tcpmon_*.sh build the module against the guest
# kernel's headers and boot it under qemu); `make check` runs them too.
.PHONY: check-kmod
check-kmod: deps
	$(MAKE) VARIANT=release all
	tests/run.sh tcpmon

# layers: lib/ includes point one way (lib/layers.txt) and form no cycle.
.PHONY: layers
layers:
	@python3 mk/layers.py

# Further targets, each in its own fragment (mk/*.mk).
-include $(sort $(wildcard mk/*.mk))
