# Sema: plain make, like Lua and Janet.
#   make            release build: build/sema (-O2)
#   make debug      AddressSanitizer + UBSan build: build/debug/sema
#   make test       everything the CI runs (see tests/run.sh)
#   make deps       install the Debian packages the build and tests need

CC ?= cc
CSTD = -std=c11 -D_GNU_SOURCE
WARN = -Wall -Wextra -Wno-unused-parameter
INCS = -Isrc -Iinclude
LIBS = -lutf8proc -lpcre2-8 -lm
CLI_LIBS = -ledit
OPT ?= -O2 -g
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

.PHONY: all debug test deps clean unit bench profile-ops

all: build/sema

build/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) $(ARCH_FLAGS) $(INCS) -c $< -o $@

build/debug/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(DEBUG_FLAGS) $(INCS) -c $< -o $@

build/libsema.a: $(CORE_OBJ)
	@mkdir -p build
	ar rcs $@ $^

build/sema: $(CLI_OBJ) build/libsema.a
	$(CC) $(OPT) -o $@ $(CLI_OBJ) build/libsema.a $(LIBS) $(CLI_LIBS)

build/debug/libsema.a: $(DBG_CORE_OBJ)
	ar rcs $@ $^

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

# opcode-pair profile: build/prof/sema prints pair counts at exit
build/prof/sema: $(CORE_SRC) $(CLI_SRC) $(HDRS)
	@mkdir -p build/prof
	$(CC) $(CSTD) $(WARN) -O2 -DSEMA_PROFILE_OPS $(INCS) $(CORE_SRC) $(CLI_SRC) -o $@ $(LIBS) $(CLI_LIBS)

profile-ops: build/prof/sema

# not part of the tests: the side-by-side benchmark suite (writes bench/RESULTS.md)
bench: build/sema
	bash bench/run.sh

clean:
	rm -rf build
