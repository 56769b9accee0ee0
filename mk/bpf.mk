# tcpmon's eBPF backend (tcpmon/bpf/, docs/formats/tcpmon.md): vmlinux.h dumped from the build
# machine's kernel BTF, the BPF objects compiled with clang -target bpf (CO-RE: libbpf relocates
# them against the running kernel's BTF when loading), and their libbpf skeletons from bpftool,
# which tcpmon/bpf_load.c and bpf_empty.c include. Packages: clang, bpftool, libbpf-dev
# (mk/debian-packages.txt).
BPF_GEN := $(BUILD)/gen/tcpmon
BPF_BTF ?= /sys/kernel/btf/vmlinux
BPF_CLANG ?= clang
BPF_ARCH := $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)

$(BPF_GEN)/vmlinux.h:
	@mkdir -p $(@D)
	@test -r $(BPF_BTF) || { echo "tcpmon bpf backend: no kernel BTF at $(BPF_BTF) (set BPF_BTF=FILE)" >&2; exit 1; }
	$(call say,BTF,$@)$(BPFTOOL) btf dump file $(BPF_BTF) format c >$@.tmp && mv $@.tmp $@

$(BPF_GEN)/%.bpf.o: tcpmon/bpf/%.bpf.c tcpmon/bpf/tcpmon_bpf.h include/vmdelay/record.h $(BPF_GEN)/vmlinux.h
	$(call say,BPF,$<)$(BPF_CLANG) -target bpf -O2 -g -Wall -Werror -D__TARGET_ARCH_$(BPF_ARCH) $(BPF_CFLAGS) \
		-I$(BPF_GEN) -Iinclude -Itcpmon/bpf -c $< -o $@

.PRECIOUS: $(BPF_GEN)/%.bpf.o $(BPF_GEN)/%.skel.h
# tcpmon.bpf.o -> tcpmon_bpf (struct tcpmon_bpf), empty.bpf.o -> empty_bpf
$(BPF_GEN)/%.skel.h: $(BPF_GEN)/%.bpf.o
	$(call say,SKEL,$@)$(BPFTOOL) gen skeleton $< name $*_bpf >$@.tmp && mv $@.tmp $@

# Only the loaders include a skeleton; any tcpmon file may include tcpmon/bpf/tcpmon_bpf.h.
$(BUILD)/obj/tcpmon/bpf_load.o: $(BPF_GEN)/tcpmon.skel.h
$(BUILD)/obj/tcpmon/bpf_empty.o: $(BPF_GEN)/empty.skel.h
$(BUILD)/obj/tcpmon/bpf_load.o $(BUILD)/obj/tcpmon/bpf_empty.o: CFLAGS += -I$(BPF_GEN)
$(BUILD)/obj/tcpmon/%.o: CFLAGS += -Itcpmon/bpf
tcpmon_LDLIBS := -lbpf
