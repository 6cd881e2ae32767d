# azrp — developer Makefile.
#
# `make demo` and `make test` are the two entry points of the README: each
# installs the Debian packages it needs when they are missing (as root), or
# names them and stops otherwise.  Variable names follow LuaRocks' own
# (LUA_INCDIR, CFLAGS, LIBFLAG, CURL_INCDIR, OPENSSL_INCDIR) so that a distro
# packager, `luarocks make` and a developer build agree.

LUA           ?= lua5.4
LUA_VERSION   ?= 5.4
LUA_INCDIR    ?= /usr/include/lua$(LUA_VERSION)
LUAJIT        ?= luajit
LUAJIT_INCDIR ?= /usr/include/luajit-2.1
# Debian puts curl's headers in the multiarch include directory.
CURL_INCDIR   ?= $(shell pkg-config --variable=includedir libcurl 2>/dev/null || echo /usr/include)
OPENSSL_INCDIR ?= /usr/include
CC            ?= cc
CFLAGS        ?= -O2 -g
WARN          = -Wall -Wextra -Wshadow -Wundef -Wwrite-strings \
                -Wmissing-prototypes -Wstrict-prototypes \
                -Wdeclaration-after-statement -Wno-unused-parameter
LIBFLAG       ?= -shared
BUILD         ?= build

# Debian packages the project needs, by what needs them.
# luajit2/libluajit2-5.1-dev: OpenResty's branch of LuaJIT (it provides
# /usr/bin/luajit and /usr/include/luajit-2.1); Debian's nginx Lua module
# needs it (lua-resty-core) and conflicts with the plain luajit packages.
PKGS_CORE     = lua5.4 liblua5.4-dev luajit2 libluajit2-5.1-dev \
                liblua5.1-0-dev liblua5.2-dev liblua5.3-dev \
                libcurl4-openssl-dev libssl-dev lua-cjson lua-filesystem luarocks gcc make pkg-config
PKGS_EMULATOR = lua-http lua-cqueues lua-luaossl lua-cjson
# lua5.1-5.3 run the client-5.x busted runs (Debian's lua-busted, lua-cjson
# and lua-socket are packaged for every Lua).  librsvg2-bin's rsvg-convert
# checks that a report's timeline.svg renders.
PKGS_TEST     = lua-busted lua-luv lua5.1 lua5.2 lua5.3 wrk valgrind time python3-azure azure-cli librsvg2-bin
# lua-ldoc: `make docs` (the API reference, config.ld).
PKGS_TEST    += lua-ldoc
# clang: the libFuzzer harnesses (spec/fuzz).
PKGS_TEST    += clang
# The hosts suite (spec/hosts): real nginx with its Lua module, real
# headless Neovim (0.7, LuaJIT, vim.loop).
PKGS_TEST    += nginx libnginx-mod-http-lua neovim
PKGS_DEMO     = $(PKGS_CORE) $(PKGS_EMULATOR)

