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

.PHONY: all build run test unit e2e asan asan-e2e format format-check install uninstall clean deps

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
	@echo "installed; start with: systemctl daemon-reload && systemctl enable --now weir"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/weir $(DESTDIR)$(UNITDIR)/weir.service
	@echo "left $(CONFDIR) in place"

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
