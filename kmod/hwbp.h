/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HK_HWBP_H
#define _HK_HWBP_H

#include <linux/types.h>

struct hk_session;
struct hk_thread;
struct hk_unit;
struct perf_event;
struct pt_regs;

struct perf_event *hk_hwbp_register(struct hk_session *s, struct hk_thread *thr,
				    const struct hk_unit *u);
int hk_hwbp_move(struct perf_event *bp, const struct hk_unit *u, bool disabled);
void hk_hwbp_unregister(struct perf_event *bp);
void hk_hwbp_disable(struct perf_event *bp);
void hk_hwbp_enable(struct perf_event *bp);
void hk_hwbp_hit(struct hk_thread *thr, struct perf_event *bp,
		 struct pt_regs *regs);

#endif /* _HK_HWBP_H */
