# mk/packages.mk — packaging targets, included by the top-level Makefile.
#
#   make deb             .deb (+ dbgsym, .buildinfo, .changes) in build/packages/,
#                        lintian report in build/packages/lintian.txt
#   make rpm             .rpm in build/packages/ (rpmbuild under build/rpm),
#                        rpmlint report in build/packages/rpmlint.txt
#   make check-packages  deb, the unit's systemd-analyze exposure (<= 1.2),
#                        then install/smoke-test/remove/purge it on this
#                        machine (tests/packages/check-deb.sh, which also
#                        checks with strings(1) that the installed daemon
#                        has no RFC8314_MILTER_TEST hook), then rpm
#
# Promises: both builds work on a copy of the working tree (tracked or not,
# without build*/ and .git), so neither dpkg-buildpackage's writes to `..`
# nor rpmbuild touch the source tree or its parent; each target installs the
# Debian packages it needs first when run as root (tests/packages/deps.sh).
# Fails when lintian or rpmlint report an error.

PKG_NAME    := rfc8314-milter
PKG_OUT     := build/packages
PKG_SRC     := build/pkgsrc
PKG_RPMTOP  := $(abspath build/rpm)
PKG_SPEC    := rpm/$(PKG_NAME).spec

# pkg_copy_tree DIR — the working tree as it is now, into DIR.
define pkg_copy_tree
	rm -rf $(1) && mkdir -p $(1)
	tar -c --exclude=./.git --exclude=./build --exclude='./build-*' \
	    --exclude=./.pc . | tar -x -C $(1)
endef

.PHONY: deb rpm check-packages packages-deps

packages-deps:
	@sh tests/packages/deps.sh

# Version in debian/changelog and the spec must be the Makefile's VERSION,
# or the packages would silently claim another version than the binary.
deb: packages-deps
	@v=$$(dpkg-parsechangelog -l debian/changelog -S Version); \
	 case "$$v" in $(VERSION)|$(VERSION)-*) ;; \
	 *) echo "deb: debian/changelog has $$v, Makefile VERSION is $(VERSION)" >&2; exit 1;; esac
	$(call pkg_copy_tree,$(PKG_SRC)/$(PKG_NAME)-$(VERSION))
	cd $(PKG_SRC)/$(PKG_NAME)-$(VERSION) && dpkg-buildpackage -us -uc -b
	mkdir -p $(PKG_OUT)
	rm -f $(PKG_OUT)/$(PKG_NAME)*_*.deb $(PKG_OUT)/$(PKG_NAME)_*.buildinfo $(PKG_OUT)/$(PKG_NAME)_*.changes
	mv $(PKG_SRC)/$(PKG_NAME)*_*.deb $(PKG_SRC)/$(PKG_NAME)_*.buildinfo $(PKG_SRC)/$(PKG_NAME)_*.changes $(PKG_OUT)/
	rm -rf $(PKG_SRC)
	@# --fail-on error: warnings are overridden with reasons in
	@# debian/rfc8314-milter.lintian-overrides, info/pedantic are reported only.
	lintian --display-info --pedantic --fail-on error $(PKG_OUT)/$(PKG_NAME)_*.changes \
	    > $(PKG_OUT)/lintian.txt 2>&1; rc=$$?; cat $(PKG_OUT)/lintian.txt; exit $$rc
	@ls -l $(PKG_OUT)/*.deb

# rpmbuild --nodeps: Debian cannot resolve RPM BuildRequires (its rpm
# database is empty); tests/packages/deps.sh installed the Debian equivalents.
# __brp_compress under bash: Debian's rpm ships brp-compress with a
# /bin/sh shebang but bash's `read -d`; under dash man pages stay
# uncompressed.  (brp-strip needs file(1): deps.sh installs it.)
rpm: packages-deps
	@v=$$(sed -n 's/^Version:[[:space:]]*//p' $(PKG_SPEC)); \
	 [ "$$v" = "$(VERSION)" ] || { echo "rpm: $(PKG_SPEC) has $$v, Makefile VERSION is $(VERSION)" >&2; exit 1; }
	rm -rf $(PKG_RPMTOP)
	mkdir -p $(PKG_RPMTOP)/SOURCES $(PKG_RPMTOP)/SPECS $(PKG_OUT)
	$(call pkg_copy_tree,$(PKG_RPMTOP)/tree/$(PKG_NAME)-$(VERSION))
	tar -C $(PKG_RPMTOP)/tree -czf $(PKG_RPMTOP)/SOURCES/$(PKG_NAME)-$(VERSION).tar.gz $(PKG_NAME)-$(VERSION)
	rm -rf $(PKG_RPMTOP)/tree
	cp $(PKG_SPEC) $(PKG_RPMTOP)/SPECS/
	rpmbuild -bb --nodeps --define '_topdir $(PKG_RPMTOP)' --define '__brp_compress bash /usr/lib/rpm/brp-compress /usr' $(PKG_RPMTOP)/SPECS/$(PKG_NAME).spec
	rm -f $(PKG_OUT)/$(PKG_NAME)-*.rpm
	cp $(PKG_RPMTOP)/RPMS/*/$(PKG_NAME)-*.rpm $(PKG_OUT)/
	@echo "rpm: scriptlets of the built package:"
	@rpm -qp --scripts $(PKG_OUT)/$(PKG_NAME)-$(VERSION)-*.rpm
	@# rpmlint exits 64 on errors, 66 on badness over the threshold; warnings
	@# are listed in build/packages/rpmlint.txt and explained in rpm/rpmlint.toml.
	rpmlint -c rpm/rpmlint.toml $(PKG_SPEC) $(PKG_OUT)/$(PKG_NAME)-*.rpm \
	    > $(PKG_OUT)/rpmlint.txt 2>&1; rc=$$?; cat $(PKG_OUT)/rpmlint.txt; exit $$rc
	@ls -l $(PKG_OUT)/*.rpm

# The unit's sandbox may not get weaker than 1.2 (systemd-analyze's offline
# exposure score, 0 best .. 10) when it changes, as it did for Type=notify.
UNIT_EXPOSURE_MAX := 1.2

.PHONY: check-unit-security
check-unit-security: packages-deps
	@score=$$(systemd-analyze security --offline=true conf/$(PKG_NAME).service 2>/dev/null | \
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'); \
	 [ -n "$$score" ] || { echo "check-unit-security: no score from systemd-analyze" >&2; exit 1; }; \
	 if awk -v s="$$score" -v m="$(UNIT_EXPOSURE_MAX)" 'BEGIN { exit !(s <= m) }'; then \
	     echo "check-unit-security: exposure $$score <= $(UNIT_EXPOSURE_MAX)"; \
	 else echo "check-unit-security: exposure $$score > $(UNIT_EXPOSURE_MAX)" >&2; exit 1; fi

check-packages: deb check-unit-security
	bash tests/packages/check-deb.sh $(PKG_OUT)
	@$(MAKE) --no-print-directory rpm
	@echo "check-packages: all passed"
