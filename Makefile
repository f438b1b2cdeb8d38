# coattail - build, test and install.
#
#   make              build bin/coattail-{scraper,mapper,decider,executor,tap,inject,keygen}
#   make test         build and run every test; ends with "N passed, N failed"
#   make SAN=1 test   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make install      PREFIX=/usr/local DESTDIR=
#   make format       clang-format the tree
#   make readme       regenerate the README's configuration reference
#   make fuzz         run every libFuzzer target for FUZZ_SECONDS (clang)
#   make run | demo | chaos | bench   (see "running" below)
#
# Missing Debian packages are installed by deploy/deps.sh (as root) the first
# time a build needs them.

PREFIX     ?= /usr/local
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
BINDIR     ?= bin
VERSION    := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)

MODE   := $(if $(FUZZ),fuzz,$(if $(SAN),san,rel))
BUILD  ?= build/$(MODE)

CC     ?= cc
PKGS   := libzmq libcurl libxml-2.0 libconfig sqlite3 jansson

# ---- dependencies ----------------------------------------------------------
NODEPS_GOALS := clean format distclean help
ifneq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
  MSGPACK_PC := $(shell pkg-config --exists msgpack-c 2>/dev/null && echo msgpack-c || \
                        (pkg-config --exists msgpack 2>/dev/null && echo msgpack))
  DEPS_OK := $(shell pkg-config --exists $(PKGS) cmocka 2>/dev/null && echo yes)
  ifneq ($(DEPS_OK)$(if $(MSGPACK_PC),,x),yes)
    $(info make: build dependencies missing; running deploy/deps.sh)
    DEPS_RC := $(shell sh deploy/deps.sh 1>&2; echo $$?)
    ifneq ($(DEPS_RC),0)
      $(error deploy/deps.sh could not install the dependencies (see above))
    endif
    MSGPACK_PC := $(shell pkg-config --exists msgpack-c 2>/dev/null && echo msgpack-c || \
                          (pkg-config --exists msgpack 2>/dev/null && echo msgpack))
  endif
endif

