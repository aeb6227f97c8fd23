# wsevent: Windows Sockets event objects for Linux.
#
#   make demo     set up what is missing, build, run the demo transcript
#   make test     set up what is missing, build, run every test (CI runs it)
#   make check    make test at full size: long stress, longer fuzzing
#   make bench    the benchmark table
#   make install  PREFIX=/usr/local DESTDIR=
#
# The public targets first run `deps` (apt-get installs what is missing),
# then call make again so that probes for Python and Lua see the result.
#
# One core per process: everything links the one shared library,
# libwsevent.so.1 (the Python package ships its own build of it with the
# same soname, which the dynamic linker loads once per process).

# ---- configuration ---------------------------------------------------------

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes
CPPFLAGS_CORE = -std=c11 -D_GNU_SOURCE -Icore/include
LDLIBS_CORE = -lpthread
EXPORT = '-DWSEVENT_EXTERN=extern __attribute__((visibility("default")))'

APT_PACKAGES = build-essential pkg-config lua5.4 liblua5.4-dev swig \
  python3-dev python3-pytest python3-setuptools python3-wheel python3-venv \
  python3-pip lua-busted \
  lua-socket lua-cqueues lua-luv luarocks clang libclang-rt-14-dev valgrind \
  liburing-dev

# The test interpreter: the first of these that imports pytest and has
# Python.h (pyenv's python3 on PATH usually lacks pytest).
PYTHON ?= $(shell for p in python3 /usr/bin/python3; do \
  $$p -c 'import os, sys, sysconfig, pytest; \
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  >/dev/null 2>&1 && { command -v $$p; break; }; done)
PY_INCLUDE = $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null)
# For a C host that embeds Python (tests/embed): its libpython.
PY_EMBED_LIBS = $(shell $(PYTHON) -c 'import sysconfig as s; \
print("-L" + s.get_config_var("LIBDIR"), "-lpython" + s.get_config_var("LDVERSION"))' 2>/dev/null)
LUA ?= lua5.4
LUA_CFLAGS ?= $(shell pkg-config --cflags lua5.4 2>/dev/null)
BUSTED ?= /usr/bin/busted
SWIG ?= swig
LUA_CMOD_DIR ?= $(shell pkg-config --define-variable=prefix=$(PREFIX) \
  --variable=INSTALL_CMOD lua5.4 2>/dev/null)

B = build

# The layers of the library: the event core, the socket provider (which
# reaches the core only through the upcall table), the Winsock shim (its
# own library, outside the Python and Lua builds).
EVENT_SRC = $(wildcard core/src/event/*.c)
NET_SRC = $(wildcard core/src/net/*.c)
CORE_SRC = $(EVENT_SRC) $(NET_SRC)
WINSOCK_SRC = $(wildcard core/src/winsock/*.c)
CORE_HDR = $(wildcard core/include/*.h core/include/wsevent/*.h core/src/*/*.h)
CORE_OBJ = $(patsubst core/src/%.c,$(B)/obj/%.o,$(CORE_SRC))
WINSOCK_OBJ = $(patsubst core/src/%.c,$(B)/obj/%.o,$(WINSOCK_SRC))

LIB_SO = $(B)/libwsevent.so.1
WINSOCK_SO = $(B)/libwsevent-winsock.so.1
# For white-box C tests only (never installed: a static copy in a program
# that also loads the shared one would be a second core).
LIB_A = $(B)/libwsevent.a
# Link with the build tree's library, found again at run time.
LINK_CORE = -L$(B) -l:libwsevent.so.1 -Wl,-rpath,$(CURDIR)/$(B)

C_TEST_SRC = $(wildcard tests/event/test_*.c tests/net/test_*.c)
C_TESTS = $(patsubst tests/%.c,$(B)/tests/%,$(C_TEST_SRC))
WINSOCK_TESTS = $(patsubst tests/winsock/%.c,$(B)/winsock/%,$(wildcard tests/winsock/test_*.c))
EMBED_TESTS = $(B)/embed/test_embed $(B)/embed/test_unload
VERSION = $(shell sed -n 's/^\#define WSEVENT_VERSION_STRING "\(.*\)"/\1/p' core/include/wsevent.h)
STRESS_OPS ?= 2000000
FUZZ_SECONDS ?= 30

