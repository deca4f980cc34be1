/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the hkctl subcommands: number parsing with unit
 * suffixes and the one way errors are printed.
 */
#ifndef _HK_UTIL_H
#define _HK_UTIL_H

#include <stdint.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/*
 * Parse an unsigned number: decimal, 0x hex or 0 octal, optionally followed
 * by one of the binary suffixes K, M, G (KiB, MiB, GiB) when @units is set.
 * The whole string must be consumed. Returns 0 or -EINVAL / -ERANGE.
 */
int hk_parse_u64(const char *s, int units, uint64_t *out);

/*
 * Parse a duration: a number with an optional suffix ns, us, ms, s (default
 * @default_unit_ns per unit, e.g. 1e9 for seconds), m or h. Fractions are
 * allowed ("0.5s"). Returns 0 or -EINVAL / -ERANGE.
 */
int hk_parse_duration(const char *s, uint64_t default_unit_ns, uint64_t *out_ns);

/* "hkctl <cmd>: <message>\n" on stderr. */
void hk_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* CLOCK_MONOTONIC / CLOCK_REALTIME in ns. */
uint64_t hk_now_ns(void);
uint64_t hk_realtime_ns(void);

#endif /* _HK_UTIL_H */
