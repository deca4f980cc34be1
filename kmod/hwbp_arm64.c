// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 data watchpoints: not armed yet, on purpose.
 *
 * An arm64 watchpoint is taken before the access; the kernel steps over the
 * instruction only for events with perf's default overflow handler. With a
 * custom handler the thread re-traps on the same instruction forever
 * (measured on Debian 6.1 and 6.12, /work/shared/notes/arm64-watchpoints.md).
 * Until capture observes hits through a default-handler event (an ftrace
 * hook on perf_bp_event), the module builds and loads on arm64 but refuses
 * ATTACH: hk_arch_bp_type() reports no usable access type.
 */
#include <linux/hw_breakpoint.h>

#include "hwbp_arch.h"

u32 hk_arch_max_len(void)
{
	return 8;
}

int hk_arch_bp_type(u32 access)
{
	return 0;
}

u8 hk_arch_kind(u32 access)
{
	return 0;
}

int hk_arch_init(void)
{
	return 0;
}

void hk_arch_exit(void)
{
}

/* Never called: ATTACH is refused before any watchpoint is registered. */
struct perf_event *hk_arch_register(struct perf_event_attr *attr,
				    perf_overflow_handler_t handler,
				    struct hk_thread *thr,
				    struct task_struct *task)
{
	return ERR_PTR(-EOPNOTSUPP);
}

void hk_arch_record(struct hk_record *rec, struct perf_event *bp,
		    struct pt_regs *regs)
{
}

u32 hk_arch_slots(void)
{
	return 0;
}
