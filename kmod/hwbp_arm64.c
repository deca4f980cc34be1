// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 data watchpoints: perf's default overflow handler, hits observed
 * through an ftrace hook on perf_bp_event().
 *
 * An arm64 watchpoint is taken *before* the access. The kernel disables the
 * thread's watchpoints, single-steps the instruction and re-enables them,
 * but only for events whose overflow handler is perf's default one
 * (watchpoint_report()/watchpoint_handler(): is_default_overflow_handler()
 * on 6.12, uses_default_overflow_handler() on 6.1). With a handler of ours
 * the thread would re-trap on the same instruction forever. So every
 * watchpoint is registered with a NULL handler, and hits are seen by an
 * ftrace_ops filtered on perf_bp_event(bp, regs), which the arm64 debug
 * code calls for each hit right before deciding to step. Measurements and
 * the alternatives rejected: Documentation/hawkeyes/capture.rst, "arm64".
 *
 * Recognising our events: perf forces the context pointer of a
 * default-handler event to NULL, and attr.config is free for
 * PERF_TYPE_BREAKPOINT. hk_arch_register() registers the event with
 * attr.config = hk_arm64_key ^ thread, then stores the thread as the
 * event's context (nothing of perf reads it for a default-handler event).
 * The hook accepts an event only if both agree: events of
 * user space (perf_event_open, always a NULL context), ptrace (config 0)
 * and other kernel users are ignored without being dereferenced further.
 *
 * Context of the hook: the debug exception of the hitting thread
 * (current), IRQs and debug exceptions masked, preemption off, under RCU;
 * ftrace adds its recursion guard. It calls hk_hwbp_hit(), which does not
 * sleep. Version differences: 6.1 has DYNAMIC_FTRACE_WITH_REGS (pt_regs
 * only with FTRACE_OPS_FL_SAVE_REGS), 6.12 DYNAMIC_FTRACE_WITH_ARGS
 * (ftrace_regs_get_argument()).
 *
 * Records: @ip is the access instruction itself (no HK_REC_F_IP_AFTER);
 * @addr is FAR_EL1 as the kernel saved it (counter_arch_bp(bp)->trigger),
 * a watched byte the access touched, or the unit's start with
 * HK_REC_F_ADDR_INEXACT when FAR lies outside the unit (the kernel charges
 * inexact FARs of stp/vector/unaligned accesses to the closest
 * watchpoint); @value is the unit's content *before* the access.
 * Accesses the kernel makes on the thread's behalf (uaccess) are stepped
 * over silently by the arm64 debug code and never reach perf_bp_event().
 */
#include <linux/bitops.h>
#include <linux/ftrace.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <linux/random.h>
#include <asm/hw_breakpoint.h>
#include <asm/ptrace.h>

#include "hwbp.h"
#include "hwbp_arch.h"
#include "uapi/hawkeyes.h"

/* Set once at module init, before any watchpoint exists. */
static u64 hk_arm64_key __ro_after_init;

/*
 * The hook is registered at the first ATTACH, not at module load:
 * registering and unregistering an ftrace_ops waits for RCU-tasks grace
 * periods and patches code under stop_machine, seconds under TCG, which
 * loads and unloads that never capture should not pay. Protects the
 * transitions of hk_arm64_hook_state; the state is read locklessly once it
 * is HK_HOOK_ON (set with release, read with acquire).
 */
static DEFINE_MUTEX(hk_arm64_hook_lock);
enum { HK_HOOK_OFF, HK_HOOK_ON, HK_HOOK_FAILED };
static int hk_arm64_hook_state;

#ifdef CONFIG_DYNAMIC_FTRACE_WITH_ARGS
#define HK_FTRACE_FLAGS	0

static __always_inline unsigned long hk_ftrace_arg(struct ftrace_regs *fregs,
						   unsigned int n)
{
	return ftrace_regs_get_argument(fregs, n);
}
#else
#define HK_FTRACE_FLAGS	FTRACE_OPS_FL_SAVE_REGS

static __always_inline unsigned long hk_ftrace_arg(struct ftrace_regs *fregs,
						   unsigned int n)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);

	return regs ? regs->regs[n] : 0;
}
#endif

static u64 hk_arm64_tag(struct hk_thread *thr)
{
	return hk_arm64_key ^ (u64)(uintptr_t)thr;
}

/* ftrace callback on entry of perf_bp_event(struct perf_event *, void *regs) */
static void notrace hk_arm64_bp_event(unsigned long ip, unsigned long parent_ip,
				      struct ftrace_ops *op,
				      struct ftrace_regs *fregs)
{
	struct perf_event *bp = (struct perf_event *)hk_ftrace_arg(fregs, 0);
	struct pt_regs *regs = (struct pt_regs *)hk_ftrace_arg(fregs, 1);
	struct hk_thread *thr;

