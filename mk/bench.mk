# mk/bench.mk — the benchmarks (issue 6), included by the top-level Makefile.
#
#   make bench           install what the benchmarks need (tests/deps.sh with
#                        tests/packages.txt and bench/packages.txt), build the
#                        milter, the load driver and the null milter, then run
#                        bench/run.sh (BENCH_QUICK=1 for a short run)
#   make bench-tools     build only $(BUILD)/milter-load and $(BUILD)/null-milter
#
# The tools are built with the project's warning flags (-Werror); the null
# milter is C, like the null filter it stands for.

CC           ?= cc
CFLAGS       ?= -O2 -g
MILTER_LOAD  := $(BUILD)/milter-load
NULL_MILTER  := $(BUILD)/null-milter
BENCH_TOOLS  := $(MILTER_LOAD) $(NULL_MILTER)

.PHONY: bench-deps bench-tools

bench-deps: deps
	@sh tests/deps.sh bench/packages.txt

bench-tools: $(BENCH_TOOLS)

# Order-only: under -j nothing compiles before the packages are there.
bench: $(BENCH_TOOLS)
$(BENCH_TOOLS): | bench-deps

$(MILTER_LOAD): bench/milter-load.cpp
	@mkdir -p $(@D)
	$(CXX) -std=c++17 $(WARN) $(SANFLAGS) $(CXXFLAGS) $(CPPFLAGS) $< -o $@ $(ALL_LDFLAGS)

$(NULL_MILTER): bench/null-milter.c
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARN) $(SANFLAGS) $(CFLAGS) $(CPPFLAGS) $< -o $@ $(ALL_LDFLAGS) -lmilter -lpthread
