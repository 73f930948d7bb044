# rfc8314-milter — top-level GNU Makefile.
#
# Targets: all (library, daemon, tools), check (install missing packages when
# root, build, unit tests, real-MTA integration tests), demo, bench, install,
# deb, rpm, clean.  Honours CXX, CXXFLAGS, CPPFLAGS, LDFLAGS, DESTDIR, PREFIX.
# SANITIZE=1 builds everything with ASan+UBSan into build-san/.

VERSION      := 0.1.0
SOVERSION    := 0

PREFIX       ?= /usr/local
SBINDIR      ?= $(PREFIX)/sbin
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
MANDIR       ?= $(PREFIX)/share/man
SYSCONFDIR   ?= /etc

CXX          ?= g++
CXXFLAGS     ?= -O2 -g
SANITIZE     ?= 0
IANA_DIR     ?= data/iana

ifeq ($(SANITIZE),1)
BUILD        ?= build-san
SANFLAGS     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD        ?= build
SANFLAGS     :=
endif

# The performance guard of `make check` (issue 17 item 3): the filter's own
# work in instructions per transaction, measured with callgrind by
# bench/callgrind.sh (rfc8314-milter minus the null milter with the same
# negotiation, default submission profile).  PERF_TARGET_OWN_IR is issue
# 17's target (9,000); every run prints whether it is met (measured
# 8,772-9,112 on 2026-12-02, docs/BENCHMARKS.md: met in most runs).  The
# limit that fails the check, PERF_MAX_OWN_IR, is the target plus 10 % (9900), as
# the issue asks: room for the measurement's spread, not for a regression
# past the target's margin.  These two lines are the one place.
# Empty (make check PERF_MAX_OWN_IR=) skips the guard; so does SANITIZE=1,
# where valgrind cannot run the sanitized binaries.
PERF_TARGET_OWN_IR := 9000
PERF_MAX_OWN_IR ?= 9900
PERF_GUARD   := $(if $(filter 1,$(SANITIZE)),,$(PERF_MAX_OWN_IR))

WARN         := -Wall -Wextra -Wpedantic -Werror
ALL_CXXFLAGS := -std=c++17 $(WARN) -fPIC $(SANFLAGS) $(CXXFLAGS)
ALL_CPPFLAGS := -Ilib/include -I$(BUILD)/gen -DRFC8314_VERSION='"$(VERSION)"' \
                -DRFC8314_SYSCONFDIR='"$(SYSCONFDIR)"' $(CPPFLAGS)
ALL_LDFLAGS  := $(SANFLAGS) $(LDFLAGS)