SRCS = $(wildcard src/*.c)
HDRS = $(wildcard src/*.h)

.PHONY: all build build-compat asan deps deps-test demo test test-emulator test-conformance test-hosts fuzz-long \
        emulator bench rock rock-jit clean docs check-sanitize check-soak

all: build

# Lua 5.4 and LuaJIT, and the older Luas the rockspec allows (src/compat.h
# maps the 5.4 API onto 5.1, 5.2 and 5.3).
build: $(BUILD)/5.4/azrp/core.so $(BUILD)/jit/azrp/core.so build-compat

build-compat: $(BUILD)/5.1/azrp/core.so $(BUILD)/5.2/azrp/core.so $(BUILD)/5.3/azrp/core.so

$(BUILD)/5.4/azrp/core.so: $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -fPIC -fvisibility=hidden -I$(LUA_INCDIR) \
	  -I$(CURL_INCDIR) -I$(OPENSSL_INCDIR) $(LIBFLAG) -o $@.tmp $(SRCS) -lcurl -lcrypto
	mv $@.tmp $@

# build/5.1, build/5.2, build/5.3: Debian's headers are in /usr/include/luaX.Y.
$(BUILD)/5.1/azrp/core.so $(BUILD)/5.2/azrp/core.so $(BUILD)/5.3/azrp/core.so: $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -fPIC -fvisibility=hidden \
	  -I/usr/include/lua$(patsubst $(BUILD)/%/azrp/core.so,%,$@) \
	  -I$(CURL_INCDIR) -I$(OPENSSL_INCDIR) $(LIBFLAG) -o $@.tmp $(SRCS) -lcurl -lcrypto
	mv $@.tmp $@

$(BUILD)/jit/azrp/core.so: $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -fPIC -fvisibility=hidden -I$(LUAJIT_INCDIR) \
	  -I$(CURL_INCDIR) -I$(OPENSSL_INCDIR) $(LIBFLAG) -o $@.tmp $(SRCS) -lcurl -lcrypto
	mv $@.tmp $@

# azrp.core with AddressSanitizer and UndefinedBehaviorSanitizer, for
# spec/sanitize.sh (the interpreter preloads libasan).
$(BUILD)/asan/azrp/core.so: $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
	  $(WARN) -fPIC -I$(LUA_INCDIR) -I$(CURL_INCDIR) -I$(OPENSSL_INCDIR) $(LIBFLAG) -o $@.tmp $(SRCS) -lcurl -lcrypto
	mv $@.tmp $@

asan: $(BUILD)/asan/azrp/core.so

# Installs what is missing: apt-get as root, otherwise a message naming it.
deps:
	@sh .ci/ensure-packages $(PKGS_DEMO)

deps-test:
	@sh .ci/ensure-packages $(PKGS_DEMO) $(PKGS_TEST)

# The main job: a DR drill of vm-app-01 on the emulator (workflows/).
demo: deps build
	sh workflows/demo.sh

emulator: deps
	$(LUA) bin/azrp emulator

# The six builds of azrp.core are independent: made side by side.
test: deps-test
	$(MAKE) -j$$(nproc) build asan
	sh spec/run.sh c sanitize fuzz clients emulator conformance hosts

test-client: deps-test build
	sh spec/run.sh clients

test-emulator: deps-test
	sh spec/run.sh emulator

test-conformance: deps-test
	sh spec/run.sh conformance

test-hosts: deps-test build
	sh spec/run.sh hosts

# Each libFuzzer harness (or those TARGETS names: TARGETS="json url") for
# SECONDS (default 3600), one at a time; the result (execs, coverage,
# crashes) goes into RELIABILITY.md.
SECONDS ?= 3600
TARGETS ?=
fuzz-long: deps-test
	sh spec/fuzz/long.sh $(SECONDS) $(TARGETS)

# The crash matrix: every workflow killed with SIGKILL after each journal
# record, then resumed and (separately) cleaned up; writes its section of
# RELIABILITY.md (tools/reliability/crash_matrix.lua).
.PHONY: check-crash
check-crash: deps-test build
	lua5.4 tools/reliability/crash_matrix.lua

bench: deps-test build
	lua5.4 bench/restore_points.lua
	sh bench/emulator_get.sh 10 8
	lua5.4 bench/export.lua
	lua5.4 bench/fleet.lua

# Installs into ~/.luarocks; Debian's packages satisfy the dependencies
# (lua-cjson, lua-http ...), which LuaRocks cannot see, hence deps-mode.
rock: deps
	luarocks --lua-version $(LUA_VERSION) make --local --deps-mode=none \
	  rockspec/azrp-scm-1.rockspec CURL_INCDIR=$(CURL_INCDIR)

# The same rock for the LuaJIT hosts (OpenResty, Neovim: LuaRocks' Lua 5.1,
# whose C API LuaJIT speaks) in a tree of its own.  LuaRocks keeps one bin/
# per tree for every Lua: a 5.1 install into ~/.luarocks would move the 5.4
# `azrp` command aside (to bin/azrp~, LuaRocks 3.8) and take its place.
JIT_TREE      ?= $(HOME)/.luarocks-jit
rock-jit: deps
	luarocks --lua-version 5.1 --tree $(JIT_TREE) make --deps-mode=none \
	  rockspec/azrp-scm-1.rockspec CURL_INCDIR=$(CURL_INCDIR)

# The API reference (LDoc, config.ld) into docs/api/: generated, not committed.
# DOCS_DIR elsewhere: spec/client/docs_spec.lua writes to a temporary one.
DOCS_DIR      ?= docs/api
docs:
	@command -v ldoc >/dev/null || sh .ci/ensure-packages lua-ldoc
	ldoc -d $(DOCS_DIR) .

# The whole client suite under ASan+UBSan, then valgrind (issue 11):
# results per spec file into RELIABILITY.md (sanitize-all section).  A spec
# file gets VG_BUDGET seconds under valgrind (children too), then, when it
# has #crash tests, LIGHT_BUDGET with its children under ASan.
VG_BUDGET     ?= 300
LIGHT_BUDGET  ?= 600
check-sanitize: deps-test build asan
	VG_BUDGET=$(VG_BUDGET) LIGHT_BUDGET=$(LIGHT_BUDGET) sh tools/reliability/sanitize_all.sh asan valgrind

# 100,000 requests through azrp.core on Lua 5.4 and LuaJIT, RSS and heap
# slopes into RELIABILITY.md (soak section); fails on a slope above the
# threshold of tools/reliability/soak.lua or on any error.
SOAK_REQUESTS ?= 100000
check-soak: deps-test build
	@rm -f $(BUILD)/soak-5.4.json $(BUILD)/soak-jit.json; st=0; \
	$(LUA) tools/reliability/soak.lua --requests $(SOAK_REQUESTS) --out $(BUILD)/soak-5.4.json || st=1; \
	$(LUAJIT) tools/reliability/soak.lua --requests $(SOAK_REQUESTS) --out $(BUILD)/soak-jit.json || st=1; \
	$(LUA) tools/reliability/soak_report.lua RELIABILITY.md $(BUILD)/soak-5.4.json $(BUILD)/soak-jit.json; \
	exit $$st

clean:
	rm -rf $(BUILD)

# The whole fault matrix (tools/reliability/fault_matrix.lua: every
# workflow and operation family at 5, 20 and 50 % faults, 3 seeds, and a
# region down; its table goes into RELIABILITY.md), then the crash and
# soak checks when this Makefile has them.
.PHONY: check-reliability
check-reliability: deps-test build
	lua5.4 tools/reliability/fault_matrix.lua --jobs 2 --write RELIABILITY.md
	@for t in check-crash check-soak; do \
	  if $(MAKE) -n $$t >/dev/null 2>&1; then $(MAKE) $$t || exit 1; else echo "$$t: no such target here, skipped"; fi; \
	done
