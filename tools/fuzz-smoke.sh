#!/bin/sh
# Run every libFuzzer target for a bounded time on a copy of its corpus.
#   fuzz-smoke.sh BUILD_DIR SECONDS
# New inputs stay in a temporary directory; crashes fail the run and are kept
# in tests/fuzz/artifacts/ for inspection.
set -u
BUILD=$1
SECONDS_EACH=${2:-30}
top=$(cd "$(dirname "$0")/.." && pwd)
fail=0
mkdir -p "$top/tests/fuzz/artifacts"
for bin in "$BUILD"/tests/fuzz/fuzz_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	work=$(mktemp -d)
	echo "fuzz-smoke: $name for ${SECONDS_EACH}s"
	if ! "$bin" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
		-artifact_prefix="$top/tests/fuzz/artifacts/$name-" \
		"$work" "$top/tests/fuzz/corpus/$name" > "$work.log" 2>&1; then
		echo "fuzz-smoke: $name FAILED"; tail -30 "$work.log"; fail=1
	else
		grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$work.log" | tail -2
	fi
	rm -rf "$work" "$work.log"
done
[ $fail = 0 ] && echo "fuzz-smoke: all targets clean"
exit $fail
