# mmguard: `make run` builds the patched 6.12 kernel, boots it in QEMU and
# runs every suite; `make check` runs all the tests. Both install what is
# missing first (Debian 12, as root or with sudo).

SHELL := /bin/bash
BUILD ?= $(CURDIR)/build
OUT ?= $(CURDIR)/out
TOOL := $(BUILD)/tool/mmguard
KSRC ?=
ACCEL ?= auto
JOBS ?= $(shell echo $$(( $$(nproc) + 1 )))
# Seconds of trinity after the selftests in `make run` and `make check`.
TRINITY_SECONDS ?= 30
# Extra words for the tool, e.g. MMGUARD_ARGS="--cpus 4 --trinity-seed 42".
MMGUARD_ARGS ?=

# A CMA area for the CMA selftests (cma_drift skips without one).
BOOT_ARGS ?= --append cma=256M

KSRC_ARG := $(if $(KSRC),--ksrc $(KSRC),)
MMGUARD := $(TOOL) --project $(CURDIR) --work $(BUILD) --out $(OUT) -j $(JOBS)

# Debian packages the project needs, by what needs them.
DEPS_KERNEL := linux-source-6.12 build-essential flex bison bc cpio kmod libelf-dev libssl-dev xz-utils ccache git
# The kernel's own gates: sparse, and checkpatch's SPDX check (Debian's python3).
DEPS_GATES  := sparse python3-ply python3-git
DEPS_GUEST  := qemu-system-x86 qemu-system-data busybox-static trinity stress-ng
# make coverage: gcovr writes the HTML and JSON reports (gcov comes with gcc).
DEPS_COVERAGE := gcovr
DEPS_TOOL   := cmake pkg-config libcli11-dev nlohmann-json3-dev libfmt-dev libre2-dev libpugixml-dev libgtest-dev libgmock-dev libxml2-utils libssl-dev python3-jsonschema
DEPS := $(DEPS_KERNEL) $(DEPS_GATES) $(DEPS_GUEST) $(DEPS_TOOL) $(DEPS_COVERAGE)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps tool unit run check check-pipeline check-repeat check-harness proof proof-merge gates gates-fast stress bench coverage mutate mm-selftests series clean distclean help

all: run

help:
	@echo "make run    build the patched kernel, boot it, run KUnit + selftests, report (out/latest/)"
	@echo "make check  unit tests, the fast gates, the real pipeline, KUnit x5, the proof matrix"
	@echo "make proof  base vs patched for every reproducer, every check with its mutation, the harness's claims (out/proof.md)"
	@echo "            SHARD=I/N for a share of it; make proof-merge PARTS='dir...' to combine shards"
	@echo "make deps   install missing Debian packages"
	@echo "make series export patches + KUnit suites as one git-am-able series with a cover letter (out/series/)"
	@echo "make gates  the kernel's own gates: format-patch/git am, checkpatch --strict, W=1 + sparse over the config matrix (out/gates.md)"
	@echo "make stress a trinity session with every mm churner (STRESS_SECONDS=300)"
	@echo "make coverage  kernel gcov of the guarded mm functions under make run's suites (out/coverage/)"
	@echo "make mutate BUDGET=30 SEED=1  mutants of the guarded functions, kill rate of the suites (out/mutate.md)"
	@echo "make mm-selftests  the kernel's own selftests/mm programs, base vs patched (out/mm-selftests.md)"
	@echo "make bench  allocation cost, patched/base ratio over BENCH_PAIRS=5 boot pairs (out/bench.md)"
	@echo "variables: KSRC=/path/to/linux (use your tree, read only)  ACCEL=auto|kvm|tcg  JOBS=N"
	@echo "           TRINITY_SECONDS=30  MMGUARD_ARGS='--trinity-seed N --cpus 4 ...'"

# apt-get update runs once, and only when a package is missing.
deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "==> deps: installing $$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	else echo "==> deps: all installed"; fi

