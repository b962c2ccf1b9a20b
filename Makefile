# oomcast build: BPF objects with clang, skeletons with bpftool, the daemon with cc.
# `make` builds build/oomcast; `make test`, `make demo`, `make bench` are described in README.md.

CLANG   ?= clang
BPFTOOL ?= bpftool
CC      ?= cc
BUILD   ?= build

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
# vmlinux.h: the committed one for x86; on another architecture, made from the build
# machine's own kernel BTF (CO-RE relocates it on each kernel the programs then load on).
VMLINUX := $(if $(wildcard vmlinux/$(ARCH)/vmlinux.h),vmlinux/$(ARCH),$(BUILD)/vmlinux/$(ARCH))
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -DOOMCAST_VERSION='"$(VERSION)"' \
           -I$(BUILD) -Ibpf -Iuser
LDLIBS  := -lbpf -lelf -lz -lcurl -ljson-c -lmicrohttpd -lcrypto -lpthread -lm
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
USER_SRCS := $(wildcard user/*.c)
USER_HDRS := $(wildcard user/*.h) $(wildcard bpf/*.h)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
LIB_OBJS  := $(filter-out $(BUILD)/user/main.o,$(USER_OBJS))
SAN_OBJS  := $(patsubst $(BUILD)/user/%.o,$(BUILD)/san/%.o,$(LIB_OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT_BINS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/%,$(BPFT_SRCS))
TOOL_SRCS := $(wildcard tests/workloads/*.c)
TOOL_BINS := $(patsubst tests/workloads/%.c,$(BUILD)/workloads/%,$(TOOL_SRCS))

.PHONY: all deps test unit demo bench bench-overhead bench-scale clean tests-build fuzz
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/oomcast

deps:
	@scripts/deps.sh

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(VMLINUX)/vmlinux.h | $(BUILD)
	$(CLANG) -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) -I$(VMLINUX) -Ibpf -c $< -o $@

$(BUILD)/vmlinux/%/vmlinux.h:
	@test -r /sys/kernel/btf/vmlinux || { echo "no vmlinux/$*/vmlinux.h and no /sys/kernel/btf/vmlinux to make one from" >&2; exit 1; }
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $* > $@

$(BUILD)/user/%.o: user/%.c $(USER_HDRS) $(SKELS) | $(BUILD)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/san/%.o: user/%.c $(USER_HDRS) $(SKELS) | $(BUILD)
	$(CC) $(CFLAGS) $(SAN) -c $< -o $@

$(BUILD)/oomcast: $(USER_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/test.h $(SAN_OBJS)
	$(CC) $(CFLAGS) $(SAN) -Itests/unit -o $@ $< $(SAN_OBJS) $(LDLIBS)

$(BUILD)/tests/%: tests/bpf/%.c tests/unit/test.h $(LIB_OBJS)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LIB_OBJS) $(LDLIBS)

$(BUILD)/workloads/%: tests/workloads/%.c | $(BUILD)
	$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -static -o $@ $< -lm

$(BUILD):
	@mkdir -p $(BUILD)/user $(BUILD)/san $(BUILD)/tests $(BUILD)/workloads

tests-build: all $(UNIT_BINS) $(BPFT_BINS) $(TOOL_BINS)

unit: deps tests-build
	@tests/run unit

test: deps tests-build
	@tests/run all

demo: deps all $(TOOL_BINS)
	@scripts/demo.sh

# make bench: forecast quality on real workloads, then hot-path cost and latency, then scale
bench: deps all $(TOOL_BINS) $(BUILD)/bench/bpfstat
	@rc=0; bench/run.sh || rc=1; bench/overhead/run.sh || rc=1; bench/scale/run.sh || rc=1; \
	 [ $$rc = 0 ] || { echo "make bench: some targets were not met (see above)"; exit 1; }

bench-overhead: deps all $(TOOL_BINS) $(BUILD)/bench/bpfstat
	@bench/overhead/run.sh

bench-scale: deps all $(TOOL_BINS)
	@bench/scale/run.sh

$(BUILD)/bench/bpfstat: bench/overhead/bpfstat.c $(BUILD)/empty.skel.h | $(BUILD)
	@mkdir -p $(BUILD)/bench
	$(CC) $(CFLAGS) -o $@ $< -lbpf -lelf -lz -ljson-c

# libFuzzer on the record reader, then on the forecaster and engine, FUZZ_SECONDS each
# (default 60); the corpora are kept in build/fuzz.
FUZZ_SECONDS ?= 60
fuzz: deps
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD)
