# agentmon build. Every output goes under $(BUILD)/.
#   make            build/agentmon
#   make test       unit tests (cmocka) + kernel tests (real BPF, needs root)
#   make SAN=1 test the same, built with AddressSanitizer + UBSan (in build/san)
#   make fuzz       libFuzzer targets for the parsers
#   make bench      benchmarks (not part of make test)
#   make vmlinux    regenerate vmlinux/$(ARCH)/vmlinux.h from the running kernel
#   V=1             show full commands

ifeq ($(SAN),1)
BUILD ?= build/san
else
BUILD ?= build
endif

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
PYTHON  ?= /usr/bin/python3
prefix  ?= /usr/local
DESTDIR ?=
sbindir ?= $(prefix)/sbin
datadir ?= $(prefix)/share
sysconfdir ?= /etc
# packages (prefix /usr) ship units in /usr/lib; a local install goes to /etc
unitdir ?= $(if $(filter /usr,$(prefix)),/usr/lib/systemd/system,/etc/systemd/system)

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_H := vmlinux/$(ARCH)/vmlinux.h

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
	  -Iinclude -Iuser -I$(BUILD) -MMD -MP
LDLIBS := -lbpf -lelf -lz -ljansson -lcrypto -lm
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Iinclude -Ibpf -Ivmlinux/$(ARCH) -MMD -MP

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
# Everything but main(): linked into unit tests and fuzzers too.
LIB_OBJS  := $(filter-out $(BUILD)/user/main.o,$(USER_OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all test unit-tests kernel-tests fuzz bench vmlinux install clean demo
.DELETE_ON_ERROR:
.SECONDARY: $(BPF_OBJS) $(SKELS)

all: $(BUILD)/agentmon

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# Userspace objects may include any skeleton; generate them first.
$(BUILD)/user/%.o: user/%.c | $(SKELS) $(BUILD)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/agentmon: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(BUILD)/tests
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB_OBJS) $(LDLIBS) -lcmocka -o $@

$(BUILD)/bpf $(BUILD)/user $(BUILD)/tests:
	$(Q)mkdir -p $@

unit-tests: $(UNIT_BINS)

test: all unit-tests
	$(Q)AGENTMON=$(abspath $(BUILD)/agentmon) BUILD=$(abspath $(BUILD)) PYTHON=$(PYTHON) \
		scripts/run-tests.sh $(UNIT_BINS)

# Benchmarks (root; not part of make test): ratios against the same
# workloads run unmonitored in the same session, alternating, medians; the
# table is printed and written as JSON to $(BUILD)/bench/results.json.
# The workloads are static binaries (no loader, no libc files opened).
BENCH_STATIC := open_loop fork_exec_loop tcp_connect_loop getppid_loop run_seq
BENCH_BINS   := $(patsubst %,$(BUILD)/bench/%,$(BENCH_STATIC)) $(BUILD)/bench/tiny_true \
		$(BUILD)/bench/record_speed
BENCH_ARGS   ?=

$(BUILD)/bench:
	$(Q)mkdir -p $@

$(BUILD)/bench/%: tests/bench/%.c tests/bench/bench_common.h | $(BUILD)/bench
	$(call msg,CC-BENCH,$@)
	$(Q)$(CC) -O2 -D_GNU_SOURCE -Wall -Wextra -Werror -static $< -o $@

$(BUILD)/bench/tiny_true: tests/bench/tiny_true.c | $(BUILD)/bench
	$(call msg,CC-BENCH,$@)
	$(Q)$(CC) -O2 -Wall -Werror -static -nostdlib -fno-stack-protector $< -o $@

$(BUILD)/bench/record_speed: tests/bench/record_speed.c tests/unit/record_ref.h $(LIB_OBJS) | $(BUILD)/bench
	$(call msg,CC-BENCH,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

bench: all $(BENCH_BINS)
	$(Q)$(PYTHON) scripts/bench.py --agentmon $(abspath $(BUILD)/agentmon) \
		--bench-dir $(abspath $(BUILD)/bench) --json $(abspath $(BUILD)/bench/results.json) $(BENCH_ARGS)

demo: all
	$(Q)scripts/demo.sh $(abspath $(BUILD)/agentmon)

vmlinux:
	$(call msg,GEN,$(VMLINUX_H))
	$(Q)scripts/gen-vmlinux.sh $(VMLINUX_H)

# make install [DESTDIR=/staging] [prefix=/usr/local] [unitdir=...] [sysconfdir=/etc]
install: all
	install -D -m 0755 $(BUILD)/agentmon $(DESTDIR)$(sbindir)/agentmon
	install -d -m 0755 $(DESTDIR)$(datadir)/agentmon/abstractions $(DESTDIR)$(datadir)/agentmon/examples
	install -m 0644 abstractions/* $(DESTDIR)$(datadir)/agentmon/abstractions/
	install -m 0644 examples/profiles.d/support-bot.json $(DESTDIR)$(datadir)/agentmon/examples/
	install -D -m 0644 README.md $(DESTDIR)$(datadir)/doc/agentmon/README.md
	install -D -m 0644 docs/control-protocol.md $(DESTDIR)$(datadir)/doc/agentmon/control-protocol.md
	install -d -m 0755 $(DESTDIR)$(sysconfdir)/agentmon/profiles.d
	install -d -m 0755 $(DESTDIR)$(unitdir)
	sed -e 's|@SBINDIR@|$(sbindir)|g' -e 's|@DOCDIR@|$(datadir)/doc/agentmon|g' \
		dist/systemd/agentmon.service.in > $(DESTDIR)$(unitdir)/agentmon.service
	chmod 0644 $(DESTDIR)$(unitdir)/agentmon.service

# --- fuzz ---
# libFuzzer targets for the profile parser and the glob matcher. The few
# sources they need are compiled directly with clang and the sanitizers
# (the gcc objects cannot take -fsanitize=fuzzer). Each runs FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_SRCS    := user/profile.c user/glob.c user/netrule.c user/verdict.c user/timefmt.c
FUZZ_CFLAGS  := -g -O1 -std=gnu11 -D_GNU_SOURCE -Iuser -Iinclude \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_BINS    := $(BUILD)/fuzz/fuzz_profile $(BUILD)/fuzz/fuzz_glob

$(BUILD)/fuzz/%: fuzz/%.c $(FUZZ_SRCS) $(wildcard user/*.h)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(FUZZ_SRCS) -ljansson -lcrypto -o $@

fuzz: $(FUZZ_BINS)
	$(Q)for t in $(notdir $(FUZZ_BINS)); do \
		echo "  FUZZ     $$t for $(FUZZ_SECONDS)s"; \
		mkdir -p $(BUILD)/fuzz/corpus/$$t && \
		$(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/$$t- \
			$(BUILD)/fuzz/corpus/$$t fuzz/corpus/$$t || exit 1; \
	done
# --- end fuzz ---

clean:
	rm -rf build

-include $(wildcard $(BUILD)/*/*.d)
