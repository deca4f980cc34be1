// SPDX-License-Identifier: GPL-2.0
/*
 * Watchpoints: one perf hw_breakpoint event per armed unit and thread, and
 * the handler that turns a hit into a record.
 *
 * Notes on locking and context:
 * - hk_hwbp_register(), hk_hwbp_move() and hk_hwbp_unregister() sleep
 *   (perf takes its context mutex and may IPI the target's CPU). Callers
 *   hold the session's mutex, which is what serialises every change to a
 *   thread's watchpoints (lockdep-asserted here). Lock order:
 *   session->lock, then perf's internal locks; perf never calls back into
 *   us with its locks held except through the handler below, which takes
 *   none of ours but the ring's raw spinlock.
 * - hk_hwbp_hit() runs in the debug exception of the hitting thread:
 *   IRQs off, current == the target thread, must not sleep or allocate.
 *   It only reads immutable session fields, bumps atomics, reads the value
 *   with copy_from_user_nofault(), pushes into the ring and, over budget,
 *   queues a task_work (hk_thread_throttle()).
 * - The hk_thread a hit is charged to (the event's context pointer, see
 *   hk_arch_register()) stays valid while the event is registered: a
 *   thread is freed only after its events are unregistered, and
 *   unregister_hw_breakpoint() returns only once the event is out of the
 *   hardware (removing it needs an IPI to the hitting CPU, which waits
 *   until the hit is handled).
 */
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <linux/uaccess.h>
#include <linux/lockdep.h>
#include <linux/timekeeping.h>

#include "hwbp.h"
#include "hwbp_arch.h"
#include "objects.h"
#include "session.h"
#include "watch.h"

/**
 * hk_hwbp_hit - turn a hit of @bp on @thr into a record
 * @regs: the user registers at the hit
 * Context: the watchpoint hit of current == thr->task, IRQs off: x86 from
 * perf's overflow handler, arm64 from its hook on perf_bp_event().
 */
void hk_hwbp_hit(struct hk_thread *thr, struct perf_event *bp,
		 struct pt_regs *regs)
{
	struct hk_session *s = thr->s;
	struct hk_record rec = {};
	u64 value = 0;

	if (READ_ONCE(s->state) != HK_S_LIVE || atomic_read(&s->end_req))
		return;
	/* A watched process that exec'd: its old watchpoints mean nothing. */
	if (thr->proc && READ_ONCE(thr->proc->dead))
		return;
	atomic64_inc(&s->hits);
	if (atomic_inc_return(&s->tick_hits) > s->budget_per_tick) {
		atomic64_inc(&s->throttled);
		hk_thread_throttle(thr);
		return;
	}

	rec.time_ns = ktime_get_mono_fast_ns();
	hk_arch_record(&rec, bp, regs);
	rec.size = bp->attr.bp_len;
	rec.kind = hk_arch_kind(s->opts.access);
	rec.pid = s->tgid_ns;
	rec.tid = thr->tid_ns;
	if (thr->proc)		/* a watch: the process, segment and offset */
		hk_watch_record(thr, bp->attr.bp_addr, &rec);
	rec.cpu = raw_smp_processor_id();
	if (rec.size <= sizeof(value) &&
	    !copy_from_user_nofault(&value, (const void __user *)bp->attr.bp_addr,
				    rec.size)) {
		rec.value = value;
		rec.flags |= HK_REC_F_VALUE_VALID;
	}
	hk_ring_push(&s->ring, &rec);
}

static void hk_hwbp_handler(struct perf_event *bp, struct perf_sample_data *data,
			    struct pt_regs *regs)
{
	hk_hwbp_hit(bp->overflow_handler_context, bp, regs);
}

static void hk_hwbp_attr(struct perf_event_attr *attr, struct hk_session *s,
			 const struct hk_unit *u)
{
	hw_breakpoint_init(attr);
	attr->bp_addr = u->addr;
	attr->bp_len = u->len;
	attr->bp_type = hk_arch_bp_type(s->opts.access);
	/* Only the target's own user-mode accesses, not the kernel's uaccess. */
	attr->exclude_kernel = 1;
	attr->exclude_hv = 1;
}

/**
 * hk_hwbp_register - arm one watchpoint on @thr's task
 * Context: process, may sleep; s->lock held.
 * Return: the event or an ERR_PTR (-ENOSPC: no free debug register).
 */
struct perf_event *hk_hwbp_register(struct hk_session *s, struct hk_thread *thr,
				    const struct hk_unit *u)
{
	struct perf_event_attr attr;
	struct perf_event *bp;

	lockdep_assert_held(&s->lock);
	hk_hwbp_attr(&attr, s, u);
	bp = hk_arch_register(&attr, hk_hwbp_handler, thr, thr->task);
	if (!IS_ERR(bp))
		hk_obj_add(HK_OBJ_WATCHPOINTS, 1);
	return bp;
}

/**
 * hk_hwbp_move - point an armed watchpoint at another unit (rotation)
 * @disabled: keep it disabled (the thread is over its budget)
 * Context: process, may sleep; the owning session's lock held.
 */
int hk_hwbp_move(struct perf_event *bp, const struct hk_unit *u, bool disabled)
{
	struct perf_event_attr attr = bp->attr;

	attr.bp_addr = u->addr;
	attr.bp_len = u->len;
	attr.disabled = disabled;
	return modify_user_hw_breakpoint(bp, &attr);
}

void hk_hwbp_unregister(struct perf_event *bp)
{
	unregister_hw_breakpoint(bp);
	hk_obj_add(HK_OBJ_WATCHPOINTS, -1);
}

/* Budget: stop/restart a watchpoint. Context: process; session lock held. */
void hk_hwbp_disable(struct perf_event *bp)
{
	perf_event_disable(bp);
}

void hk_hwbp_enable(struct perf_event *bp)
{
	perf_event_enable(bp);
}
