#!/bin/sh
# Run the whole suite and print one closing line "N passed, N failed".
#   unit + fuzz-corpus + schema + vm (qemu) tests in the plain build,
#   unit + integration tests in the ASan+UBSan build.
set -u
BUILD=$1
ASAN=$2
rc=0
meson test -C "$BUILD" --no-rebuild --print-errorlogs --no-suite integration || rc=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C "$ASAN" --no-rebuild --print-errorlogs --no-suite fuzz --no-suite schema --no-suite vm || rc=1
python3 tools/summary.py "$BUILD/meson-logs/testlog.json" "$ASAN/meson-logs/testlog.json" || rc=1
exit $rc