LIB_SRCS     := $(sort $(wildcard lib/src/*.cpp))
LIB_OBJS     := $(LIB_SRCS:%.cpp=$(BUILD)/%.o) $(BUILD)/gen/iana_tables.o
LIB_A        := $(BUILD)/librfc8314.a
LIB_SO       := $(BUILD)/librfc8314.so.$(VERSION)
LIB_SONAME   := librfc8314.so.$(SOVERSION)
# The report's engine, built by mk/report.mk; not part of librfc8314.
REPORT_LIB   := $(BUILD)/librfc8314-report.a

PLUGIN_SRCS  := $(sort $(wildcard plugin/*.cpp plugin/doctor/*.cpp))
PLUGIN_OBJS  := $(PLUGIN_SRCS:%.cpp=$(BUILD)/%.o)
# The doctor's pure half (configuration text in, findings out): linked into
# the unit tests too, so it must never need libmilter or the system.
DOCTOR_PURE  := finding mta_text socket milter_view tls postfix_maps postfix_conf \
                postfix_wiring postfix sendmail_cf sendmail
DOCTOR_OBJS  := $(DOCTOR_PURE:%=$(BUILD)/plugin/doctor/%.o)
MILTER       := $(BUILD)/rfc8314-milter
# The fault suite's daemon: the same objects, but milter.cpp compiled with
# its fault-injection hooks.  The shipped daemon has none (make
# check-packages checks its strings).
MILTER_TEST  := $(BUILD)/rfc8314-milter-test
MILTER_TEST_OBJS := $(filter-out $(BUILD)/plugin/milter.o,$(PLUGIN_OBJS)) $(BUILD)/test-hooks/plugin/milter.o

TEST_SRCS    := $(sort $(wildcard tests/test_*.cpp)) tests/unit_main.cpp
TEST_OBJS    := $(TEST_SRCS:%.cpp=$(BUILD)/%.o)
UNIT_TESTS   := $(BUILD)/unit_tests

GEN_IANA     := $(BUILD)/tools/gen_iana
CHECK_RCVD   := $(BUILD)/check-received

SYS_LIBS     := -lssl -lcrypto -lpthread
# What everything that links librfc8314 needs (its config reader uses
# Boost.Program_options); the daemon adds libmilter.
LIB_LIBS     := -lboost_program_options $(SYS_LIBS)
MILTER_LIBS  := -lmilter $(LIB_LIBS)

.PHONY: all check unit integration deps demo bench install clean
.DELETE_ON_ERROR:

all: $(LIB_A) $(LIB_SO) $(MILTER)

# ---- generated IANA tables (never retyped by hand) -------------------------
$(GEN_IANA): tools/gen_iana.cpp
	@mkdir -p $(@D)
	$(CXX) -std=c++17 $(WARN) -O1 $(CPPFLAGS) $< -o $@ $(LDFLAGS)

$(BUILD)/gen/iana_tables.cpp: $(GEN_IANA) $(IANA_DIR)/tls-parameters-4.csv $(IANA_DIR)/tls-parameters-8.csv
	@mkdir -p $(@D)
	$(GEN_IANA) $(IANA_DIR)/tls-parameters-4.csv $(IANA_DIR)/tls-parameters-8.csv > $@.tmp
	mv $@.tmp $@

$(BUILD)/gen/iana_tables.o: $(BUILD)/gen/iana_tables.cpp
	$(CXX) $(ALL_CPPFLAGS) $(ALL_CXXFLAGS) -c $< -o $@

# ---- objects -----------------------------------------------------------------
$(BUILD)/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(ALL_CPPFLAGS) $(ALL_CXXFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/tests/%.o: ALL_CPPFLAGS += -DBOOST_TEST_DYN_LINK -Iplugin
# lib's private text helpers (lib/src/text.hpp), never installed.
$(BUILD)/plugin/doctor/%.o: ALL_CPPFLAGS += -Ilib/src

$(LIB_A): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	$(CXX) -shared -Wl,-soname,$(LIB_SONAME) $(ALL_LDFLAGS) $^ -o $@ $(LIB_LIBS)
	ln -sf $(notdir $@) $(BUILD)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(BUILD)/librfc8314.so

$(MILTER): $(PLUGIN_OBJS) $(LIB_A)
	$(CXX) $(ALL_LDFLAGS) $(PLUGIN_OBJS) $(LIB_A) $(MILTER_LIBS) -o $@

$(BUILD)/test-hooks/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(ALL_CPPFLAGS) -DRFC8314_MILTER_TEST_HOOKS $(ALL_CXXFLAGS) -MMD -MP -c $< -o $@

$(MILTER_TEST): $(MILTER_TEST_OBJS) $(LIB_A)
	$(CXX) $(ALL_LDFLAGS) $(MILTER_TEST_OBJS) $(LIB_A) $(MILTER_LIBS) -o $@

$(CHECK_RCVD): $(BUILD)/tests/check_received.o $(LIB_A)
	$(CXX) $(ALL_LDFLAGS) $^ $(LIB_LIBS) -o $@

$(UNIT_TESTS): $(TEST_OBJS) $(DOCTOR_OBJS) $(REPORT_LIB) $(LIB_A)
	$(CXX) $(ALL_LDFLAGS) $(TEST_OBJS) $(DOCTOR_OBJS) $(REPORT_LIB) $(LIB_A) -lboost_unit_test_framework $(LIB_LIBS) -o $@

# ---- tests -------------------------------------------------------------------
deps:
	@sh tests/deps.sh

unit: $(UNIT_TESTS)
	IANA_SHARED_DIR=../shared/data/iana IANA_DIR=$(IANA_DIR) GEN_IANA=$(GEN_IANA) $(UNIT_TESTS) --log_level=test_suite --report_level=short

integration: all $(MILTER_TEST) $(CHECK_RCVD)
	@set -e; for t in tests/integration/test_*.sh; do BUILD=$(BUILD) bash $$t; done

check: deps
	@$(MAKE) --no-print-directory all $(MILTER_TEST) $(UNIT_TESTS) $(CHECK_RCVD) $(if $(PERF_GUARD),bench-tools)
	@PERF_MAX_OWN_IR=$(PERF_GUARD) PERF_TARGET_OWN_IR=$(PERF_TARGET_OWN_IR) sh tests/check.sh $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	BUILD=$(BUILD) bash tests/integration/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@if [ -x bench/run.sh ]; then BUILD=$(BUILD) sh bench/run.sh; else echo "bench: no benchmarks yet"; fi

# ---- install -----------------------------------------------------------------
# install-report (mk/report.mk) adds rfc8314-report(1) and its command.
install: all install-report
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/rfc8314 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/rfc8314-milter
	install -m 0755 $(MILTER) $(DESTDIR)$(SBINDIR)/rfc8314-milter
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf librfc8314.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/librfc8314.so
	@# lib/include/rfc8314 holds the library's API only (private headers
	@# live beside their sources, the report's engine in report/engine).
	install -m 0644 lib/include/rfc8314/*.hpp $(DESTDIR)$(INCLUDEDIR)/rfc8314/
	install -m 0644 man/rfc8314-milter.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/rfc8314-milter.conf.5 $(DESTDIR)$(MANDIR)/man5/
	if [ ! -f $(DESTDIR)$(SYSCONFDIR)/rfc8314-milter/rfc8314-milter.conf ]; then \
	    install -m 0644 conf/rfc8314-milter.conf $(DESTDIR)$(SYSCONFDIR)/rfc8314-milter/; fi

clean:
	rm -rf build build-san

# Further targets, one file per room: packaging (deb, rpm, check-packages),
# benchmarks, fuzzing, operator tools.
-include $(sort $(wildcard mk/*.mk))

-include $(shell find $(BUILD)/lib $(BUILD)/plugin $(BUILD)/test-hooks $(BUILD)/tests $(BUILD)/gen -name '*.d' -type f 2>/dev/null)
