/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a watchpoint hit costs on this machine, and the hit budget that
 * keeps --mode auto's watchpoints to a share of a CPU whatever it costs.
 */
#ifndef _HK_CALIBRATE_H
#define _HK_CALIBRATE_H

#include <stdint.h>

#include "../kmod/uapi/hawkeyes.h"

/* --mode auto: hits may take this share of one CPU's time (percent) */
#define HK_CAL_SHARE_PCT	10
#define HK_CAL_MIN_BUDGET	100	/* hits/s: below, a capture sees too little */

/*
 * hk_calibrate_hit - measure the cost of one watchpoint hit
 * @cmd: the subcommand, for messages
 * @hit_ns: out: CPU time one hit costs, ns (the target's trap and the
 *          module's handler, plus hkctl's time to receive the record)
 *
 * Runs a child of hkctl under a session of its own for 192
 * hits. Returns 0, or -errno after one line on stderr that says why.
 */
int hk_calibrate_hit(const char *cmd, uint64_t *hit_ns);

/*
 * The hits per second that cost HK_CAL_SHARE_PCT of a CPU at @hit_ns
 * each, within [HK_CAL_MIN_BUDGET, HK_DEFAULT_BUDGET].
 */
uint32_t hk_calibrated_budget(uint64_t hit_ns);

#endif /* _HK_CALIBRATE_H */
