# Convenience wrapper around CMake and the scripts; the scripts are the source
# of truth (README: ./scripts/run.sh and ./scripts/test.sh).

BUILD_DIR ?= build
ASAN_DIR  ?= build-asan
PREFIX    ?= /usr/local
DESTDIR   ?=
UNITDIR   ?= /lib/systemd/system
CONFDIR   ?= /etc/weir
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
PYTHON    ?= /usr/bin/python3

.PHONY: all build run test unit e2e asan asan-e2e format format-check install uninstall clean deps \
	fuzz fuzz-long bench-smoke

all: build

deps:
	bash scripts/deps.sh

build:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j$(JOBS)

run:
	bash scripts/run.sh

# Everything CI runs.
test:
	bash scripts/test.sh

unit: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

e2e: build
	WEIR_BIN=$(abspath $(BUILD_DIR))/weir $(PYTHON) -m pytest tests/e2e -p no:cacheprovider -q -rfE

asan:
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEIR_SANITIZE=ON \
		-DCMAKE_C_COMPILER=$$(command -v clang || command -v gcc)
	cmake --build $(ASAN_DIR) -j$(JOBS)
	ctest --test-dir $(ASAN_DIR) --output-on-failure -j$(JOBS)

asan-e2e: asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	WEIR_BIN=$(abspath $(ASAN_DIR))/weir $(PYTHON) -m pytest tests/e2e -p no:cacheprovider -q -rfE

format:
	bash scripts/format-check.sh --fix

format-check:
	bash scripts/format-check.sh

# Installs the binary and the systemd unit. The config directory is created
# empty: on first start weir writes its default config to
# $(CONFDIR)/weir.json (an existing file is never overwritten).
install: build
	install -D -m 0755 $(BUILD_DIR)/weir $(DESTDIR)$(PREFIX)/bin/weir
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR)
	sed -e 's|/usr/local/bin/weir|$(PREFIX)/bin/weir|' -e 's|/etc/weir|$(CONFDIR)|g' weir.service \
		> $(DESTDIR)$(UNITDIR)/weir.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/weir.service
	install -d -m 0755 $(DESTDIR)$(PREFIX)/share/weir/www/dist
	install -m 0644 www/player.js www/weir.css $(DESTDIR)$(PREFIX)/share/weir/www/
	if [ -d www/dist ]; then install -m 0644 www/dist/* $(DESTDIR)$(PREFIX)/share/weir/www/dist/; fi
	@echo "installed; start with: systemctl daemon-reload && systemctl enable --now weir"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/weir $(DESTDIR)$(UNITDIR)/weir.service
	rm -rf $(DESTDIR)$(PREFIX)/share/weir
	@echo "left $(CONFDIR) in place"

# libFuzzer targets (clang): 30 s each on the kept corpora (as CI), or an
# hour each (FUZZ_SECONDS=...) for a long local run.
fuzz:
	bash fuzz/build.sh && bash fuzz/run.sh 30

fuzz-long:
	bash fuzz/build.sh && bash fuzz/run.sh $${FUZZ_SECONDS:-3600}

bench-smoke: build
	bash bench/smoke.sh $(BUILD_DIR)/weir $(BUILD_DIR)/bench/weir-bench

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