PY_EXT_STAMP = $(B)/python.stamp
PY_SRC = setup.py $(wildcard python/wsevent/*.c python/wsevent/*.h python/wsevent/*.py python/wsevent/include/wsevent_python.h) $(CORE_SRC) $(CORE_HDR)
HELPER_SO = $(B)/helpers/libdelayed_set.so

LUA_SRC = $(wildcard lua/*.c)
LUA_HDR = $(wildcard lua/*.h)
LUA_SO = $(B)/lua/wsevent.so
LUA_HELPER_SO = $(B)/lua-test/testhelper.so
LUA_PATHS = LUA_CPATH='$(B)/lua/?.so;$(B)/lua-test/?.so;$(B)/swig/lua/?.so;;' \
  LUA_PATH='tests/lua/?.lua;;'

SWIG_DEPS = bindings/wsevent.i $(CORE_HDR) lua/wsevent_lua.h \
  python/wsevent/include/wsevent_python.h
# The sample provider, and the typemaps' probe (tests/helpers/probe.i).
PROVIDER_PY = $(B)/swig/py/_device.so $(B)/swig/py/_probe.so
PROVIDER_LUA = $(B)/swig/lua/device.so $(B)/swig/lua/probe.so
PROVIDER_CFLAGS = $(CPPFLAGS_CORE) -Ibindings/sample -Itests/helpers $(CFLAGS) -fPIC -shared \
  -fvisibility=hidden -Wno-unused-parameter

SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_RUNTIME = $(shell $(CC) -print-file-name=libasan.so)
FUZZ_BIN = $(B)/fuzz/fuzz_api
comma = ,

.PHONY: all lib deps demo test check bench install clean providers \
  build-all test-all check-all demo-all bench-all test-c test-stress \
  test-winsock test-python test-lua test-embed test-install test-pip test-rock rock rock-install check-tsan \
  check-asan check-valgrind check-python-asan check-lua-asan fuzz

all: lib

lib: $(LIB_SO) $(WINSOCK_SO)

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

# ---- the C libraries --------------------------------------------------------

$(B)/obj/%.o: core/src/%.c $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) $(CFLAGS) $(WARN) -fPIC -fvisibility=hidden $(EXPORT) \
	  -c $< -o $@

# -z nodelete: a host that unloads the Lua or Python module (lua_close)
# must not unload the core under the threads it serves; nor the Lua module,
# whose functions the core may still hold (queued completion routines).
$(LIB_SO): $(CORE_OBJ)
	$(CC) -shared -Wl,-soname,libwsevent.so.1 -Wl,-z,nodelete -o $@ $^ $(LDLIBS_CORE)
	ln -sf libwsevent.so.1 $(B)/libwsevent.so

$(WINSOCK_SO): $(WINSOCK_OBJ) $(LIB_SO)
	$(CC) -shared -Wl,-soname,libwsevent-winsock.so.1 -o $@ $(WINSOCK_OBJ) \
	  -L$(B) -l:libwsevent.so.1 '-Wl,-rpath,$$ORIGIN'
	ln -sf libwsevent-winsock.so.1 $(B)/libwsevent-winsock.so

$(LIB_A): $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

# ---- C tests, demo, benchmarks -------------------------------------------

$(B)/tests/%: tests/%.c tests/tap.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) -Icore/src/event $(CFLAGS) $(WARN) $< -o $@ $(LIB_A) $(LDLIBS_CORE)

$(B)/demo: demo/demo.c $(LIB_SO)
	$(CC) $(CPPFLAGS_CORE) $(CFLAGS) $(WARN) $< -o $@ $(LINK_CORE) $(LDLIBS_CORE)

$(B)/bench_core: bench/bench_core.c bench/bench.h $(LIB_SO)
	$(CC) $(CPPFLAGS_CORE) $(CFLAGS) $(WARN) $< -o $@ $(LINK_CORE) $(LDLIBS_CORE)

$(B)/bench_named: bench/bench_named.c bench/bench.h $(LIB_SO)
	$(CC) $(CPPFLAGS_CORE) $(CFLAGS) $(WARN) $< -o $@ $(LINK_CORE) $(LDLIBS_CORE)

# With liburing (Debian's liburing-dev), the echo benchmark also measures
# an io_uring loop against the epoll loop: the numbers that chose epoll.
URING_FLAGS = $(shell pkg-config --exists liburing 2>/dev/null && \
  echo "-DHAVE_LIBURING $$(pkg-config --cflags --libs liburing)")
$(B)/bench_echo: bench/bench_echo.c bench/bench.h $(LIB_SO)
	$(CC) $(CPPFLAGS_CORE) $(CFLAGS) $(WARN) $< -o $@ $(LINK_CORE) $(LDLIBS_CORE) \
	  $(URING_FLAGS)

test-c: $(C_TESTS)
	prove $(C_TESTS)

test-stress: $(B)/tests/event/test_stress
	WSEVENT_STRESS_OPS=$(STRESS_OPS) prove -v $(B)/tests/event/test_stress

# ---- Winsock source compatibility ------------------------------------------
# Winsock-style programs compiled unchanged against wsevent/winsock2.h and
# linked with -lwsevent-winsock -lwsevent, as a user would.

$(B)/winsock/%: tests/winsock/%.c tests/tap.h $(WINSOCK_SO) $(wildcard core/include/wsevent/*.h)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -Icore/include/wsevent $(CFLAGS) -Wall -Wextra $< \
	  -o $@ -L$(B) -lwsevent-winsock -lwsevent -lpthread -Wl,-rpath,$(CURDIR)/$(B)

# The Winsock echo server of the demo, built the same way (test_echo runs it).
WINSOCK_ECHO = $(B)/winsock/winsock_echo
$(WINSOCK_ECHO): demo/winsock_echo.c $(WINSOCK_SO) $(wildcard core/include/wsevent/*.h)
	@mkdir -p $(@D)
	$(CC) -Icore/include/wsevent $(CFLAGS) -Wall -Wextra $< \
	  -o $@ -L$(B) -lwsevent-winsock -lwsevent -lpthread -Wl,-rpath,$(CURDIR)/$(B)

test-winsock: $(WINSOCK_TESTS) $(WINSOCK_ECHO)
	WSEVENT_ECHO=$(WINSOCK_ECHO) prove $(WINSOCK_TESTS)

# ---- Python ---------------------------------------------------------------

$(PY_EXT_STAMP): $(PY_SRC)
	@test -n "$(PYTHON)" || { echo "no Python with pytest and Python.h: run make deps"; exit 1; }
	$(PYTHON) setup.py -q build_ext --inplace -t $(B)/python-temp
	@touch $@

$(HELPER_SO): tests/helpers/delayed_set.c $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) $(CFLAGS) $(WARN) -shared -fPIC $< -o $@ -lpthread

# pytest exits 5 when it collects nothing: that must fail, and it does
# (any non-zero status fails make).
test-python: $(PY_EXT_STAMP) $(HELPER_SO) $(PROVIDER_PY)
	PYTHONPATH=python:$(B)/swig/py $(PYTHON) -m pytest -q tests/python

# The package as pip installs it: into a venv (offline: the build backend
# comes from the system), then imported from outside the tree.
VENV = $(B)/venv
test-pip:
	rm -rf $(VENV) $(B)/lib.* $(B)/bdist.* $(B)/temp.*
	/usr/bin/python3 -m venv --system-site-packages $(VENV)
	$(VENV)/bin/pip install -q --no-build-isolation --no-index $(CURDIR)
	cd /tmp && $(CURDIR)/$(VENV)/bin/python $(CURDIR)/tests/install/pip_smoke.py $(CURDIR)

# ---- Lua ------------------------------------------------------------------

# The rock, as luarocks installs it: into a tree of its own, then required
# from outside the source tree.
ROCK_TREE = $(B)/rocks
test-rock:
	rm -rf $(ROCK_TREE)
	luarocks --lua-version=5.4 make --tree $(CURDIR)/$(ROCK_TREE) wsevent-$(VERSION)-1.rockspec >/dev/null
	cd /tmp && $(LUA) $(CURDIR)/tests/install/rock_smoke.lua $(CURDIR)/$(ROCK_TREE) $(VERSION)

# What the rockspec's make build calls (luarocks passes CFLAGS, LUA_CFLAGS
# and ROCK_LIBDIR): the module and the shared core, side by side.
ROCK_SO = $(B)/rock/wsevent.so
rock: $(LIB_SO) $(ROCK_SO)

$(ROCK_SO): $(LUA_SRC) $(LUA_HDR) $(CORE_HDR) $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) $(LUA_CFLAGS) $(CFLAGS) $(WARN) -shared -fPIC \
	  -fvisibility=hidden $(LUA_SRC) -o $@ -L$(B) -l:libwsevent.so.1 \
	  '-Wl,-rpath,$$ORIGIN' -Wl,-z,nodelete -lpthread

rock-install: rock
	test -n "$(ROCK_LIBDIR)" || { echo "ROCK_LIBDIR is not set (luarocks sets it)"; exit 1; }
	install -d $(ROCK_LIBDIR)
	install -m 755 $(LIB_SO) $(ROCK_SO) $(ROCK_LIBDIR)/

# The module links no -llua5.4: the interpreter provides the symbols.  It
# lives in build/lua, away from any directory on Python's path.

$(LUA_SO): $(LUA_SRC) $(LUA_HDR) $(CORE_HDR) $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) $(LUA_CFLAGS) $(CFLAGS) $(WARN) -shared -fPIC \
	  -fvisibility=hidden $(LUA_SRC) -o $@ -L$(B) -l:libwsevent.so.1 \
	  '-Wl,-rpath,$$ORIGIN/..' -Wl,-z,nodelete -lpthread

$(LUA_HELPER_SO): tests/helpers/lua_testhelper.c tests/helpers/delayed_set.c $(CORE_HDR) \
  lua/wsevent_lua.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) $(LUA_CFLAGS) -Ilua $(CFLAGS) $(WARN) -shared -fPIC \
	  -fvisibility=hidden $(filter %.c,$^) -o $@ -lpthread

test-lua: $(LUA_SO) $(LUA_HELPER_SO) $(PROVIDER_LUA)
	$(LUA_PATHS) $(LUA) $(BUSTED) --lua=$(LUA) --pattern=^test_ -o utfTerminal tests/lua

# ---- one process, one core: a C host embedding Python and Lua ---------------

$(B)/embed/test_embed: tests/embed/test_embed.c tests/tap.h $(LIB_SO) $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) $(LUA_CFLAGS) -I$(PY_INCLUDE) '-DROOT="$(CURDIR)"' \
	  $(CFLAGS) $(WARN) -Wno-strict-prototypes $< -o $@ $(LINK_CORE) \
	  $(PY_EMBED_LIBS) -llua5.4 -lpthread

# This host does not link libwsevent: the Lua module brings it in.
$(B)/embed/test_unload: tests/embed/test_unload.c tests/tap.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) $(LUA_CFLAGS) '-DROOT="$(CURDIR)"' $(CFLAGS) $(WARN) \
	  $< -o $@ -llua5.4 -ldl -lpthread

test-embed: $(EMBED_TESTS) $(PY_EXT_STAMP) $(LUA_SO)
	prove $(EMBED_TESTS)

# ---- the sample provider, wrapped by SWIG for both languages ---------------

# A provider wrapped for both languages: its name and its directory (the
# .i, .h and .c there).
define swig_provider
$(B)/swig/$(1)_wrap_py.c: $(2)/$(1).i $(2)/$(1).h $(SWIG_DEPS)
	@mkdir -p $(B)/swig/py
	$(SWIG) -python -threads -Ibindings -Icore/include -outdir $(B)/swig/py -o $$@ $$<

$(B)/swig/$(1)_wrap_lua.c: $(2)/$(1).i $(2)/$(1).h $(SWIG_DEPS)
	@mkdir -p $(B)/swig/lua
	$(SWIG) -lua -Ibindings -Icore/include -o $$@ $$<

$(B)/swig/py/_$(1).so: $(B)/swig/$(1)_wrap_py.c $(2)/$(1).c
	$(CC) $(PROVIDER_CFLAGS) -I$(PY_INCLUDE) -Ipython/wsevent/include $$^ -o $$@ -lpthread

$(B)/swig/lua/$(1).so: $(B)/swig/$(1)_wrap_lua.c $(2)/$(1).c
	$(CC) $(PROVIDER_CFLAGS) $(LUA_CFLAGS) -Ilua $$^ -o $$@ -lpthread
endef
$(eval $(call swig_provider,device,bindings/sample))
$(eval $(call swig_provider,probe,tests/helpers))

providers: $(PROVIDER_PY) $(PROVIDER_LUA)

# ---- everything --------------------------------------------------------------

build-all: lib $(PY_EXT_STAMP) $(HELPER_SO) $(LUA_SO) $(LUA_HELPER_SO) providers

# The functional suites, then the sanitizers, valgrind, the sanitized
# language suites and fuzzing.  One list, two sizes: make test runs it at
# a size that fits CI (a few minutes), make check at full size.
SUITES = test-c test-winsock test-python test-lua test-embed test-install test-pip \
  test-rock
HARDENING = check-tsan check-asan check-valgrind check-python-asan check-lua-asan fuzz
SIZE_test = STRESS_OPS=300000 FUZZ_SECONDS=20
SIZE_check = STRESS_OPS=10000000 FUZZ_SECONDS=120

test-all check-all: build-all
	$(MAKE) --no-print-directory $(SUITES) $(HARDENING) $(SIZE_$(@:-all=))

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

$(B)/echo_client: bench/echo_client.c bench/bench.h
	$(CC) $(CFLAGS) $(WARN) $< -o $@

bench-all: $(B)/bench_core $(B)/bench_echo $(B)/bench_named $(B)/echo_client \
           $(PY_EXT_STAMP) $(LUA_SO) $(B)/lua-bench/benchhelper.so
	$(B)/bench_core
	@echo
	$(B)/bench_named
	@echo
	$(B)/bench_echo
	@echo
	WSEVENT_ECHO_CLIENT=$(B)/echo_client PYTHONPATH=python $(PYTHON) bench/bench_python.py
	@echo
	WSEVENT_ECHO_CLIENT=$(B)/echo_client LUA_CPATH='$(B)/lua/?.so;$(B)/lua-bench/?.so;;' \
	  $(LUA) bench/bench_lua.lua
	@echo
	WSEVENT_ECHO_CLIENT=$(B)/echo_client LUA=$(LUA) PYTHONPATH=python \
	  LUA_CPATH='$(B)/lua/?.so;$(B)/lua-bench/?.so;;' $(PYTHON) bench/echo_costs.py

# ---- sanitizers and valgrind -----------------------------------------------

# Each C test compiled with the core's sources and the given flags.
define san_build
	@mkdir -p $(B)/$(1)
	for t in $(C_TEST_SRC); do \
	  n=$$(basename $$t .c); \
	  $(CC) $(CPPFLAGS_CORE) -Icore/src/event -O1 -g $(2) $(WARN) \
	    $$t $(CORE_SRC) -o $(B)/$(1)/$$n -lpthread || exit 1; \
	done
endef

check-tsan:
	$(call san_build,tsan,-fsanitize=thread)
	WSEVENT_TEST_TIMEOUT=300 WSEVENT_STRESS_OPS=$(STRESS_OPS) \
	  TSAN_OPTIONS="halt_on_error=1 allocator_may_return_null=1 suppressions=$(CURDIR)/tests/tsan.supp" prove $(B)/tsan/test_*

check-asan:
	$(call san_build,asan,$(SAN_FLAGS))
	WSEVENT_TEST_TIMEOUT=300 WSEVENT_STRESS_OPS=$(STRESS_OPS) \
	  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 prove $(B)/asan/test_*

check-valgrind: $(C_TESTS) $(WINSOCK_TESTS)
	for t in $(C_TESTS) $(WINSOCK_TESTS); do \
	  WSEVENT_TEST_TIMEOUT=600 WSEVENT_STRESS_OPS=20000 WSEVENT_NAMED_NO_WAITV=1 valgrind -q \
	    --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	    --show-possibly-lost=no \
	    --trace-children=yes $$t >/dev/null || { echo "valgrind: $$t"; exit 1; }; \
	done

# ---- fuzzing (clang's libFuzzer) and sanitized language suites ---------------

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

# The extension and its own libwsevent.so.1, both sanitized.
$(B)/python-asan.stamp: $(PY_SRC)
	CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" $(PYTHON) setup.py -q \
	  build_py -d $(B)/python-asan build_ext -b $(B)/python-asan -t $(B)/python-asan-temp
	@touch $@

check-python-asan: $(B)/python-asan.stamp $(HELPER_SO) $(PROVIDER_PY)
	LD_PRELOAD=$(ASAN_RUNTIME) ASAN_OPTIONS=detect_leaks=0 \
	  PYTHONPATH=$(B)/python-asan:$(B)/swig/py $(PYTHON) -m pytest -q -p no:cacheprovider tests/python

$(B)/lua-asan/libwsevent.so.1: $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_CORE) -O1 -g $(SAN_FLAGS) -shared -fPIC -fvisibility=hidden \
	  $(EXPORT) -Wl,-soname,libwsevent.so.1 -Wl,-z,nodelete $(CORE_SRC) -o $@ -lpthread

$(B)/lua-asan/wsevent.so: $(LUA_SRC) $(LUA_HDR) $(CORE_HDR) $(B)/lua-asan/libwsevent.so.1
	$(CC) $(CPPFLAGS_CORE) $(LUA_CFLAGS) -O1 -g $(SAN_FLAGS) -shared -fPIC \
	  -fvisibility=hidden $(LUA_SRC) -o $@ -L$(@D) -l:libwsevent.so.1 \
	  '-Wl,-rpath,$$ORIGIN' -Wl,-z,nodelete -lpthread

check-lua-asan: $(B)/lua-asan/wsevent.so $(LUA_HELPER_SO) $(PROVIDER_LUA)
	LD_PRELOAD=$(ASAN_RUNTIME) ASAN_OPTIONS=detect_leaks=0 \
	  LUA_CPATH='$(B)/lua-asan/?.so;$(B)/lua-test/?.so;$(B)/swig/lua/?.so;;' \
	  LUA_PATH='tests/lua/?.lua;;' $(LUA) $(BUSTED) --lua=$(LUA) --pattern=^test_ -o utfTerminal tests/lua

# ---- install -------------------------------------------------------------

install: lib $(LUA_SO)
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/wsevent \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(LIB_SO) $(WINSOCK_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libwsevent.so.1 $(DESTDIR)$(PREFIX)/lib/libwsevent.so
	ln -sf libwsevent-winsock.so.1 $(DESTDIR)$(PREFIX)/lib/libwsevent-winsock.so
	install -m 644 core/include/wsevent.h core/include/wsevent_provider.h \
	  lua/wsevent_lua.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 core/include/wsevent/winsock2.h core/include/wsevent/ws2tcpip.h \
	  core/include/wsevent/windows.h \
	  $(DESTDIR)$(PREFIX)/include/wsevent/
	for pc in wsevent wsevent-winsock; do \
	  sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' core/$$pc.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/$$pc.pc || exit 1; done
	test -n "$(LUA_CMOD_DIR)" || { echo "no Lua module directory (pkg-config lua5.4)"; exit 1; }
	install -d $(DESTDIR)$(LUA_CMOD_DIR)
	$(CC) $(CPPFLAGS_CORE) $(LUA_CFLAGS) $(CFLAGS) -shared -fPIC -fvisibility=hidden \
	  $(LUA_SRC) -o $(DESTDIR)$(LUA_CMOD_DIR)/wsevent.so -L$(B) -l:libwsevent.so.1 \
	  -Wl,-rpath,$(PREFIX)/lib -Wl,-z,nodelete -lpthread

# make install into a staging tree, then build a client and a Winsock
# program against it with pkg-config alone, as a user would.
STAGE = $(CURDIR)/$(B)/stage
test-install:
	rm -rf $(STAGE)
	$(MAKE) --no-print-directory install DESTDIR=$(STAGE) PREFIX=/usr/local >/dev/null
	test "$$(PKG_CONFIG_SYSROOT_DIR=$(STAGE) PKG_CONFIG_LIBDIR=$(STAGE)/usr/local/lib/pkgconfig \
	  pkg-config --modversion wsevent)" = "$(VERSION)"
	PKG_CONFIG_SYSROOT_DIR=$(STAGE) PKG_CONFIG_LIBDIR=$(STAGE)/usr/local/lib/pkgconfig; \
	  export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR; \
	  $(CC) demo/demo.c -o $(B)/stage/demo $$(pkg-config --cflags --libs wsevent) -lpthread && \
	  $(CC) -std=c11 -D_GNU_SOURCE tests/install/ws_hello.c -o $(B)/stage/ws \
	    $$(pkg-config --cflags --libs wsevent-winsock) && \
	  LD_LIBRARY_PATH=$(STAGE)/usr/local/lib $(B)/stage/ws
	test -f $(STAGE)$(LUA_CMOD_DIR)/wsevent.so

clean:
	rm -rf $(B) python/wsevent/*.so python/wsevent/*.so.* python/*.egg-info *.egg-info