# The tool compiles through ccache too, with paths taken relative to the
# checkout (CCACHE_BASEDIR) and the working directory left out of the hash,
# so a fresh clone reuses what an earlier clone compiled.
TOOL_CCACHE := CCACHE_BASEDIR=$(CURDIR) CCACHE_NOHASHDIR=true
tool: deps
	@mkdir -p $(BUILD)
	@cmake -S qemu -B $(BUILD)/tool -DCMAKE_BUILD_TYPE=Tool \
		$$(command -v ccache >/dev/null && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache) >$(BUILD)/cmake.log 2>&1 || { cat $(BUILD)/cmake.log; exit 1; }
	@set -o pipefail; $(TOOL_CCACHE) cmake --build $(BUILD)/tool -j $(JOBS) -- --no-print-directory 2>&1 | { grep -Ev '^\[ *[0-9]+%\] (Building|Linking)|Built target' || true; }
	@test -x $(TOOL)

unit: tool
	@cd $(BUILD)/tool && ctest --output-on-failure -j $(JOBS)

run: tool
	$(MMGUARD) run $(KSRC_ARG) --accel $(ACCEL) --trinity-seconds $(TRINITY_SECONDS) $(BOOT_ARGS) $(MMGUARD_ARGS)

# The real pipeline: build, boot, every KUnit suite and selftest must pass.
check-pipeline: tool
	$(MMGUARD) run $(KSRC_ARG) --accel $(ACCEL) --label check --trinity-seconds $(TRINITY_SECONDS) \
		--expect-suite mmguard_freepages --expect-suite mmguard_isolation --expect-suite mmguard_pcp_hotplug \
		--expect-suite mmguard_highatomic --expect-suite mmguard_fallback --expect-suite mmguard_thp_mapcount --expect-suite mmguard_contig --expect-suite mmguard_compaction --expect-suite cma_drift \
		--expect-suite kpageflags_thp_race --expect-suite kpageflags_offline_race --expect-suite isolation_undo_types --expect-suite thp_mapcount --expect-suite compaction_stress --expect-suite kpageflags_types --expect-suite thp_pmd_split_paths \
		--expect-suite trinity $(BOOT_ARGS) $(MMGUARD_ARGS)

# Flakes: every KUnit suite in 5 boots of the kernel check-pipeline built
# (about 5 s each); a test that fails in any of them fails this, and the
# per-test pass counts go to out/kunit-repeat-repeat.md.
check-repeat: tool
	$(MMGUARD) run $(KSRC_ARG) --accel $(ACCEL) --label kunit-repeat --no-selftests --repeat 5 $(BOOT_ARGS)

# The proof matrix (`mmguard proof`): each reproducer of
# patches/reproducers fails on the base kernel and passes patched; each
# DEBUG_VM check of patches/mutations/ fires with its mutation and is silent
# without it; the harness catches what it claims (qemu/harness-checks: an
# injected BUG and WARN reported with their titles, a silent guest killed as
# a hang). Each kernel is built once, each distinct (kernel, boot options)
# booted once. Writes out/proof.md and .json. PROOF_ARGS="--only harness"
# runs the rows whose topic starts with that.
# SHARD=I/N runs that share of the boots (out/proof-shard-I-of-N.*); on
# several machines, `make proof-merge PARTS="dir1 dir2 ..."` combines them
# (Documentation/scale-out.md). With the default 1/1 the one part is merged
# at once, so make check runs the same commands a sharded CI job runs.
PROOF_ARGS ?=
SHARD ?= 1/1
PARTS ?= $(OUT)
proof: tool
	$(MMGUARD) proof $(KSRC_ARG) --accel $(ACCEL) --shard $(SHARD) $(PROOF_ARGS)
	@if [ "$(SHARD)" = 1/1 ]; then $(MMGUARD) merge $(OUT)/proof-shard-1-of-1.json; fi

proof-merge: tool
	$(MMGUARD) merge $(PARTS)

check-harness: tool
	$(MMGUARD) proof $(KSRC_ARG) --accel $(ACCEL) --only harness

