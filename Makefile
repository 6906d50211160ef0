# Front end for the README's commands. Everything goes through CMake presets.
PRESET ?= release
BUILD_DIR := build/$(PRESET)
JOBS ?= 2
# ccache: share the cache between checkouts in different folders (CI clones anew).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all deps deps-test build demo test test-unit asan bench format format-check clean

all: build

deps:
	scripts/install-deps

deps-test:
	scripts/install-deps --test

build:
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET) -j $(JOBS)

## The demo: install, build only the pinpipe binary (no tests or benchmarks),
## run the pipeline on embedded defaults.
demo: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target pinpipe
	scripts/demo $(DEMO_ARGS)

## Every test: install (test servers and peers too), build, run CTest.
test: deps-test
	$(MAKE) build PRESET=$(PRESET)
	ctest --preset $(PRESET)

test-unit: build
	ctest --preset $(PRESET) -L unit

## The unit and integration tests under ASan + UBSan. The peers label (JVMs and Python
## driving the binary, minutes each) runs in the release build: under the sanitizers it
## only slows the peers down past their timeouts.
asan: deps-test
	$(MAKE) build PRESET=asan
	ctest --preset asan -LE peers

bench: build
	scripts/bench

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i

format-check:
	git ls-files '*.h' '*.cc' | xargs clang-format --dry-run -Werror

clean:
	rm -rf build