# libcurl and libzmq are compiled against but not linked: common/curl_load.c
# loads libcurl when a process makes its first HTTP client, common/zmq_load.c
# libzmq when it makes its first ZeroMQ context (start-up cost: curl_load.h,
# zmq_load.h).  Only bench_relay, which calls libzmq itself, links it.
# --as-needed keeps each binary's list of shared objects to what it calls.
ALLPKGS     := $(PKGS) $(MSGPACK_PC)
PKG_CFLAGS  := $(shell pkg-config --cflags $(ALLPKGS) 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs $(filter-out libcurl libzmq,$(ALLPKGS)) 2>/dev/null)
ZMQ_LIBS    := $(shell pkg-config --libs libzmq 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -D_GNU_SOURCE -Icommon $(PKG_CFLAGS) \
           -DCOATTAIL_VERSION='"$(VERSION)"' -DSYSCONFDIR='"$(SYSCONFDIR)"'
LDFLAGS += -Wl,--as-needed
ifdef SAN
  CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=address,undefined
endif
ifdef FUZZ
  CFLAGS  += -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer -DCOATTAIL_FUZZ
  LDFLAGS += -fsanitize=fuzzer,address,undefined
endif
LDLIBS  := $(PKG_LIBS) -lm

# ---- sources ---------------------------------------------------------------
STAGES      := scraper mapper decider executor
COMMON_SRC  := $(wildcard common/*.c)
COMMON_LIB  := $(BUILD)/libcoattail.a
stage_src    = $(filter-out $(1)/main.c,$(wildcard $(1)/*.c))
stage_lib    = $(BUILD)/lib$(1).a
STAGE_LIBS  := $(foreach s,$(STAGES),$(call stage_lib,$(s)))
TOOLS       := tap inject keygen
BINS        := $(addprefix $(BINDIR)/coattail-,$(STAGES) $(TOOLS))
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TESTLIB_SRC := $(wildcard tests/unit/support/*.c)
TESTLIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(TESTLIB_SRC))

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

# Relink bin/ when the flags change (SAN=1 and plain builds share bin/).
FLAGSTAMP := build/flags.$(MODE)
$(shell mkdir -p build; echo '$(CC) $(CFLAGS) $(LDFLAGS) $(LDLIBS)' > build/flags.new; \
	cmp -s build/flags.new $(FLAGSTAMP) || cp build/flags.new $(FLAGSTAMP); \
	cmp -s $(FLAGSTAMP) build/flags.last || cp $(FLAGSTAMP) build/flags.last)

.PHONY: all test unit-tests clean install format check-format help readme fuzz fuzz-build fuzz-bins fuzz-smoke run demo chaos bench
.SECONDARY:
all: $(BINS)

$(BUILD)/%.o: %.c $(FLAGSTAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(COMMON_LIB): $(call obj,$(COMMON_SRC))
	@rm -f $@
	ar rcs $@ $^

define STAGE_RULES
$(call stage_lib,$(1)): $(call obj,$(call stage_src,$(1)))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	ar rcs $$@ $$^
$(BINDIR)/coattail-$(1): $(call obj,$(1)/main.c) $(call stage_lib,$(1)) $(COMMON_LIB) build/flags.last
	@mkdir -p $(BINDIR)
	$(CC) $(LDFLAGS) -o $$@ $(call obj,$(1)/main.c) $(call stage_lib,$(1)) $(COMMON_LIB) $(LDLIBS)
endef
$(foreach s,$(STAGES),$(eval $(call STAGE_RULES,$(s))))

$(BINDIR)/coattail-%: $(BUILD)/common/tools/%.o $(COMMON_LIB) build/flags.last
	@mkdir -p $(BINDIR)
	$(CC) $(LDFLAGS) -o $@ $< $(COMMON_LIB) $(LDLIBS)

# Unit tests link every stage library, so a test can reach any module.
$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(TESTLIB_OBJ) $(STAGE_LIBS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(TESTLIB_OBJ) $(STAGE_LIBS) $(COMMON_LIB) $(LDLIBS) $(CMOCKA_LIBS)

# A stand-in libzmq.so.5 that says it is 4.1.0: the loader must refuse it
# (test_zmq_load; test_deploy builds its own copy for a stage to refuse).
FAKEZMQ := $(BUILD)/tests/fakezmq/libzmq.so.5
$(FAKEZMQ): tests/unit/fakezmq/fake_libzmq.c
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O0 -Wall -Werror -o $@ $<
$(BUILD)/tests/test_zmq_load: $(FAKEZMQ)

unit-tests: $(UNIT_BINS)

# ---- fuzzing (clang + libFuzzer, ASan, UBSan) -------------------------------
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="form4 atom"]
#   make fuzz-smoke        a few seconds of each target (CI)
# Every tests/fuzz/fuzz_*.c is a target; its seeds are named in tests/fuzz/run.py.
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 60

$(BUILD)/fuzz/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(STAGE_LIBS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(STAGE_LIBS) $(COMMON_LIB) $(LDLIBS)

# fuzz_http_headers inflates gzip bodies itself, as libcurl would (zlib).
$(BUILD)/fuzz/fuzz_http_headers: private LDLIBS += -lz

fuzz-bins: $(FUZZ_BINS)

fuzz-build:
	$(MAKE) FUZZ=1 CC=clang BUILD=build/fuzz fuzz-bins

fuzz: fuzz-build
	python3 tests/fuzz/run.py --bin build/fuzz/fuzz --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	python3 tests/fuzz/run.py --bin build/fuzz/fuzz --seconds 5 $(FUZZ_TARGETS)

test: all unit-tests bench-bins
	python3 tests/run.py --bin $(BINDIR) --unit $(BUILD)/tests $(if $(SAN),--san)

# ---- running --------------------------------------------------------------
# make run:   the four stages and a tap under supervisord, live sources, the
#             paper broker, state in ./var (deploy/run.sh)
# make demo:  offline, from recorded pages and a fake OpenFIGI (tests/demo/)
# make chaos: the long crash test (tests/chaos/); CI runs its short form
# make bench: the benchmarks behind BENCHMARKS.md (tests/bench/)
run: all
	sh deploy/run.sh

demo: all
	python3 tests/demo/demo.py

chaos: all
	python3 tests/chaos/chaos.py --long

bench: all
	python3 tests/bench/bench.py

# Regenerate the README's configuration reference from the settings tables.
readme: $(BUILD)/tests/test_readme
	COATTAIL_UPDATE_README=1 $(BUILD)/tests/test_readme >/dev/null

# make install [PREFIX=/usr/local] [DESTDIR=]: binaries in PREFIX/bin, the
# config (0640) in SYSCONFDIR/coattail, systemd units in UNITDIR with
# @BINDIR@/@SYSCONFDIR@ filled in, the sysusers file, man pages made from
# each --help, and example configs in DOCDIR.  systemd reads units from
# /usr/local/lib/systemd/system as well as /usr/lib/systemd/system, so the
# default follows PREFIX.  Details in deploy/install.sh.
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/coattail
install: all
	PREFIX='$(PREFIX)' DESTDIR='$(DESTDIR)' SYSCONFDIR='$(SYSCONFDIR)' UNITDIR='$(UNITDIR)' \
	SYSUSERSDIR='$(SYSUSERSDIR)' MANDIR='$(MANDIR)' DOCDIR='$(DOCDIR)' BINS='$(BINS)' \
	VERSION='$(VERSION)' sh deploy/install.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)

# ---- benchmarks (make bench; tests/bench/, BENCHMARKS.md) --------------------
# Bench-only helpers: bench_parse (libxml2's own parse, the parsing floor) and
# bench_relay (bare PUSH/PULL relay, the pipeline floor; paced latency probe).
BENCH_BINS := $(BUILD)/bench/bench_parse $(BUILD)/bench/bench_relay

$(BUILD)/bench/bench_%: $(BUILD)/tests/bench/bench_%.o $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(COMMON_LIB) $(LDLIBS) $(ZMQ_LIBS)

bench-bins: $(BENCH_BINS)
bench: bench-bins
.PHONY: bench-bins
