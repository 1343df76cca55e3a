# lull — one Makefile: library, binaries, tests, sanitizer build, run.
#
# Everything except the main.c files builds into build/<variant>/liblull.a; binaries and tests link it.
# New modules are picked up by wildcard: common/*.c proto/*.c <tier>/<tier>_*.c, tests/unit/test_*.c,
# tests/fakes/*.c (one program each, with its parts in tests/fakes/<prog>/*.c), tests/bench/*.c (benchmark programs, run by scripts/bench/*),
# tests/fuzz/fuzz_*.c (libFuzzer targets, `make fuzz`).

PKGS      := libczmq libzmq libmicrohttpd libcurl libcjson libpq openssl
CC        ?= cc
VARIANT   ?= release
BUILD     := build/$(VARIANT)
BIN       := bin
WARN      := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Werror
SCHEMA_VERSION := $(shell ls migrations/*.sql 2>/dev/null | sed -n 's|.*/0*\([0-9][0-9]*\)_.*|\1|p' | sort -n | tail -1)
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE $(WARN) -g -Icommon -Iproto -Itests/unit \
               -DLULL_SCHEMA_VERSION=$(or $(SCHEMA_VERSION),0) $(shell pkg-config --cflags $(PKGS))
LIBS      := $(shell pkg-config --libs $(PKGS)) -lpthread -lm

ifeq ($(VARIANT),fuzz)
  SAN     := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  OPT     := -O1
  BIN     := build/fuzz/bin
else ifeq ($(VARIANT),asan)
  SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  OPT     := -O1
  BIN     := build/asan/bin
else
  SAN     :=
  OPT     := -O2
endif
CFLAGS    := $(CFLAGS_BASE) $(OPT) $(SAN) $(EXTRA_CFLAGS)
LDFLAGS   += $(SAN)

TIERS     := ingress admin scheduler worker sender
LIB_SRC   := $(wildcard common/*.c proto/*.c) $(foreach t,$(TIERS),$(filter-out $(t)/main.c,$(wildcard $(t)/*.c)))
LIB_OBJ   := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC))
# Static texts: every file of <tier>/static/ goes into the library. scripts/embed.c, built for this machine
# without sanitizers, turns each into build/<variant>/gen/<name>.c (name: its path with / . - as _, e.g.
# ingress_static_chat_html); an edit of the file rebuilds it.
HOST_CC   ?= cc
EMBED     := $(BUILD)/host/embed
EMBED_IN  := $(wildcard $(addsuffix /static/*,$(TIERS) common))
embed_name = $(subst -,_,$(subst .,_,$(subst /,_,$(1))))
EMBED_OBJ := $(foreach f,$(EMBED_IN),$(BUILD)/gen/$(call embed_name,$(f)).o)
LIB       := $(BUILD)/liblull.a
PROGS     := $(foreach t,$(TIERS),$(if $(wildcard $(t)/main.c),$(BIN)/lull-$(t)))
# tools/*.c are one program each, except tools/<prog>_*.c, which are linked into tools/<prog>.c's program.
TOOL_PARTS  := $(wildcard tools/*_*.c)
EXTRA_PROGS := $(patsubst tools/%.c,$(BIN)/%,$(filter-out $(TOOL_PARTS),$(wildcard tools/*.c)))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FAKE_BIN  := $(patsubst tests/fakes/%.c,$(BUILD)/fakes/%,$(wildcard tests/fakes/*.c))
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_BIN := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(wildcard tests/bench/*.c))

.PHONY: all build test asan run clean deps fuzz fuzz-build tests-build config-doc
all: build
build: $(PROGS) $(EXTRA_PROGS)
tests-build: build $(UNIT_BIN) $(FAKE_BIN) $(BENCH_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(EMBED): scripts/embed.c
	@mkdir -p $(dir $@)
	@echo "HOSTCC $@"
	@$(HOST_CC) -std=c11 $(WARN) -O2 $< -o $@

define EMBED_RULE
$(BUILD)/gen/$(call embed_name,$(1)).c: $(1) $(EMBED)
	@mkdir -p $$(dir $$@)
	@echo "EMBED $(1)"
	@$(EMBED) $(call embed_name,$(1)) $(1) $$@
endef
$(foreach f,$(EMBED_IN),$(eval $(call EMBED_RULE,$(f))))

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	@echo "CC $<"
	@$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ) $(EMBED_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	@ar rcs $@ $^

$(BIN)/lull-%: $(BUILD)/obj/%/main.o $(LIB)
	@mkdir -p $(dir $@)
	@echo "LD $@"
	@$(CC) $(LDFLAGS) $^ $(LIBS) -o $@

# A tool links its parts (tools/<prog>_*.c) before the library.
$(foreach p,$(EXTRA_PROGS),$(eval $(p): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/$(notdir $(p))_*.c))))
$(BIN)/%: $(BUILD)/obj/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	@echo "LD $@"
	@$(CC) $(LDFLAGS) $(filter-out $(LIB),$^) $(LIB) $(LIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	@echo "LD $@"
	@$(CC) $(LDFLAGS) $^ $(LIBS) -o $@

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	@echo "LD $@"
	@$(CC) $(LDFLAGS) $^ $(LIBS) -o $@

# A fake links its parts (tests/fakes/<prog>/*.c) before the library.
$(foreach p,$(FAKE_BIN),$(eval $(p): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/fakes/$(notdir $(p))/*.c))))
$(BUILD)/fakes/%: $(BUILD)/obj/tests/fakes/%.o $(LIB)
	@mkdir -p $(dir $@)
	@echo "LD $@"
	@$(CC) $(LDFLAGS) $(filter-out $(LIB),$^) $(LIB) $(LIBS) -o $@

# The schema version is compiled in (-DLULL_SCHEMA_VERSION): objects that use it follow the migrations.
$(BUILD)/obj/common/lull_proc.o $(BUILD)/obj/tests/unit/test_db.o: $(wildcard migrations/*.sql)

deps:
	@scripts/install-deps
	@scripts/node-deps

# All unit and integration tests; the runner ends with "N passed, N failed".
test: deps
	@$(MAKE) --no-print-directory tests-build
	@LULL_BUILD=$(BUILD) LULL_BIN=$(abspath $(BIN)) tests/run

# The same tests built with ASan + UBSan (LeakSanitizer on).
asan: deps
	@$(MAKE) --no-print-directory VARIANT=asan CC=clang tests-build
	@LULL_BUILD=build/asan LULL_BIN=$(abspath build/asan/bin) \
	 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 tests/run

# libFuzzer targets (tests/fuzz/fuzz_*.c) linked against the library built once with the fuzzer's
# instrumentation. `make fuzz` runs each for FUZZ_RUNS executions (default 10 million; FUZZ_SECONDS=N runs
# each for N seconds instead, FUZZ_TARGETS="fuzz_x …" picks some) from its kept corpus tests/fuzz/corpus/<target>
# and its seeds tests/fuzz/seeds/<target>, then minimises the corpus (tests/fuzz/run).
FUZZ_BIN  := $(patsubst tests/fuzz/%.c,build/fuzz/targets/%,$(FUZZ_SRC))
build/fuzz/targets/%: build/fuzz/obj/tests/fuzz/%.o build/fuzz/liblull.a
	@mkdir -p $(dir $@)
	@echo "LD $@"
	@$(CC) -fsanitize=fuzzer,address,undefined $^ $(LIBS) -o $@

fuzz-build: $(FUZZ_BIN)

fuzz: deps
	@$(MAKE) --no-print-directory VARIANT=fuzz CC=clang fuzz-build
	@tests/fuzz/run

# Start the whole stack on a local database; Ctrl-C stops it.
run: deps
	@$(MAKE) --no-print-directory build
	@scripts/run

config-doc: build
	@scripts/config-doc

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
.SECONDARY:
