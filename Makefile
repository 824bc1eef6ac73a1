# SPDX-License-Identifier: AGPL-3.0-or-later
# One plain, non-recursive GNU Makefile (see HACKING.md). `make` builds, `make check` tests,
# `make run` starts a server on http://127.0.0.1:8080 with the database under ./var/.
# Knobs: BUILD=dir  SANITIZE=address,undefined  DEVELOPER=1 (-Werror)  NO_DEPS=1 (skip installs)

# A sanitizer build goes to its own tree, so it never mixes objects with the normal one.
comma := ,
ifneq ($(SANITIZE),)
BUILD ?= build-$(subst $(comma),-,$(SANITIZE))
endif
BUILD ?= build
CC ?= cc
CFLAGS ?= -O2 -g
PKGS := libuv sqlite3 libpq jansson libcrypto libargon2 vips libqrencode libxml-2.0 libcurl zlib

WARN := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla -Wwrite-strings -Wpointer-arith \
	-Wimplicit-fallthrough
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(WARN) -Isrc -I$(BUILD)/gen $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS) -pthread -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) -pthread
LIBS = $(PKG_LIBS) -lhttp_parser -lwslay -lm

ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif
ifeq ($(DEVELOPER),1)
ALL_CFLAGS += -Werror
endif

# Quiet by default ("CC file"); V=1 shows every command.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-4s %s\n' $(1) $(2)
endif

