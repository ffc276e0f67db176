# netd — the usual entry points. meson + ninja do the building.
BUILD ?= build
ASAN  ?= build-asan
FUZZ  ?= build-fuzz
MESON_OPTS ?= -Dwerror=true -Dtests=enabled
FUZZ_SECONDS ?= 30

.PHONY: all deps build demo demo-stop check bench fuzz-smoke clean

all: build

deps:
	@sh tools/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS) >/dev/null

$(ASAN)/build.ninja:
	meson setup $(ASAN) $(MESON_OPTS) -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: deps build
	sh tools/demo.sh $(BUILD)

demo-stop:
	@sh tools/demo-stop.sh

# Unit tests and corpus replays in both builds; integration tests against
# the ASan+UBSan build. Ends with the line "N passed, N failed".
check: deps $(BUILD)/build.ninja $(ASAN)/build.ninja
	ninja -C $(BUILD)
	ninja -C $(ASAN)
	sh tools/check.sh $(BUILD) $(ASAN)

bench: deps build
	sh bench/run.sh $(BUILD)

fuzz-smoke: deps
	test -f $(FUZZ)/build.ninja || CC=clang meson setup $(FUZZ) -Dfuzz=true -Dtests=enabled >/dev/null
	ninja -C $(FUZZ)
	sh tools/fuzz-smoke.sh $(FUZZ) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
