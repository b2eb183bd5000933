# evkit — see README.md.  `make`, `make check`, `make check SANITIZE=1`,
# `make demo`, `make fuzz`, `make install PREFIX=/usr/local DESTDIR=`.
VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share
INSTALL  ?= install
CC       ?= cc
PKG_CONFIG ?= pkg-config

CFLAGS   ?= -O2 -g
# -Werror only when asked (CI sets WERROR=1): another compiler's new
# warning must not stop a user's build.
WARN      = -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wvla -Wimplicit-fallthrough
CURL_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
CURL_LIBS   := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)
# libnats (cnats 3.4, Debian's libnats-dev): NATS JetStream (lib/nats).
NATS_LIBS   := $(shell $(PKG_CONFIG) --libs libnats 2>/dev/null || echo -lnats)
DEPLIBS   = -ljq -lsqlite3 -lz -lm -lpthread $(CURL_LIBS) $(NATS_LIBS)
# Flavours, each built apart under build/: SANITIZE=1 (ASan+UBSan),
# SANITIZE=thread (TSan), NOSIMD=1 (the scalar fallbacks only), and any
# CC other than cc or gcc (CC=clang).
FLAVOUR   = opt
ifeq ($(SANITIZE),1)
SANFLAGS  = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FLAVOUR   = san
endif
ifeq ($(SANITIZE),thread)
SANFLAGS  = -O1 -g -fsanitize=thread
FLAVOUR   = tsan
endif
ifeq ($(NOSIMD),1)
SANFLAGS += -U__SSE2__ -DEVKIT_NO_SIMD
FLAVOUR  := $(FLAVOUR)-nosimd
endif
ifeq ($(filter cc gcc,$(notdir $(CC))),)
FLAVOUR  := $(FLAVOUR)-$(notdir $(CC))
endif
BUILD     = build/$(FLAVOUR)
ALL_CFLAGS  = -std=c17 -D_GNU_SOURCE -DEVKIT_VERSION='"$(VERSION)"' -iquote lib $(CURL_CFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

CMDS      = $(patsubst cmd/%.c,%,$(wildcard cmd/*.c))
LIB_SRC   = $(wildcard lib/*/*.c)
LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  = $(wildcard tests/unit/*.c)
UNITS     = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
BINS      = $(CMDS:%=bin/%)

all: $(BINS)

# bin/ holds the flavour last built; the objects live apart per flavour.
# The stamp makes a change of flavour relink bin/.
STAMP = build/flavour-$(notdir $(BUILD))
bin/%: $(BUILD)/cmd/%.o $(BUILD)/libevkit.a $(STAMP) | bin
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libevkit.a $(DEPLIBS)

$(STAMP):
	@mkdir -p build && rm -f build/flavour-* && touch $@

$(BUILD)/libevkit.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/libevkit.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libevkit.a $(DEPLIBS)

bin:
	mkdir -p bin

# Installs missing Debian packages when root, else prints the apt-get line.
# `make` alone only builds; check and demo (the quick start) call it.
deps:
	@sh tests/deps.sh

units: $(UNITS)

check: deps
	@$(MAKE) --no-print-directory all units
	@sh tests/run.sh $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tests/demo.sh

bench: all
	@sh tests/bench/run.sh

# clang, NOSIMD=1, TSan over the threaded suites, fuzz corpus replay (CI).
check-matrix: deps
	@sh tests/matrix.sh

print-build:
	@echo $(BUILD)

FUZZ_TIME ?= 30
fuzz: deps
	@sh tests/fuzz/run.sh $(FUZZ_TIME)

lint:
	mandoc -T lint -W warning man/man1/*.1 man/man5/*.5 man/man7/*.7

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(DATADIR)/bash-completion/completions \
	    $(DESTDIR)$(DATADIR)/zsh/site-functions \
	    $(DESTDIR)$(DATADIR)/fish/vendor_completions.d
	$(INSTALL) -m 0755 $(BINS) $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 0644 man/man1/*.1 $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 0644 man/man5/*.5 $(DESTDIR)$(MANDIR)/man5
	$(INSTALL) -m 0644 man/man7/*.7 $(DESTDIR)$(MANDIR)/man7
	$(INSTALL) -m 0644 completions/bash/* $(DESTDIR)$(DATADIR)/bash-completion/completions
	$(INSTALL) -m 0644 completions/zsh/* $(DESTDIR)$(DATADIR)/zsh/site-functions
	$(INSTALL) -m 0644 completions/fish/* $(DESTDIR)$(DATADIR)/fish/vendor_completions.d

uninstall:
	for c in $(CMDS); do rm -f $(DESTDIR)$(BINDIR)/$$c $(DESTDIR)$(MANDIR)/man1/$$c.1 \
	    $(DESTDIR)$(DATADIR)/bash-completion/completions/$$c \
	    $(DESTDIR)$(DATADIR)/zsh/site-functions/_$$c \
	    $(DESTDIR)$(DATADIR)/fish/vendor_completions.d/$$c.fish; done
	rm -f $(DESTDIR)$(MANDIR)/man5/evlog.5 $(DESTDIR)$(MANDIR)/man7/evkit.7

clean:
	rm -rf bin build

.PHONY: all deps units check check-matrix print-build demo bench fuzz lint install uninstall clean
.PRECIOUS: $(BUILD)/%.o $(BUILD)/cmd/%.o $(BUILD)/tests/unit/%.o
-include $(shell find build -name '*.d' 2>/dev/null)
