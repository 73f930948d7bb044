# mk/report.mk — rfc8314-report(1), the audit-log report, and its load
# generator; included by the top-level Makefile.
#
#   make                    also builds $(BUILD)/rfc8314-report
#   $(REPORT_LIB)           the report's engine (report/engine/: parsers,
#                           aggregation, writers), a static library of its
#                           own that the command, the generator and the unit
#                           tests link; it is not part of librfc8314
#   make report-genlog      $(BUILD)/rfc8314-report-genlog (synthetic audit lines)
#   make install-report     the command, its manual page and the default notice
#                           template (BINDIR, MANDIR, REPORT_DATADIR, DESTDIR)
#   make bench-report       time and max RSS of the report on REPORT_LINES generated
#                           lines (default 10 million; REPORT_USERS, default 50000,
#                           and ten times as many), plain and gzip; the files stay
#                           in $(BUILD)/bench-report/ (about 5.5 GB at 10M lines).
#                           docs/REPORT-SCALE.md has the figures.
#
# The report links the static libraries, so it runs without librfc8314.so
# installed; zlib reads .gz files (and plain ones) through one code path,
# except a .gz file where Intel ISA-L is found at make time
# (<isa-l/igzip_lib.h>, Debian libisal-dev): ISA-L inflates it several
# times faster, on two cores (report/engine/input.cpp readGzip).  ISAL=0
# builds without it; ISAL=1 insists on it.
# Its sources include the engine as "engine/....hpp" (-Ireport).
#
# The default notice template (report/templates/notice.txt) is compiled
# into the engine as a byte array, so --notices works without an installed
# file; the file is installed too, as the starting point for --template.

REPORT        := $(BUILD)/rfc8314-report
REPORT_GENLOG := $(BUILD)/rfc8314-report-genlog
REPORT_SRCS   := $(sort $(wildcard report/*.cpp))
REPORT_OBJS   := $(REPORT_SRCS:%.cpp=$(BUILD)/%.o)
REPORT_GEN_OBJS := $(BUILD)/report/genlog/genlog.o
REPORT_ENGINE_SRCS := $(sort $(wildcard report/engine/*.cpp))
REPORT_TEMPLATE := report/templates/notice.txt
REPORT_TEMPLATE_SRC := $(BUILD)/gen/report/notice_template.cpp
REPORT_ENGINE_OBJS := $(REPORT_ENGINE_SRCS:%.cpp=$(BUILD)/%.o) $(BUILD)/gen/report/notice_template.o
REPORT_DATADIR ?= $(PREFIX)/share/rfc8314-milter

ISAL ?= $(shell printf '\043include <isa-l/igzip_lib.h>\n' | $(CXX) -E -x c++ - >/dev/null 2>&1 && echo 1 || echo 0)
ifeq ($(ISAL),1)
REPORT_ISAL_LIBS := -lisal -lz
$(BUILD)/report/engine/input.o: ALL_CPPFLAGS += -DRFC8314_HAVE_ISAL
endif
# The engine's input.o calls ISA-L, and zlib for the end of a cut .gz;
# the unit tests also write .gz files with zlib.
$(UNIT_TESTS): LIB_LIBS += $(REPORT_ISAL_LIBS) -lz

REPORT_LINES  ?= 10000000
REPORT_USERS  ?= 50000

.PHONY: install-report report-genlog bench-report

all: $(REPORT) $(REPORT_GENLOG)

$(BUILD)/report/%.o: ALL_CPPFLAGS += -Ireport
$(BUILD)/tests/test_report.o $(BUILD)/tests/test_report_%.o $(BUILD)/tests/test_audit.o: ALL_CPPFLAGS += -Ireport
$(BUILD)/tests/test_audit_ecs.o: ALL_CPPFLAGS += -Ireport

# Bytes, not a string literal: the template may hold any UTF-8, quotes and
# backslashes, and od never needs escaping.
$(REPORT_TEMPLATE_SRC): $(REPORT_TEMPLATE) mk/report.mk
	@mkdir -p $(@D)
	{ echo '// Generated from $(REPORT_TEMPLATE) by mk/report.mk: do not edit.'; \
	  echo 'namespace rfc8314::report {'; \
	  echo 'extern const char kDefaultNoticeTemplate[];'; \
	  echo 'const char kDefaultNoticeTemplate[] = {'; \
	  od -An -v -tx1 $(REPORT_TEMPLATE) | sed -e 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0};'; echo '}'; } > $@.tmp
	mv $@.tmp $@

$(BUILD)/gen/report/notice_template.o: $(REPORT_TEMPLATE_SRC)
	@mkdir -p $(@D)
	$(CXX) $(ALL_CPPFLAGS) $(ALL_CXXFLAGS) -c $< -o $@

$(REPORT_LIB): $(REPORT_ENGINE_OBJS)
	rm -f $@
	ar rcs $@ $^

$(REPORT): $(REPORT_OBJS) $(REPORT_LIB) $(LIB_A)
	$(CXX) $(ALL_LDFLAGS) $(REPORT_OBJS) $(REPORT_LIB) $(LIB_A) $(REPORT_ISAL_LIBS) -lz $(LIB_LIBS) -o $@

$(REPORT_GENLOG): $(REPORT_GEN_OBJS) $(REPORT_LIB) $(LIB_A)
	$(CXX) $(ALL_LDFLAGS) $(REPORT_GEN_OBJS) $(REPORT_LIB) $(LIB_A) $(REPORT_ISAL_LIBS) $(LIB_LIBS) -o $@

report-genlog: $(REPORT_GENLOG)

bench-report: $(REPORT) $(REPORT_GENLOG)
	@sh tests/deps.sh report/packages.txt
	BUILD=$(BUILD) REPORT_LINES=$(REPORT_LINES) REPORT_USERS=$(REPORT_USERS) sh report/bench-report.sh

install-report: $(REPORT)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(REPORT_DATADIR)
	install -m 0755 $(REPORT) $(DESTDIR)$(BINDIR)/rfc8314-report
	install -m 0644 man/rfc8314-report.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(REPORT_TEMPLATE) $(DESTDIR)$(REPORT_DATADIR)/notice.txt

-include $(shell find $(BUILD)/report -name '*.d' -type f 2>/dev/null)
