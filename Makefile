# Sema: plain make, like Lua and Janet.
#   make            release build: build/sema (-O3)
#   make debug      AddressSanitizer + UBSan build: build/debug/sema
#   make test       everything the CI runs (see tests/run.sh)
#   make deps       install the Debian packages the build and tests need

CC ?= cc
CSTD = -std=c11 -D_GNU_SOURCE
WARN = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
INCS = -Isrc -Iinclude
LIBS = -lutf8proc -lpcre2-8 -lm -ldl -lpthread
CLI_LIBS = -ledit
# The release binary links the permissive-licence libraries statically (their
# Debian -dev packages ship the .a files): resolving ~900 dynamic symbols was a
# third of `sema -e 1` (docs/design.md, "Startup").  nettle (LGPL), libcurl, libsqlite3,
# libmicrohttpd and wslay are loaded with dlopen on first use (src/lib/dynlib.h).
RELEASE_LIBS = -Wl,-Bstatic -lutf8proc -lpcre2-8 -ledit -ltinfo -lbsd -lmd -Wl,-Bdynamic -lm -ldl -lpthread
OPT ?= -O3 -g
# The release executable is not position-independent: a PIE binary relocates
# ~4,000 pointers of the builtin tables at every start, writing a dozen pages;
# `sema -e 1` took 4.38 ms with PIE, 4.06 ms without (docs/design.md,
# "Startup").  The objects stay PIC-compatible (libsema.a links into PIE hosts).
EXE_LDFLAGS ?= -no-pie
# hash tries count bits on every step: use the instruction where there is one
ifeq ($(shell uname -m),x86_64)
ARCH_FLAGS ?= -mpopcnt
endif
DEBUG_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

