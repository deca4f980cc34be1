// SPDX-License-Identifier: GPL-2.0
/*
 * x86 data watchpoints: DR0-DR3, lengths 1/2/4/8 naturally aligned, types
 * write or read/write (no read-only). A data breakpoint is a trap: the
 * reported ip is the instruction after the access, which the records flag
 * (HK_REC_F_IP_AFTER) and the analyzer resolves.
 */
#include <linux/hw_breakpoint.h>
#include <asm/hw_breakpoint.h>

#include "hwbp_arch.h"
#include "uapi/hawkeyes.h"

u32 hk_arch_max_len(void)
{
	return 8;
}

int hk_arch_bp_type(u32 access)
{
	switch (access) {
	case HK_ACCESS_W:
		return HW_BREAKPOINT_W;
	case HK_ACCESS_RW:
		return HW_BREAKPOINT_RW;
	}
	return 0;
}

u8 hk_arch_kind(u32 access)
{
	return access == HK_ACCESS_W ? HK_KIND_W : HK_KIND_RW;
}

int hk_arch_init(void)
{
	return 0;
}

void hk_arch_exit(void)
{
}

/* The handler gets @thr back as the event's context. */
struct perf_event *hk_arch_register(struct perf_event_attr *attr,
				    perf_overflow_handler_t handler,
				    struct hk_thread *thr,
				    struct task_struct *task)
{
	return register_user_hw_breakpoint(attr, handler, thr, task);
}

/* The watched unit and the ip after the access (a trap), flagged. */
void hk_arch_record(struct hk_record *rec, struct perf_event *bp,
		    struct pt_regs *regs)
{
	rec->ip = instruction_pointer(regs);
	rec->addr = bp->attr.bp_addr;
	rec->flags = HK_REC_F_IP_AFTER;
}

u32 hk_arch_slots(void)
{
	return min_t(u32, HBP_NUM, HK_MAX_SLOTS);
}