	if (!bp || !regs)
		return;
	thr = READ_ONCE(bp->overflow_handler_context);
	if (!thr || bp->attr.config != hk_arm64_tag(thr))
		return;
	/* What perf_bp_event() itself checks before counting the hit. */
	if (bp->hw.state || !user_mode(regs))
		return;
	hk_hwbp_hit(thr, bp, regs);
}

static struct ftrace_ops hk_arm64_ops = {
	.func = hk_arm64_bp_event,
	.flags = HK_FTRACE_FLAGS,
};

/*
 * hk_arm64_hook - make sure the hit hook is registered
 * Context: process, may sleep (the first call registers it). Takes
 * hk_arm64_hook_lock, a leaf lock (callers may hold a session's lock).
 * Return: true if hits can be observed. A kernel without a usable hook
 * keeps the module loaded and ATTACH refused.
 */
static bool hk_arm64_hook(void)
{
	unsigned char func[] = "perf_bp_event";
	int ret;

	/* pairs with the release below: ON means the ops is registered */
	if (smp_load_acquire(&hk_arm64_hook_state) == HK_HOOK_ON)
		return true;
	mutex_lock(&hk_arm64_hook_lock);
	if (hk_arm64_hook_state != HK_HOOK_OFF)
		goto out;
	ret = ftrace_set_filter(&hk_arm64_ops, func, strlen(func), 1);
	if (ret)
		goto err_filter;
	ret = register_ftrace_function(&hk_arm64_ops);
	if (ret)
		goto err_register;
	/* publish ON only after register_ftrace_function() returned */
	smp_store_release(&hk_arm64_hook_state, HK_HOOK_ON);
	goto out;

err_register:
	ftrace_free_filter(&hk_arm64_ops);
err_filter:
	pr_warn("cannot hook perf_bp_event (%d): watchpoint capture refused\n", ret);
	hk_arm64_hook_state = HK_HOOK_FAILED;
out:
	mutex_unlock(&hk_arm64_hook_lock);
	return hk_arm64_hook_state == HK_HOOK_ON;
}

/* Context: module init. */
int hk_arch_init(void)
{
	hk_arm64_key = get_random_u64();
	return 0;
}

/*
 * Context: module exit, after every watchpoint is unregistered.
 * unregister_ftrace_function() returns once no CPU runs the callback.
 */
void hk_arch_exit(void)
{
	if (hk_arm64_hook_state != HK_HOOK_ON)
		return;
	unregister_ftrace_function(&hk_arm64_ops);
	ftrace_free_filter(&hk_arm64_ops);
}

u32 hk_arch_max_len(void)
{
	/*
	 * A watchpoint is an 8-byte aligned base plus a byte-address-select
	 * mask: any 1..8 bytes with (addr & 7) + len <= 8. The session's
	 * units are naturally aligned powers of two up to 8, which always
	 * fit.
	 */
	return 8;
}

/* Context: process, may sleep: registers the hook on first use. */
int hk_arch_bp_type(u32 access)
{
	if (!hk_arm64_hook())
		return 0;
	switch (access) {
	case HK_ACCESS_W:
		return HW_BREAKPOINT_W;
	case HK_ACCESS_RW:
		return HW_BREAKPOINT_RW;
	}
	return 0;
}

/* ESR's WnR says which, but perf_bp_event() does not get the ESR. */
u8 hk_arch_kind(u32 access)
{
	return access == HK_ACCESS_W ? HK_KIND_W : HK_KIND_RW;
}

u32 hk_arch_slots(void)
{
	return min_t(u32, get_num_wrps(), HK_MAX_SLOTS);
}

/**
 * hk_arch_register - a default-handler watchpoint tagged as @thr's
 * @handler: unused, a handler of ours would make the thread re-trap
 * Context: process, may sleep; the session's lock held.
 *
 * A hit between the registration and the store of the context pointer
 * (only while ATTACH is still arming a running thread) is not ours to the
 * hook: the kernel steps over it and no record is made. Registering
 * disabled and enabling afterwards would close that window at the price
 * of a second cross-CPU call per watchpoint: with it, an ATTACH to 43
 * busy threads timed out (60 s) under TCG; without it 1.5 s.
 */
struct perf_event *hk_arch_register(struct perf_event_attr *attr,
				    perf_overflow_handler_t handler,
				    struct hk_thread *thr,
				    struct task_struct *task)
{
	struct perf_event *bp;

	attr->config = hk_arm64_tag(thr);
	bp = register_user_hw_breakpoint(attr, NULL, NULL, task);
	if (!IS_ERR(bp))
		WRITE_ONCE(bp->overflow_handler_context, thr);
	return bp;
}

void hk_arch_record(struct hk_record *rec, struct perf_event *bp,
		    struct pt_regs *regs)
{
	u64 far = sign_extend64(counter_arch_bp(bp)->trigger, 55);
	u64 base = bp->attr.bp_addr;

	rec->ip = instruction_pointer(regs);
	if (far - base < bp->attr.bp_len) {
		rec->addr = far;
	} else {
		rec->addr = base;
		rec->flags = HK_REC_F_ADDR_INEXACT;
	}
}
