/* bench/bench.h — helpers shared by the benchmark programs.
 *
 * Every program prints exactly one machine-readable line
 *     RESULT key=value key=value ...
 * on stdout (bench/run.sh parses it) and diagnostics on stderr.  Programs
 * never judge their numbers: run.sh compares them with the targets.
 */
#ifndef NETD_BENCH_H
#define NETD_BENCH_H

#include <stdint.h>
#include <time.h>

/* Monotonic time in seconds. */
static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
