# mk/fuzz.mk — libFuzzer targets for the pure C++ library (included by the
# top-level Makefile).
#
#   make fuzz [FUZZ_SECONDS=N] [FUZZ_TARGETS="fuzz_x fuzz_y"]
#       build every tests/fuzz/fuzz_*.cpp with clang (-fsanitize=fuzzer,
#       address,undefined) against the lib/ sources compiled afresh with
#       clang into $(BUILD)/fuzz/, then run each target for N seconds
#       (default 10) on a copy of its seed corpus and its recorded crash
#       inputs (so every run replays them first), print the executions each
#       reached, and fail when any target crashed, leaked, timed out or hit
#       a sanitizer report.  Runs are independent: `make -j7 fuzz` runs the
#       targets side by side.
#   make fuzz-build      build only.
#   make fuzz-deps       install clang and libFuzzer (as root; see
#                        tests/fuzz/packages.txt), as every target here does.
#   Seeds: tests/fuzz/corpus/<target>/; dictionary (if any):
#   tests/fuzz/<target>.dict.
#   make fuzz-regress    run every target once over its seeds and over
#                        tests/fuzz/crashes/<target>/ (no mutation).
#
# Promises: nothing here touches the gcc objects or writes into the source
# tree: the working corpus, new inputs, logs and crash artifacts live under
# $(BUILD)/fuzz/.  Crash inputs are kept there (artifacts/) for minimising.

FUZZ_CXX      ?= clang++
FUZZ_SECONDS  ?= 10
FUZZ_DIR      := $(BUILD)/fuzz
FUZZ_SRC      := tests/fuzz
FUZZ_ALL      := $(patsubst $(FUZZ_SRC)/%.cpp,%,$(sort $(wildcard $(FUZZ_SRC)/fuzz_*.cpp)))
FUZZ_TARGETS  ?= $(FUZZ_ALL)
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CXXFLAGS := -std=c++17 -Wall -Wextra -Wpedantic -Werror -g -O1 $(FUZZ_SAN)
FUZZ_CPPFLAGS := -Ilib/include -I$(BUILD)/gen -DRFC8314_VERSION='"fuzz"' -DRFC8314_SYSCONFDIR='"/nonexistent"'
FUZZ_LIB_OBJS := $(LIB_SRCS:lib/src/%.cpp=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/iana_tables.o
FUZZ_BINS     := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/bin/%)
FUZZ_RUNS     := $(FUZZ_TARGETS:%=fuzz-run-%)
FUZZ_LIBS     := -lboost_program_options -lssl -lcrypto -lpthread

.PHONY: fuzz fuzz-build fuzz-regress fuzz-deps $(FUZZ_RUNS)

# clang and libFuzzer, installed like `make check`'s packages (as root).
fuzz-deps:
	@sh tests/deps.sh tests/fuzz/packages.txt

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

# Keep the objects between builds (pattern-rule intermediates otherwise).
.SECONDARY: $(FUZZ_LIB_OBJS)

# Library objects: coverage-instrumented, without libFuzzer's main.
$(FUZZ_DIR)/obj/%.o: lib/src/%.cpp
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FUZZ_CPPFLAGS) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_DIR)/obj/iana_tables.o: $(BUILD)/gen/iana_tables.cpp
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FUZZ_CPPFLAGS) $(FUZZ_CXXFLAGS) -c $< -o $@

$(FUZZ_DIR)/bin/%: $(FUZZ_SRC)/%.cpp $(FUZZ_SRC)/fuzz_util.hpp $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FUZZ_CPPFLAGS) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB_OBJS) $(FUZZ_LIBS) -o $@

# One run: fresh copy of the seeds, then libFuzzer for FUZZ_SECONDS.  The
# rule itself never fails, so every target gets its turn; it leaves
# $(FUZZ_DIR)/result/T = "T STATUS EXECUTIONS" for the summary.
$(FUZZ_RUNS): fuzz-run-%: fuzz-deps $(FUZZ_DIR)/bin/%
	@rm -rf $(FUZZ_DIR)/corpus/$* && mkdir -p $(FUZZ_DIR)/corpus/$* $(FUZZ_DIR)/artifacts $(FUZZ_DIR)/log $(FUZZ_DIR)/result
	@for d in $(FUZZ_SRC)/corpus/$* $(FUZZ_SRC)/crashes/$*; do if [ -d $$d ]; then cp -R $$d/. $(FUZZ_DIR)/corpus/$*/; fi; done
	@echo "fuzz: $* for $(FUZZ_SECONDS)s"
	@dict=; [ -f $(FUZZ_SRC)/$*.dict ] && dict=-dict=$(FUZZ_SRC)/$*.dict; \
	 if $(FUZZ_DIR)/bin/$* -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -timeout=10 \
	    -rss_limit_mb=2048 -artifact_prefix=$(FUZZ_DIR)/artifacts/$*- $$dict \
	    $(FUZZ_DIR)/corpus/$* > $(FUZZ_DIR)/log/$*.log 2>&1; then st=ok; else st=FAILED; fi; \
	 n=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/log/$*.log | tail -n 1); \
	 echo "$* $$st $${n:-0}" > $(FUZZ_DIR)/result/$*; \
	 if [ $$st != ok ]; then echo "fuzz: $* FAILED, see $(FUZZ_DIR)/log/$*.log:"; \
	     grep -E 'ERROR|PROPERTY FAILED|SUMMARY|Test unit written|value:' $(FUZZ_DIR)/log/$*.log | head -n 20; fi

fuzz: $(FUZZ_RUNS)
	@fail=0; for t in $(FUZZ_TARGETS); do \
	    if [ -f $(FUZZ_DIR)/result/$$t ]; then set -- $$(cat $(FUZZ_DIR)/result/$$t); else set -- $$t FAILED 0; fi; \
	    printf 'fuzz: %-16s %-6s executions=%s\n' "$$1" "$$2" "$$3"; \
	    [ "$$2" = ok ] || fail=1; \
	 done; \
	 if [ $$fail -ne 0 ]; then echo "fuzz: FAILED (logs and crash inputs in $(FUZZ_DIR)/)"; exit 1; fi; \
	 echo "fuzz: all $(words $(FUZZ_TARGETS)) targets ok, $(FUZZ_SECONDS)s each"

# Replays the seeds and the recorded crash inputs; no fuzzing.
fuzz-regress: fuzz-deps $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    dirs=""; for d in $(FUZZ_SRC)/corpus/$$t $(FUZZ_SRC)/crashes/$$t; do [ -d $$d ] && dirs="$$dirs $$d"; done; \
	    [ -n "$$dirs" ] || continue; \
	    files=$$(find $$dirs -type f | sort); \
	    $(FUZZ_DIR)/bin/$$t -runs=0 $$files > $(FUZZ_DIR)/regress-$$t.log 2>&1 \
	        || { echo "fuzz-regress: $$t FAILED (see $(FUZZ_DIR)/regress-$$t.log)"; exit 1; }; \
	    echo "fuzz-regress: $$t ok"; \
	 done

-include $(wildcard $(FUZZ_DIR)/obj/*.d)
