/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the generic watchpoint code needs to know about the architecture.
 * One implementation per architecture: hwbp_x86.c, hwbp_arm64.c.
 */
#ifndef _HK_HWBP_ARCH_H
#define _HK_HWBP_ARCH_H

#include <linux/perf_event.h>
#include <linux/types.h>

struct hk_record;
struct hk_thread;
struct pt_regs;
struct task_struct;

/* Largest watchpoint length; lengths are powers of two, naturally aligned. */
u32 hk_arch_max_len(void);
/* HW_BREAKPOINT_* type for an enum hk_access, or 0 if not supported. */
int hk_arch_bp_type(u32 access);
/* enum hk_kind of a hit on a watchpoint armed with @access. */
u8 hk_arch_kind(u32 access);
/* Debug registers usable for data watchpoints per thread. */
u32 hk_arch_slots(void);

/*
 * Set up and tear down whatever observes hits besides perf's overflow
 * handler (arm64: an ftrace hook). Module init/exit, process context;
 * exit runs after every watchpoint is unregistered.
 */
int hk_arch_init(void);
void hk_arch_exit(void);

/*
 * Register a user watchpoint on @task for @thr such that each hit ends up
 * in hk_hwbp_hit(): x86 passes @handler to perf; arm64 must keep perf's
 * default handler (only then does the kernel step over the access) and
 * observes hits another way. Context: process, may sleep.
 */
struct perf_event *hk_arch_register(struct perf_event_attr *attr,
				    perf_overflow_handler_t handler,
				    struct hk_thread *thr,
				    struct task_struct *task);

/*
 * Fill @rec's ip, addr and flags for a hit of @bp in user @regs.
 * Context: the watchpoint hit (exception context, IRQs off).
 */
void hk_arch_record(struct hk_record *rec, struct perf_event *bp,
		    struct pt_regs *regs);

#endif /* _HK_HWBP_ARCH_H */