# The kernel's own gates (qemu/gates/): the patch files are git format-patch
# output that git am takes, checkpatch --strict is clean, and every object
# the stack touches builds with W=1 (and sparse) with no diagnostic base
# lacks, in every configuration of qemu/gates/configs/. gates-fast is the
# part make check runs (the configurations marked fast).
gates: tool
	$(MMGUARD) gates $(KSRC_ARG)

gates-fast: tool
	$(MMGUARD) gates --fast $(KSRC_ARG)

check: unit gates-fast check-pipeline check-repeat proof
	@echo "make check: all passed"

# A trinity session with every mm churner beside it (min_free_kbytes,
# compaction, THP modes, CPU hotplug, CMA, memory offline, drop_caches,
# kpageflags readers) on 3 vCPUs. STRESS_SECONDS=300 by default; the seed is
# printed and stored, MMGUARD_ARGS="--trinity-seed N" reruns it exactly.
STRESS_SECONDS ?= 300
stress: tool
	$(MMGUARD) stress $(KSRC_ARG) --accel $(ACCEL) --trinity-seconds $(STRESS_SECONDS) $(MMGUARD_ARGS)

# The cost of the stack (`mmguard bench`): base and patched are built once,
# then booted alternately (BENCH_PAIRS pairs), each boot timing
# alloc_pages/__free_pages (KUnit mmguard_bench) and full reads of
# /proc/kpageflags, kpagecount, kpagecgroup (selftest kpage_read_cost); the
# patched/base ratios go to out/bench.md and .json.
BENCH_PAIRS ?= 5
bench: tool
	$(MMGUARD) bench $(KSRC_ARG) --accel $(ACCEL) --pairs $(BENCH_PAIRS)

# Kernel gcov for the guarded objects (qemu/coverage/: its own config and
# build directory, never make run's), one boot with make run's KUnit suites
# and selftests (COVERAGE_TRINITY_SECONDS=N adds a trinity session), the
# counters out over a second serial port; out/coverage/index.html, coverage.json and
# summary.md per patches/guarded-functions (Documentation/coverage.md).
COVERAGE_TRINITY_SECONDS ?= 0
coverage: tool
	$(TOOL) --project $(CURDIR) --work $(BUILD)/coverage-work --out $(OUT) -j $(JOBS) coverage $(KSRC_ARG) \
		--accel $(ACCEL) --trinity-seconds $(COVERAGE_TRINITY_SECONDS) $(BOOT_ARGS) $(MMGUARD_ARGS)

# Mutation testing (Documentation/mutate.md): mutants of the functions in
# patches/guarded-functions, each built (one object, compared with the
# unmutated object first) and booted with the KUnit suites and selftests.
# Its own work directory, so it never fights `make run` over build/src.
# Resumable: a rerun skips the mutants out/mutate.jsonl already has.
BUDGET ?= 30
SEED ?= 1
MUTATE_WORK ?= $(BUILD)/mutate-work
mutate: tool
	$(TOOL) --project $(CURDIR) --work $(MUTATE_WORK) --out $(OUT) -j $(JOBS) mutate --budget $(BUDGET) --seed $(SEED) \
		--accel $(ACCEL) $(BOOT_ARGS) $(MMGUARD_ARGS)
# The kernel's own tools/testing/selftests/mm (`mmguard mm-selftests`): a
# chosen set built static from the tree, one boot of base and one of patched
# (work dir build/mmselftests-work, numa=fake=2), compared per test: patched
# must pass every test base passes, with no kernel report. out/mm-selftests.md
# and .json; Documentation/mm-selftests.md. Not in `make check`: two kernel
# builds and two long TCG boots (tens of minutes).
MM_SELFTEST_TIMEOUT ?= 180
mm-selftests: tool
	$(MMGUARD) mm-selftests $(KSRC_ARG) --accel $(ACCEL) --test-timeout $(MM_SELFTEST_TIMEOUT)

series: tool
	$(MMGUARD) series $(KSRC_ARG) --dir $(OUT)/series

clean:
	rm -rf $(OUT) $(BUILD)/tool

distclean:
	rm -rf $(OUT) $(BUILD)