CORE_SRC = $(wildcard src/*.c) $(wildcard src/lib/*.c)
CLI_SRC = $(wildcard src/cli/*.c)
HDRS = $(wildcard src/*.h) $(wildcard src/lib/*.h) $(wildcard src/cli/*.h)

CORE_OBJ = $(CORE_SRC:src/%.c=build/obj/%.o)
CLI_OBJ = $(CLI_SRC:src/%.c=build/obj/%.o)
DBG_CORE_OBJ = $(CORE_SRC:src/%.c=build/debug/obj/%.o)
DBG_CLI_OBJ = $(CLI_SRC:src/%.c=build/debug/obj/%.o)

.PHONY: all debug test check-all check-oom deps clean unit bench profile-ops pgo soak fuzz fuzz-build fuzz-smoke
.PHONY: install embed-example build/sema.pc

all: build/sema build/libsema.so build/sema.pc

build/obj/%.o: src/%.c $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) $(ARCH_FLAGS) $(INCS) -c $< -o $@

build/debug/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(DEBUG_FLAGS) $(INCS) -c $< -o $@

build/libsema.a: $(CORE_OBJ)
	@mkdir -p build
	rm -f $@ && ar rcs $@ $^

build/sema: $(CLI_OBJ) build/libsema.a
	$(CC) $(OPT) $(EXE_LDFLAGS) -o $@ $(CLI_OBJ) build/libsema.a $(RELEASE_LIBS)

build/debug/libsema.a: $(DBG_CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

build/debug/sema: $(DBG_CLI_OBJ) build/debug/libsema.a
	$(CC) $(DEBUG_FLAGS) -o $@ $(DBG_CLI_OBJ) build/debug/libsema.a $(LIBS) $(CLI_LIBS)

debug: build/debug/sema

UNIT_TESTS = $(patsubst tests/unit/%.c,build/debug/unit/%,$(wildcard tests/unit/*.c))

build/debug/unit/%: tests/unit/%.c build/debug/libsema.a
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(DEBUG_FLAGS) $(INCS) $< build/debug/libsema.a -o $@ -lcmocka $(LIBS)

unit: $(UNIT_TESTS)

test: build/sema build/debug/sema unit
	bash tests/run.sh

deps:
	bash tools/deps.sh

# ---- embedding: shared library, pkg-config file, install, the example ----
#   make install PREFIX=/opt/sema [DESTDIR=...]
#   make embed-example                         build/embed against build/libsema.a, run it
#   make embed-example EMBED_PREFIX=/opt/sema  ... against an installed copy (pkg-config)
PREFIX ?= /usr/local
DESTDIR ?=
INSTALL_PREFIX = $(abspath $(PREFIX))
VERSION := $(shell sed -n 's/^\#define SEMA_VERSION_STRING "\(.*\)"/\1/p' include/sema.h)
PIC_CORE_OBJ = $(CORE_SRC:src/%.c=build/pic/%.o)

# only the SEMA_API functions of include/sema.h are exported from the .so
build/pic/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) $(ARCH_FLAGS) -fPIC -fvisibility=hidden $(INCS) -c $< -o $@

build/obj/api.o build/debug/obj/api.o build/pic/api.o: include/sema.h

build/libsema.so: $(PIC_CORE_OBJ)
	$(CC) -shared -Wl,-soname,libsema.so -o $@ $(PIC_CORE_OBJ) $(LIBS)

build/sema.pc: sema.pc.in
	@mkdir -p build
	sed -e 's|@PREFIX@|$(INSTALL_PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' -e 's|@LIBS@|$(LIBS)|g' $< > $@

install: build/sema build/libsema.a build/libsema.so build/sema.pc
	install -d $(DESTDIR)$(INSTALL_PREFIX)/bin $(DESTDIR)$(INSTALL_PREFIX)/include $(DESTDIR)$(INSTALL_PREFIX)/lib/pkgconfig
	install -m 755 build/sema $(DESTDIR)$(INSTALL_PREFIX)/bin/sema
	install -m 644 build/libsema.a $(DESTDIR)$(INSTALL_PREFIX)/lib/libsema.a
	install -m 755 build/libsema.so $(DESTDIR)$(INSTALL_PREFIX)/lib/libsema.so
	install -m 644 include/sema.h $(DESTDIR)$(INSTALL_PREFIX)/include/sema.h
	install -m 644 build/sema.pc $(DESTDIR)$(INSTALL_PREFIX)/lib/pkgconfig/sema.pc
	if [ -f docs/cli.md ]; then \
	  install -d $(DESTDIR)$(INSTALL_PREFIX)/share/doc/sema && \
	  install -m 644 docs/cli.md $(DESTDIR)$(INSTALL_PREFIX)/share/doc/sema/cli.md; fi

# the example sees only include/sema.h, as an outside program would
ifdef EMBED_PREFIX
EMBED_PC = PKG_CONFIG_PATH=$(abspath $(EMBED_PREFIX))/lib/pkgconfig pkg-config
build/embed: examples/embed/embed.c FORCE
	@mkdir -p build
	$(CC) $(CSTD) $(WARN) $(OPT) $$($(EMBED_PC) --cflags sema) $< -o $@ \
	  $$($(EMBED_PC) --libs sema) -Wl,-rpath,$(abspath $(EMBED_PREFIX))/lib
else
build/embed: examples/embed/embed.c include/sema.h build/libsema.a FORCE
	$(CC) $(CSTD) $(WARN) $(OPT) -Iinclude $< build/libsema.a -o $@ $(LIBS)
endif

embed-example: build/embed
	./build/embed

FORCE:

# opcode-pair profile: build/prof/sema prints pair counts at exit
build/prof/sema: $(CORE_SRC) $(CLI_SRC) $(HDRS)
	@mkdir -p build/prof
	$(CC) $(CSTD) $(WARN) -O2 -DSEMA_PROFILE_OPS $(INCS) $(CORE_SRC) $(CLI_SRC) -o $@ $(LIBS) $(CLI_LIBS)

profile-ops: build/prof/sema

# build variants whose effect is measured in docs/design.md ("Build")
build/o3/sema: $(CORE_SRC) $(CLI_SRC) $(HDRS)
	@mkdir -p build/o3
	$(CC) $(CSTD) $(WARN) -O3 -g $(ARCH_FLAGS) $(INCS) $(CORE_SRC) $(CLI_SRC) -o $@ $(RELEASE_LIBS)

build/lto/sema: $(CORE_SRC) $(CLI_SRC) $(HDRS)
	@mkdir -p build/lto
	$(CC) $(CSTD) $(WARN) -O2 -g -flto=auto $(ARCH_FLAGS) $(INCS) $(CORE_SRC) $(CLI_SRC) -o $@ $(RELEASE_LIBS)

pgo:
	CC="$(CC)" ARCH_FLAGS="$(ARCH_FLAGS)" RELEASE_LIBS="$(RELEASE_LIBS)" bash tools/pgo.sh

# libFuzzer targets (tests/fuzz): build, long runs (FUZZ_SECONDS per target), CI smoke run
fuzz-build:
	bash tools/fuzz.sh build
fuzz:
	bash tools/fuzz.sh run $(or $(FUZZ_SECONDS),600)
fuzz-smoke:
	bash tools/fuzz.sh smoke

# the soak test for as long as the reliability issue asks (the test command runs it for 20 s)
soak: build/sema
	tests/soak/run.sh build/sema 180

# the long variants of the tests that `make test` runs short: the HTTP load
# test for 10 s per run against Python and Node; the kv/db crash test with
# 10,000 keys and rows and 20 kills
check-all: test
	cd tests/http && python3 load_test.py ../../build/sema 10 --compare
	python3 tests/store/crash.py build/sema --count 10000 --kills 20
	$(MAKE) check-oom

# the long memory-failure sweep: every allocation of every program in
# tests/reliability/oom, made to fail in turn, under ASan and LeakSanitizer
check-oom: build/sema build/debug/sema
	bash tests/reliability/oom_sweep.sh build/debug/sema 1

# not part of the tests: the side-by-side benchmark suite (writes bench/RESULTS.md)
bench: build/sema
	bash bench/run.sh

clean:
	rm -rf build