LIB_SRC := $(filter-out src/main.c,$(wildcard src/*/*.c))
MIGRATIONS := $(sort $(wildcard src/store/migrations/*.sql))
PG_MIGRATIONS := $(sort $(wildcard src/store/migrations/pg/*.sql))
I18N := web/i18n/it.json web/i18n/en.json
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/migrations.o \
	$(BUILD)/gen/pg_migrations.o $(BUILD)/gen/i18n.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
REPLAY_BIN := $(FUZZ_NAMES:%=$(BUILD)/tests/replay_%)

.PHONY: all deps run check fuzz bench format lint install clean fonts
PREFIX ?= /usr/local
all: $(BUILD)/araldo fonts

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/migrations.c: $(MIGRATIONS) scripts/embed-sql.sh
	@mkdir -p $(@D)
	scripts/embed-sql.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/migrations.o: $(BUILD)/gen/migrations.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/pg_migrations.c: $(PG_MIGRATIONS) scripts/embed-sql.sh
	@mkdir -p $(@D)
	scripts/embed-sql.sh --name store_pg_migrations $(PG_MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/pg_migrations.o: $(BUILD)/gen/pg_migrations.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The pages' string catalogues, compiled in (web/i18n.h); the app fetches the same files.
$(BUILD)/gen/i18n.c: $(I18N) scripts/embed-i18n.sh
	@mkdir -p $(@D)
	scripts/embed-i18n.sh $(I18N) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/i18n.o: $(BUILD)/gen/i18n.c
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Titillium Web (latin, 400 and 600), self-hosted: copied from npm's @fontsource/titillium-web
# into web/vendor/fonts/ (git-ignored). Built by all, so run, check and install have it.
FONT_SRC := node_modules/@fontsource/titillium-web/files
FONTS := $(foreach w,400 600,web/vendor/fonts/titillium-web-latin-$(w)-normal.woff2)
fonts: $(FONTS)
web/vendor/fonts/%.woff2: $(FONT_SRC)/%.woff2
	@mkdir -p $(@D)
	cp $< $@

$(BUILD)/libaraldo.a: $(LIB_OBJ)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)$(AR) rcs $@ $^

# The binary links the objects themselves, not the archive: route sets are weak references,
# which would not pull their object out of an archive.
$(BUILD)/araldo: $(BUILD)/src/main.o $(LIB_OBJ)
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(BUILD)/tests/harness.o \
		$(BUILD)/tests/store_fixture.o $(BUILD)/tests/test_db.o $(BUILD)/libaraldo.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(BUILD)/libaraldo.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -c -o $@ $<

# ---- The web app (docs/WEB.md) ----
# Preact and htm are copied from node_modules (never committed), hooks importing preact by a
# relative path since there is no import map (the CSP forbids inline scripts). index.html and
# sw.js are made from their templates with VERSION, a hash of every file they load: the pages
# link /v/VERSION/..., which the server caches for a year, and a new VERSION is a new name.
# Leaflet (the map, docs/WEB.md "Map") is copied the same way: its ES module without the
# source-map comment, and its stylesheet, which the map loads only when it is opened.
# The service worker does not pre-cache it (WEB_LAZY): the map needs the network for its tiles
# anyway, and 430 KB more at install is too much for every citizen on a weak connection; once
# opened, it is kept like any versioned file.
WEB_LAZY := web/vendor/leaflet.mjs web/vendor/leaflet.css
WEB_VENDOR := web/vendor/preact.mjs web/vendor/hooks.mjs web/vendor/htm.mjs $(WEB_LAZY)
# $(FONTS): the web fonts the stylesheet loads (web/vendor/fonts/, made by the pages' rules).
WEB_FILES = $(sort $(wildcard web/app/*.js web/app/*.css web/css/*.css web/i18n/*.json) \
	$(WEB_VENDOR) $(FONTS))
.PHONY: web
all: web
web: web/index.html web/sw.js web/admin/index.html

web/vendor/preact.mjs: node_modules/preact/dist/preact.mjs
	@mkdir -p $(@D)
	cp $< $@
web/vendor/hooks.mjs: node_modules/preact/hooks/dist/hooks.mjs
	@mkdir -p $(@D)
	sed 's#from"preact"#from"./preact.mjs"#g' $< > $@
web/vendor/htm.mjs: node_modules/htm/dist/htm.mjs
	@mkdir -p $(@D)
	cp $< $@
web/vendor/leaflet.mjs: node_modules/leaflet/dist/leaflet-src.esm.js
	@mkdir -p $(@D)
	sed '/^\/\/# sourceMappingURL=/d' $< > $@
web/vendor/leaflet.css: node_modules/leaflet/dist/leaflet.css
	@mkdir -p $(@D)
	cp $< $@

web/index.html web/sw.js: web/%: web/app/%.in $(WEB_FILES)
	@v=$$(cat $(WEB_FILES) | sha256sum | cut -c1-12); \
	files=$$(for f in $(filter-out $(WEB_LAZY),$(WEB_FILES)); do printf '"/v/%s/%s",' "$$v" "$${f#web/}"; done); \
	sed -e "s|@VERSION@|$$v|g" -e "s|\"@FILES@\"|$${files%,}|" $< > $@.tmp && mv $@.tmp $@
	$(call say,WEB,$@)

# The staff console (/admin, docs/ADMIN.md): its own modules plus the app's, under a version of
# its own, so the app's VERSION (and so its service worker's cache) does not change with it.
ADMIN_FILES = $(sort $(wildcard web/admin/*.js web/admin/*.css)) $(WEB_FILES)
web/admin/index.html: web/admin/index.html.in $(ADMIN_FILES)
	@v=$$(cat $(ADMIN_FILES) | sha256sum | cut -c1-12); \
	sed -e "s|@VERSION@|$$v|g" $< > $@.tmp && mv $@.tmp $@
	$(call say,WEB,$@)

# Installs only what is missing (Debian packages, then npm ci from the committed lockfile).
deps:
	@[ "$(NO_DEPS)" = 1 ] || scripts/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/araldo serve --demo --data var --listen 127.0.0.1:8080

check: deps
	@$(MAKE) --no-print-directory $(BUILD)/araldo fonts web $(UNIT_BIN) $(REPLAY_BIN)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) FUZZ_NAMES="$(FUZZ_NAMES)" UNIT_BIN="$(UNIT_BIN)" scripts/check.sh

# libFuzzer builds with clang: make fuzz, then build-fuzz/fuzz_http -max_total_time=60 ...
FUZZ_BUILD := build-fuzz
fuzz:
	@[ "$(NO_DEPS)" = 1 ] || scripts/install-deps.sh --fuzz
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
		CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" $(FUZZ_BUILD)/libaraldo.a
	@for f in $(FUZZ_NAMES); do \
		clang -O1 -g -fsanitize=fuzzer,address,undefined $(WARN) -Isrc -I$(FUZZ_BUILD)/gen \
		$(PKG_CFLAGS) -o $(FUZZ_BUILD)/fuzz_$$f tests/fuzz/fuzz_$$f.c \
		$(FUZZ_BUILD)/libaraldo.a $(LIBS) -pthread || exit 1; done

bench: all
	@[ "$(NO_DEPS)" = 1 ] || scripts/install-deps.sh --bench
	bench/http/run.sh
	bench/api/run.sh

# The fan-out headline against nginx + Nchan (issue 4): several minutes, so not part of bench.
.PHONY: bench-fanout
bench-fanout: all
	@[ "$(NO_DEPS)" = 1 ] || scripts/install-deps.sh --bench
	bench/fanout/run.sh

# Three nodes on one PostgreSQL against one SQLite node (issue 16): minutes, heavy, not in bench.
.PHONY: bench-cluster
bench-cluster: all
	@[ "$(NO_DEPS)" = 1 ] || scripts/install-deps.sh --bench
	timeout 2400 bench/cluster/run.sh

# Web Push against an nginx HTTP/2 sink and npm web-push (issue 12): a few minutes.
.PHONY: bench-push
bench-push: all
	@[ "$(NO_DEPS)" = 1 ] || scripts/install-deps.sh --bench
	bench/push/run.sh

format:
	clang-format -i $$(git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]')

lint:
	scripts/check-banned.sh
	scripts/check-layers.sh
	scripts/check-format.sh
	scripts/check-headers.sh
	BUILD=$(BUILD) scripts/check-tidy.sh

install: all
	install -D -m 0755 $(BUILD)/araldo $(DESTDIR)$(PREFIX)/bin/araldo
	install -d $(DESTDIR)$(PREFIX)/share/araldo
	cp -R web $(DESTDIR)$(PREFIX)/share/araldo/

clean:
	rm -rf $(BUILD) build-asan $(FUZZ_BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
