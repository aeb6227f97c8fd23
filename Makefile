# wsevent: Windows Sockets event objects for Linux.
#
#   make demo     set up what is missing, build, run the demo transcript
#   make test     set up what is missing, build, run every test (CI runs it)
#   make check    make test, plus sanitizers, valgrind and longer stress
#   make bench    the benchmark table
#   make install  PREFIX=/usr/local DESTDIR=
#
# The public targets first run `deps` (apt-get installs what is missing),
# then call make again so that probes for Python and Lua see the result.

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes
CPPFLAGS_CORE = -std=c11 -D_GNU_SOURCE -Icore/include
LDLIBS_CORE = -lpthread

APT_PACKAGES = build-essential pkg-config lua5.4 liblua5.4-dev swig \
  python3-dev python3-pytest python3-setuptools python3-wheel lua-busted \
  lua-socket clang libclang-rt-14-dev valgrind

# The test interpreter: the first of these that imports pytest and has
# Python.h (pyenv's python3 on PATH usually lacks pytest).
PYTHON ?= $(shell for p in python3 /usr/bin/python3; do \
  $$p -c 'import os, sys, sysconfig, pytest; \
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  >/dev/null 2>&1 && { command -v $$p; break; }; done)
LUA ?= lua5.4
LUA_CFLAGS ?= $(shell pkg-config --cflags lua5.4 2>/dev/null)
BUSTED ?= /usr/bin/busted

B = build
CORE_SRC = $(wildcard core/src/*.c)
CORE_HDR = $(wildcard core/include/*.h core/include/wsevent/*.h core/src/*.h)
CORE_OBJ = $(patsubst core/src/%.c,$(B)/obj/%.o,$(CORE_SRC))
LIB_A = $(B)/libwsevent.a
LIB_SO = $(B)/libwsevent.so

CORE_TESTS = $(patsubst tests/core/%.c,$(B)/tests/%,$(wildcard tests/core/test_*.c))
STRESS_OPS ?= 2000000

.PHONY: all lib deps demo test check bench install clean providers test-winsock fuzz check-python-asan check-lua-asan \
  build-all test-all check-all bench-all demo-all \
  test-core test-stress check-tsan check-asan check-valgrind

all: lib

lib: $(LIB_A) $(LIB_SO)

# ---- set-up -------------------------------------------------------------

deps:
	@missing=$$(for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' \
	  || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing $$missing"; \
	  if [ "$$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing \
	    >/dev/null || exit 1; \
	fi

demo: deps
	@$(MAKE) --no-print-directory demo-all
test: deps
	@$(MAKE) --no-print-directory test-all
check: deps
	@$(MAKE) --no-print-directory check-all
bench: deps
	@$(MAKE) --no-print-directory bench-all

# ---- the C library ------------------------------------------------------

$(B)/obj/%.o: core/src/%.c $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) $(CFLAGS) $(WARN) -fPIC -fvisibility=hidden \
	  '-DWSEVENT_EXTERN=extern __attribute__((visibility("default")))' \
	  -c $< -o $@

$(LIB_A): $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIB_SO): $(CORE_OBJ)
	$(CC) -shared -Wl,-soname,libwsevent.so.1 -o $@.1 $^ $(LDLIBS_CORE)
	ln -sf libwsevent.so.1 $@

# ---- C tests, demo, benchmarks -------------------------------------------

$(B)/tests/%: tests/core/%.c tests/core/tap.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) -Icore/src $(CFLAGS) $(WARN) $< -o $@ $(LIB_A) $(LDLIBS_CORE)

$(B)/demo: demo/demo.c $(LIB_A)
	$(CC) $(CPPFLAGS_CORE) $(CFLAGS) $(WARN) $< -o $@ $(LIB_A) $(LDLIBS_CORE)

$(B)/bench_core: bench/bench_core.c bench/bench.h $(LIB_A)
	$(CC) $(CPPFLAGS_CORE) $(CFLAGS) $(WARN) $< -o $@ $(LIB_A) $(LDLIBS_CORE)

test-core: $(CORE_TESTS)
	prove -v $(CORE_TESTS) 2>&1 | tail -n 400

test-stress: $(B)/tests/test_stress
	WSEVENT_STRESS_OPS=$(STRESS_OPS) prove -v $(B)/tests/test_stress

# ---- Python ---------------------------------------------------------------

PY_EXT_STAMP = $(B)/python.stamp
PY_SRC = setup.py python/wsevent/_wsevent.c $(CORE_SRC) $(CORE_HDR)
HELPER_SO = $(B)/helpers/libdelayed_set.so

$(PY_EXT_STAMP): $(PY_SRC)
	@test -n "$(PYTHON)" || { echo "no Python with pytest and Python.h: run make deps"; exit 1; }
	$(PYTHON) setup.py -q build_ext --inplace -b $(B)/python -t $(B)/python-temp
	@touch $@

$(HELPER_SO): tests/helpers/delayed_set.c $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) $(CFLAGS) $(WARN) -shared -fPIC $< -o $@ -lpthread

# pytest exits 5 when it collects nothing: that must fail, and it does
# (any non-zero status fails make).
test-python: $(PY_EXT_STAMP) $(HELPER_SO) $(PROVIDER_PY)
	PYTHONPATH=python:$(B)/swig/py $(PYTHON) -m pytest -q tests/python

# ---- Lua ------------------------------------------------------------------
# The module links no -llua5.4: the interpreter provides the symbols.  It
# lives in build/lua, away from any directory on Python's path.

LUA_SO = $(B)/lua/wsevent.so
LUA_HELPER_SO = $(B)/lua-test/testhelper.so

$(LUA_SO): lua/wsevent.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) $(LUA_CFLAGS) $(CFLAGS) $(WARN) -shared -fPIC \
	  -fvisibility=hidden lua/wsevent.c $(CORE_SRC) -o $@ -lpthread

$(LUA_HELPER_SO): tests/helpers/lua_testhelper.c tests/helpers/delayed_set.c $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) $(LUA_CFLAGS) $(CFLAGS) $(WARN) -shared -fPIC \
	  -fvisibility=hidden $(filter %.c,$^) -o $@ -lpthread

LUA_CMOD_DIR ?= $(PREFIX)/lib/x86_64-linux-gnu/lua/5.4

LUA_PATHS = LUA_CPATH='$(B)/lua/?.so;$(B)/lua-test/?.so;$(B)/swig/lua/?.so;;' \
  LUA_PATH='tests/lua/?.lua;;'

test-lua: $(LUA_SO) $(LUA_HELPER_SO) $(PROVIDER_LUA)
	$(LUA_PATHS) $(LUA) $(BUSTED) --lua=$(LUA) --pattern=^test_ -o utfTerminal tests/lua

# ---- the sample provider, wrapped by SWIG for both languages ---------------

SWIG ?= swig
SWIG_DEPS = bindings/wsevent.i bindings/sample/device.i bindings/sample/device.h $(CORE_HDR)
PROVIDER_PY = $(B)/swig/py/_device.so
PROVIDER_LUA = $(B)/swig/lua/device.so
PY_INCLUDE = $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null)
PROVIDER_CFLAGS = $(CPPFLAGS_CORE) -Ibindings/sample $(CFLAGS) -fPIC -shared \
  -fvisibility=hidden -Wno-unused-parameter

$(B)/swig/device_wrap_py.c: $(SWIG_DEPS)
	@mkdir -p $(B)/swig/py
	$(SWIG) -python -threads -Ibindings -Icore/include -outdir $(B)/swig/py -o $@ bindings/sample/device.i

$(B)/swig/device_wrap_lua.c: $(SWIG_DEPS)
	@mkdir -p $(B)/swig/lua
	$(SWIG) -lua -Ibindings -Icore/include -o $@ bindings/sample/device.i

$(PROVIDER_PY): $(B)/swig/device_wrap_py.c bindings/sample/device.c
	$(CC) $(PROVIDER_CFLAGS) -I$(PY_INCLUDE) $^ -o $@ -lpthread

$(PROVIDER_LUA): $(B)/swig/device_wrap_lua.c bindings/sample/device.c
	$(CC) $(PROVIDER_CFLAGS) $(LUA_CFLAGS) $^ -o $@ -lpthread

providers: $(PROVIDER_PY) $(PROVIDER_LUA)

build-all: lib $(PY_EXT_STAMP) $(HELPER_SO) $(LUA_SO) $(LUA_HELPER_SO) providers

# Everything, at sizes that fit CI (a few minutes in all): the functional
# suites, then the sanitizers, valgrind, sanitized language suites, fuzzing.
# make check runs the same at full size.
SUITES = test-winsock test-python test-lua
HARDENING = check-tsan check-asan check-valgrind check-python-asan check-lua-asan fuzz

test-all: build-all $(CORE_TESTS)
	prove $(CORE_TESTS)
	$(MAKE) --no-print-directory $(SUITES)
	$(MAKE) --no-print-directory $(HARDENING) STRESS_OPS=300000 FUZZ_SECONDS=20

demo-all: $(B)/demo build-all
	@$(B)/demo
	@echo
	@PYTHONPATH=python:$(B)/swig/py $(PYTHON) demo/demo.py
	@echo
	@LUA_CPATH='$(B)/lua/?.so;$(B)/swig/lua/?.so;;' $(LUA) demo/demo.lua

$(B)/lua-bench/benchhelper.so: bench/lua_benchhelper.c $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) $(LUA_CFLAGS) $(CFLAGS) $(WARN) -shared -fPIC \
	  -fvisibility=hidden $< -o $@ -lpthread

bench-all: $(B)/bench_core $(PY_EXT_STAMP) $(LUA_SO) $(B)/lua-bench/benchhelper.so
	$(B)/bench_core
	@echo
	PYTHONPATH=python $(PYTHON) bench/bench_python.py
	@echo
	LUA_CPATH='$(B)/lua/?.so;$(B)/lua-bench/?.so;;' $(LUA) bench/bench_lua.lua

# ---- sanitizers and valgrind (make check) --------------------------------

SAN_TESTS = $(patsubst tests/core/%.c,%,$(wildcard tests/core/test_*.c))

define san_build
	@mkdir -p $(B)/$(1)
	for t in $(SAN_TESTS); do \
	  $(CC) $(CPPFLAGS_CORE) -Icore/src -O1 -g $(2) $(WARN) \
	    tests/core/$$t.c $(CORE_SRC) -o $(B)/$(1)/$$t -lpthread || exit 1; \
	done
endef

check-tsan:
	$(call san_build,tsan,-fsanitize=thread)
	WSEVENT_TEST_TIMEOUT=300 WSEVENT_STRESS_OPS=$(STRESS_OPS) \
	  TSAN_OPTIONS="halt_on_error=1 allocator_may_return_null=1 suppressions=$(CURDIR)/tests/core/tsan.supp" prove $(B)/tsan/test_*

check-asan:
	$(call san_build,asan,-fsanitize=address$(comma)undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
	WSEVENT_TEST_TIMEOUT=300 WSEVENT_STRESS_OPS=$(STRESS_OPS) \
	  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 prove $(B)/asan/test_*

check-valgrind: $(CORE_TESTS) $(WINSOCK_TESTS)
	for t in $(CORE_TESTS) $(WINSOCK_TESTS); do \
	  WSEVENT_TEST_TIMEOUT=600 WSEVENT_STRESS_OPS=20000 valgrind -q \
	    --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	    --show-possibly-lost=no \
	    --trace-children=yes $$t >/dev/null || { echo "valgrind: $$t"; exit 1; }; \
	done

comma = ,

check-all: build-all $(CORE_TESTS)
	prove $(CORE_TESTS)
	$(MAKE) --no-print-directory $(SUITES)
	$(MAKE) --no-print-directory $(HARDENING) STRESS_OPS=10000000 FUZZ_SECONDS=120

# ---- install -------------------------------------------------------------

install: lib $(LUA_SO)
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIB_SO).1 $(DESTDIR)$(PREFIX)/lib/libwsevent.so.1
	ln -sf libwsevent.so.1 $(DESTDIR)$(PREFIX)/lib/libwsevent.so
	install -m 644 core/include/wsevent.h core/include/wsevent_provider.h \
	  $(DESTDIR)$(PREFIX)/include/
	install -d $(DESTDIR)$(PREFIX)/include/wsevent
	install -m 644 core/include/wsevent/winsock2.h core/include/wsevent/ws2tcpip.h \
	  $(DESTDIR)$(PREFIX)/include/wsevent/
	sed -e 's|@PREFIX@|$(PREFIX)|' core/wsevent.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/wsevent.pc
	if [ -f $(LUA_SO) ]; then \
	  install -d $(DESTDIR)$(LUA_CMOD_DIR) && \
	  install -m 755 $(LUA_SO) $(DESTDIR)$(LUA_CMOD_DIR)/wsevent.so; fi

clean:
	rm -rf $(B) python/wsevent/*.so python/*.egg-info *.egg-info

# ---- Winsock source compatibility ------------------------------------------
# Winsock-style programs compiled unchanged against wsevent/winsock2.h and
# linked with -lwsevent (the shared library, as a user would).

WINSOCK_TESTS = $(patsubst tests/winsock/%.c,$(B)/winsock/%,$(wildcard tests/winsock/test_*.c))

$(B)/winsock/%: tests/winsock/%.c tests/core/tap.h $(LIB_SO) $(wildcard core/include/wsevent/*.h)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -Icore/include/wsevent $(CFLAGS) -Wall -Wextra $< \
	  -o $@ -L$(B) -lwsevent -lpthread -Wl,-rpath,$(CURDIR)/$(B)

test-winsock: $(WINSOCK_TESTS)
	prove $(WINSOCK_TESTS)

# ---- fuzzing (clang's libFuzzer) and sanitized language suites ---------------

FUZZ_SECONDS ?= 30
FUZZ_BIN = $(B)/fuzz/fuzz_api
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_RUNTIME = $(shell $(CC) -print-file-name=libasan.so)

$(FUZZ_BIN): tests/fuzz/fuzz_api.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(@D)
	clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -Icore/include tests/fuzz/fuzz_api.c $(CORE_SRC) -o $@ -lpthread

# New inputs go to build/fuzz/corpus; tests/fuzz/corpus is the seed corpus.
# The log goes to a file so that a crash keeps its exit status.
fuzz: $(FUZZ_BIN)
	@mkdir -p $(B)/fuzz/corpus
	@$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  $(B)/fuzz/corpus tests/fuzz/corpus > $(B)/fuzz/log 2>&1; r=$$?; \
	  grep -E '^(Done|stat::number_of_executed_units)' $(B)/fuzz/log; \
	  if [ $$r != 0 ]; then tail -n 60 $(B)/fuzz/log; fi; exit $$r

$(B)/python-asan.stamp: $(PY_SRC)
	CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" $(PYTHON) setup.py -q \
	  build_py -d $(B)/python-asan build_ext -b $(B)/python-asan -t $(B)/python-asan-temp
	@touch $@

check-python-asan: $(B)/python-asan.stamp $(HELPER_SO) $(PROVIDER_PY)
	LD_PRELOAD=$(ASAN_RUNTIME) ASAN_OPTIONS=detect_leaks=0 \
	  PYTHONPATH=$(B)/python-asan:$(B)/swig/py $(PYTHON) -m pytest -q -p no:cacheprovider tests/python

$(B)/lua-asan/wsevent.so: lua/wsevent.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) $(LUA_CFLAGS) -O1 -g $(SAN_FLAGS) -shared -fPIC \
	  -fvisibility=hidden lua/wsevent.c $(CORE_SRC) -o $@ -lpthread

check-lua-asan: $(B)/lua-asan/wsevent.so $(LUA_HELPER_SO) $(PROVIDER_LUA)
	LD_PRELOAD=$(ASAN_RUNTIME) ASAN_OPTIONS=detect_leaks=0 \
	  LUA_CPATH='$(B)/lua-asan/?.so;$(B)/lua-test/?.so;$(B)/swig/lua/?.so;;' \
	  LUA_PATH='tests/lua/?.lua;;' $(LUA) $(BUSTED) --lua=$(LUA) --pattern=^test_ -o utfTerminal tests/lua
