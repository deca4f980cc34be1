// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions: one attach to a target process, its threads, its watched
 * regions, and its lifetime from ATTACH to the END notification.
 *
 * Notes on locking (outermost first):
 * - hk_sessions_lock (mutex) protects hk_sessions (additions and
 *   removals), hk_nr_sessions, hk_next_id, hk_buffer_bytes and
 *   hk_shutting_down. Taken by netlink handlers, the end path and module
 *   exit, never while holding a session's lock. The list itself is RCU:
 *   the tracepoint probes and the netlink notifier walk it under
 *   rcu_read_lock() and take a reference with kref_get_unless_zero().
 * - hk_session.lock (mutex) protects the session's state, its thread list,
 *   each thread's watchpoints and disabled flag, the rotation window, and
 *   what HK_CMD_ADD_REGIONS changes (regions, units, slots, rotation).
 *   Taken by ATTACH, the end path, the session work (rotation, re-enable)
 *   and the task_work callbacks running in target threads. Held while
 *   calling into perf (register/modify/enable/disable/unregister), which
 *   sleeps on perf's own mutexes; perf never calls us back with them held
 *   except for the handler, which takes no mutex.
 * - hk_ring.lock (raw spinlock, IRQ-safe), see ring.c: the handler's only
 *   lock.
 * - Nothing waits for another path while holding a lock that path needs:
 *   the end path drops hk_session.lock before hrtimer_cancel() and
 *   cancel_work_sync() (the work takes that lock); waiting for another
 *   ender (hk_session.done) happens with no lock of ours held.
 *
 * Contexts:
 * - Fork, exit and exec tracepoint probes: the forking/exiting/execing
 *   task, preemption off. They only allocate with GFP_ATOMIC, queue
 *   task_works and queue the end work.
 * - Task works: the target thread itself, process context, may sleep;
 *   tw_reg before the new thread's first user instruction, tw_dis (pause
 *   every thread of the session) before an over-budget thread returns to
 *   user mode, tw_exit in do_exit().
 * - The tick hrtimer (softirq): resets the budget, queues the work.
 * - The work (hk_wq): re-enables throttled threads, rotates, drains.
 *
 * Lifetime: a session is referenced by hk_sessions (until the end path
 * removes it), by each hk_thread, by a queued end work and by whoever
 * looked it up. It is freed by an rcu_work after the last put, so RCU
 * readers of hk_sessions and of a thread xarray stay safe. Task works
 * cannot be cancelled from a module (task_work_cancel is not exported):
 * each holds a thread reference and is counted in HK_OBJ_TASK_WORKS;
 * module exit waits for that count to drop to zero.
 */
#include <linux/completion.h>
#include <linux/cred.h>
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/pid_namespace.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include <net/net_namespace.h>

#include "compat.h"
#include "hwbp.h"
#include "hwbp_arch.h"
#include "netlink.h"
#include "objects.h"
#include "pgprot.h"
#include "rights.h"
#include "session.h"
#include "watch.h"

unsigned int hk_max_sessions = 8;
module_param_named(max_sessions, hk_max_sessions, uint, 0644);
MODULE_PARM_DESC(max_sessions, "sessions at once (default 8)");

unsigned int hk_max_regions = 16;
module_param_named(max_regions, hk_max_regions, uint, 0644);
MODULE_PARM_DESC(max_regions, "regions per session (default 16)");

unsigned int hk_max_region_bytes = 256 * 1024;
module_param_named(max_region_bytes, hk_max_region_bytes, uint, 0644);
MODULE_PARM_DESC(max_region_bytes, "bytes of all regions of a session (default 256 KiB)");

unsigned int hk_max_buffer_kb = 16 * 1024;
module_param_named(max_buffer_kb, hk_max_buffer_kb, uint, 0644);
MODULE_PARM_DESC(max_buffer_kb, "record buffer memory of all sessions in KiB (default 16 MiB)");

static LIST_HEAD(hk_sessions);
static DEFINE_MUTEX(hk_sessions_lock);
static u32 hk_nr_sessions;
static u32 hk_next_id = 1;
static u64 hk_buffer_bytes;
static bool hk_shutting_down;

static struct workqueue_struct *hk_wq;
static DECLARE_WAIT_QUEUE_HEAD(hk_tw_wait);

struct hk_tp {
	const char *name;
	void *probe;
	struct tracepoint *tp;
};

static void hk_session_end(struct hk_session *s, u32 reason);

/* ---- references ---------------------------------------------------- */

static void hk_session_free_work(struct work_struct *work)
{
	struct hk_session *s = container_of(to_rcu_work(work), struct hk_session,
					    free_rwork);

	hk_pgprot_free(s);
	hk_ring_free(&s->ring);
	kvfree(s->staged);
	kvfree(s->units);
	kfree(s->regions);
	hk_watch_free(s->watch);
	xa_destroy(&s->thread_xa);
	put_pid_ns(s->pid_ns);
	put_net(s->net);
	kfree(s);
	hk_obj_add(HK_OBJ_SESSIONS, -1);
}

static void hk_session_release(struct kref *ref)
{
	struct hk_session *s = container_of(ref, struct hk_session, ref);

	/* Any context: a thread's last put may come from a probe. */
	INIT_RCU_WORK(&s->free_rwork, hk_session_free_work);
	queue_rcu_work(hk_wq, &s->free_rwork);
}

void hk_session_put(struct hk_session *s)
{
	kref_put(&s->ref, hk_session_release);
}

static void hk_thread_put(struct hk_thread *thr)
{
	if (!refcount_dec_and_test(&thr->ref))
		return;
	WARN_ON_ONCE(thr->listed);
	put_task_struct(thr->task);
	if (thr->proc)
		hk_wproc_put(thr->proc);
	hk_session_put(thr->s);
	kfree_rcu(thr, rcu);
	hk_obj_add(HK_OBJ_THREADS, -1);
}

static void hk_tw_queued(void)
{
	hk_obj_add(HK_OBJ_TASK_WORKS, 1);
}

/*
 * Last thing a task_work callback does. Preemption stays off until the
 * caller returns as far as possible, and module exit waits for the count
 * and then an RCU grace period, which shrinks the window in which module
 * text is still executing after the count hit zero to a few instructions.
 */
static void hk_tw_done(void)
{
	preempt_disable();
	hk_obj_add(HK_OBJ_TASK_WORKS, -1);
	wake_up(&hk_tw_wait);
	preempt_enable();
}

static struct hk_thread *hk_thread_new(struct hk_session *s,
				       struct task_struct *task, gfp_t gfp)
{
	struct hk_thread *thr;

	if (!kref_get_unless_zero(&s->ref))
		return NULL;
	thr = kzalloc(sizeof(*thr), gfp);
	if (!thr) {
		hk_session_put(s);
		return NULL;
	}
	thr->s = s;
	get_task_struct(task);
	thr->task = task;
	thr->tid = task->pid;
	refcount_set(&thr->ref, 1);
	INIT_LIST_HEAD(&thr->node);
	hk_obj_add(HK_OBJ_THREADS, 1);
	return thr;
}

/* ---- watchpoints of a thread (s->lock held) ------------------------- */

static const struct hk_unit *hk_slot_unit(struct hk_session *s, u32 slot)
{
	return &s->units[(s->window + slot) % s->nr_units];
}

/* The unit of @slot at @thr's address (a watch's processes differ). */
static const struct hk_unit *hk_thr_unit(struct hk_session *s, struct hk_thread *thr,
					 u32 slot, struct hk_unit *tmp)
{
	const struct hk_unit *u = hk_slot_unit(s, slot);

	return thr->proc ? hk_watch_unit(thr->proc, u, tmp) : u;
}

static int hk_thread_arm(struct hk_session *s, struct hk_thread *thr)
{
	int armed = 0, err = 0;
	struct hk_unit tmp;
	u32 i;

	lockdep_assert_held(&s->lock);
	for (i = 0; i < s->slots; i++) {
		struct perf_event *bp = hk_hwbp_register(s, thr,
							 hk_thr_unit(s, thr, i, &tmp));

		if (IS_ERR(bp)) {
			atomic_inc(&s->reg_fails);
			err = PTR_ERR(bp);
			continue;
		}
		thr->bp[i] = bp;
		s->nr_wp++;
		armed++;
	}
	return armed ? armed : err;
}

static void hk_thread_disarm(struct hk_session *s, struct hk_thread *thr)
{
	u32 i;

	lockdep_assert_held(&s->lock);
	for (i = 0; i < HK_MAX_SLOTS; i++) {
		if (!thr->bp[i])
			continue;
		hk_hwbp_unregister(thr->bp[i]);
		thr->bp[i] = NULL;
		s->nr_wp--;
	}
}

/* Put @thr on the session's list; the list takes over the caller's ref. */
static int hk_thread_list(struct hk_session *s, struct hk_thread *thr)
{
	int err;

	lockdep_assert_held(&s->lock);
	err = xa_insert(&s->thread_xa, thr->tid, thr, GFP_KERNEL);
	if (err)
		return err;
	list_add_tail(&thr->node, &s->threads);
	thr->listed = true;
	s->nr_threads++;
	return 0;
}

/* Take @thr off the list, disarmed; the caller must drop the list's ref. */
static void hk_thread_unlist(struct hk_session *s, struct hk_thread *thr)
{
	lockdep_assert_held(&s->lock);
	hk_thread_disarm(s, thr);
	list_del_init(&thr->node);
	xa_erase(&s->thread_xa, thr->tid);
	thr->listed = false;
	s->nr_threads--;
}

/*
 * hk_session_drop_threads_unlock - unlist threads, unlock, then put them
 * @s: the session; its lock is held by the caller
 * @proc: only the threads of this watch process; NULL: every thread
 *
 * Precondition: s->lock held. Postcondition: s->lock released; the
 * threads are off the session's list and their watchpoints unregistered
 * (both under s->lock), and the list's reference of each is put.
 *
 * Why the puts wait for the unlock: a thread's last put drops its
 * references to the session, whose memory holds s->lock, and to its task
 * (put_task_struct() may free it). Under the lock, the first would rely on
 * the caller's own session reference to keep the lock alive until
 * mutex_unlock(), and the second would make the task works and the
 * session work that wait on s->lock wait for a task's release too. On the
 * local list the threads reuse their node: once unlisted, nothing else
 * walks it.
 */
static void hk_session_drop_threads_unlock(struct hk_session *s,
					   struct hk_wproc *proc)
	__releases(&s->lock)
{
	struct hk_thread *thr, *tmp;
	LIST_HEAD(gone);

	lockdep_assert_held(&s->lock);
	list_for_each_entry_safe(thr, tmp, &s->threads, node) {
		if (proc && thr->proc != proc)
			continue;
		hk_thread_unlist(s, thr);
		list_add(&thr->node, &gone);
	}
	mutex_unlock(&s->lock);
	list_for_each_entry_safe(thr, tmp, &gone, node) {
		list_del_init(&thr->node);
		hk_thread_put(thr);
	}
}

/* ---- task works (run by the target thread itself) ------------------- */

/* A thread created after attach, before its first user instruction. */
static void hk_thread_tw_reg(struct callback_head *head)
{
	struct hk_thread *thr = container_of(head, struct hk_thread, tw_reg);
	struct hk_session *s = thr->s;
	bool keep = false;

	mutex_lock(&s->lock);
	if (s->state == HK_S_LIVE && !(current->flags & PF_EXITING) &&
	    !xa_load(&s->thread_xa, thr->tid) &&
	    (!thr->proc || (thr->proc->listed && !READ_ONCE(thr->proc->dead)))) {
		thr->tid_ns = task_pid_nr_ns(current, s->pid_ns);
		if (!hk_thread_list(s, thr)) {
			keep = true;
			hk_thread_arm(s, thr);
		}
	}
	mutex_unlock(&s->lock);
	if (!keep)
		hk_thread_put(thr);
	hk_tw_done();
}

/* The thread is in do_exit(): perf already detached its events. */
static void hk_thread_tw_exit(struct callback_head *head)
{
	struct hk_thread *thr = container_of(head, struct hk_thread, tw_exit);
	struct hk_session *s = thr->s;
	bool unlisted = false;

	mutex_lock(&s->lock);
	if (thr->listed) {
		hk_thread_unlist(s, thr);
		unlisted = true;
	}
	mutex_unlock(&s->lock);
	if (unlisted)
		hk_thread_put(thr);
	hk_thread_put(thr);
	hk_tw_done();
}

/*
 * The session's budget for this tick is spent: pause every thread's
 * watchpoints until the tick work re-enables them. All of them, not only
 * the thread that took the hit over budget: each other thread would take
 * one more trap, dropped, before its own pause, and a watchpoint armed
 * with no budget left costs for nothing (under TCG, every access to its
 * page; see capture.rst, "Budget").
 */
static void hk_session_pause(struct hk_session *s)
{
	struct hk_thread *thr;
	u32 i;

	lockdep_assert_held(&s->lock);
	list_for_each_entry(thr, &s->threads, node) {
		if (thr->disabled || test_bit(HK_THR_EXIT_QUEUED, &thr->flags))
			continue;
		/* as tw_dis queued: the tick work clears it before the enables */
		set_bit(HK_THR_DIS_PENDING, &thr->flags);
		for (i = 0; i < HK_MAX_SLOTS; i++)
			if (thr->bp[i])
				hk_hwbp_disable(thr->bp[i]);
		thr->disabled = true;
		atomic64_inc(&s->disables);
	}
}

/* Over budget: pause the session's watchpoints until the next tick. */
static void hk_thread_tw_dis(struct callback_head *head)
{
	struct hk_thread *thr = container_of(head, struct hk_thread, tw_dis);
	struct hk_session *s = thr->s;

	mutex_lock(&s->lock);
	if (thr->listed && s->state == HK_S_LIVE) {
		if (!thr->disabled)	/* else another thread's tw_dis paused it */
			hk_session_pause(s);
	} else {
		clear_bit(HK_THR_DIS_PENDING, &thr->flags);
	}
	mutex_unlock(&s->lock);
	hk_thread_put(thr);
	hk_tw_done();
}

/**
 * hk_thread_throttle - stop @thr's watchpoints for the rest of the tick
 * @thr: the thread that just took a hit over the budget
 * Context: the watchpoint handler (IRQs off, current == thr->task).
 */
void hk_thread_throttle(struct hk_thread *thr)
{
	if (test_and_set_bit(HK_THR_DIS_PENDING, &thr->flags))
		return;
	if (!refcount_inc_not_zero(&thr->ref))
		goto err_clear;
	init_task_work(&thr->tw_dis, hk_thread_tw_dis);
	hk_tw_queued();
	if (task_work_add(current, &thr->tw_dis, TWA_RESUME))
		goto err_put;
	return;

err_put:
	hk_obj_add(HK_OBJ_TASK_WORKS, -1);
	hk_thread_put(thr);
err_clear:
	clear_bit(HK_THR_DIS_PENDING, &thr->flags);
}

/* ---- tracepoint probes (preemption off) ----------------------------- */

static void hk_probe_fork(void *data, struct task_struct *parent,
			  struct task_struct *child)
{
	struct hk_session *s;

	/*
	 * Not a new thread, or one that never runs user code (io_uring
	 * workers): it would never run tw_reg.
	 */
	if (list_empty(&hk_sessions) || child->tgid == child->pid ||
	    (child->flags & (PF_KTHREAD | PF_IO_WORKER)))
		return;
	rcu_read_lock();
	list_for_each_entry_rcu(s, &hk_sessions, node) {
		struct hk_wproc *proc = NULL;
		struct hk_thread *thr;

		if (READ_ONCE(s->state) != HK_S_LIVE ||
		    s->mode == HK_MODE_PGPROT)	/* page mode watches the address space */
			continue;
		if (s->watch) {
			proc = hk_watch_proc_get(s, child->tgid);
			if (!proc)
				continue;
		} else if (s->tgid != child->tgid) {
			continue;
		}
		thr = hk_thread_new(s, child, GFP_ATOMIC);
		if (!thr) {
			if (proc)
				hk_wproc_put(proc);
			atomic_inc(&s->reg_fails);
			continue;
		}
		thr->proc = proc;	/* takes over the reference */
		init_task_work(&thr->tw_reg, hk_thread_tw_reg);
		hk_tw_queued();
		if (task_work_add(child, &thr->tw_reg, TWA_RESUME)) {
			hk_obj_add(HK_OBJ_TASK_WORKS, -1);
			atomic_inc(&s->reg_fails);
			hk_thread_put(thr);
		}
	}
	rcu_read_unlock();
}

static void hk_probe_exit(void *data, struct task_struct *p)
{
	struct hk_session *s;

	if (list_empty(&hk_sessions))
		return;
	rcu_read_lock();
	list_for_each_entry_rcu(s, &hk_sessions, node) {
		struct hk_thread *thr;

		if (s->watch ? !xa_load(&s->thread_xa, p->pid) : s->tgid != p->tgid)
			continue;
		thr = xa_load(&s->thread_xa, p->pid);
		if (thr && !test_and_set_bit(HK_THR_EXIT_QUEUED, &thr->flags) &&
		    refcount_inc_not_zero(&thr->ref)) {
			init_task_work(&thr->tw_exit, hk_thread_tw_exit);
			hk_tw_queued();
			if (task_work_add(p, &thr->tw_exit, TWA_NONE)) {
				hk_obj_add(HK_OBJ_TASK_WORKS, -1);
				hk_thread_put(thr);
			}
		}
		/*
		 * signal->live drops before this tracepoint: 0 = last thread.
		 * A watch only loses the process (its next scan drops it).
		 */
		if (!s->watch && !atomic_read(&p->signal->live))
			hk_session_end_async(s, HK_END_TARGET_EXIT);
	}
	rcu_read_unlock();
}

static void hk_probe_exec(void *data, struct task_struct *p, pid_t old_pid,
			  struct linux_binprm *bprm)
{
	struct hk_session *s;

	if (list_empty(&hk_sessions))
		return;
	rcu_read_lock();
	list_for_each_entry_rcu(s, &hk_sessions, node)
		if (s->watch)
			hk_watch_exec(s, p);
		else if (s->tgid == p->tgid)
			hk_session_end_async(s, HK_END_TARGET_EXEC);
	rcu_read_unlock();
}

static struct hk_tp hk_tps[] = {
	{ .name = "sched_process_fork", .probe = hk_probe_fork },
	{ .name = "sched_process_exit", .probe = hk_probe_exit },
	{ .name = "sched_process_exec", .probe = hk_probe_exec },
};

static void hk_tp_lookup(struct tracepoint *tp, void *priv)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(hk_tps); i++)
		if (!strcmp(tp->name, hk_tps[i].name))
			hk_tps[i].tp = tp;
}

/* ---- tick and work --------------------------------------------------- */

static enum hrtimer_restart hk_session_tick(struct hrtimer *t)
{
	struct hk_session *s = container_of(t, struct hk_session, timer);

	atomic_set(&s->tick_hits, 0);
	queue_work(hk_wq, &s->work);
	hrtimer_forward_now(t, ms_to_ktime(HK_TICK_MS));
	return HRTIMER_RESTART;
}

static void hk_session_reenable(struct hk_session *s)
{
	struct hk_thread *thr;
	u32 first, i, k;

	lockdep_assert_held(&s->lock);
	/*
	 * Each enable can take an IPI: slots enabled first catch the tick's
	 * budget first. Start from another slot every tick so that no unit
	 * is systematically starved (measured under TCG: 943 vs 133 records
	 * for two units written equally often, with a fixed order).
	 */
	first = s->reenable_seq++ % HK_MAX_SLOTS;
	list_for_each_entry(thr, &s->threads, node) {
		if (!thr->disabled)
			continue;
		thr->disabled = false;
		clear_bit(HK_THR_DIS_PENDING, &thr->flags);
		/*
		 * Re-arm the throttle before the enables: a hit over budget
		 * right after an enable must see the bit clear and queue
		 * tw_dis again (it runs after we drop the lock), or the thread
		 * keeps trapping with every hit dropped. Orders the clear
		 * before the enables' IPIs; the hit side's test_and_set_bit()
		 * in hk_thread_throttle() is fully ordered.
		 */
		smp_mb__after_atomic();
		for (k = 0; k < HK_MAX_SLOTS; k++) {
			i = (first + k) % HK_MAX_SLOTS;
			if (thr->bp[i])
				hk_hwbp_enable(thr->bp[i]);
		}
	}
}

/*
 * Units are armed in index order from the window: [0, covered_units) have
 * been armed at least once. ADD_REGIONS appends units and may jump the
 * window to the first new one (cover_base, cover_rot), which keeps that
 * true.
 */
static void hk_session_cover(struct hk_session *s)
{
	u64 armed = s->cover_base + (s->rotations - s->cover_rot + 1) * s->slots;

	while (s->covered_units < s->nr_units && s->covered_units < armed)
		s->coverage_bytes += s->units[s->covered_units++].len;
}

static void hk_session_rotate(struct hk_session *s)
{
	struct hk_thread *thr;
	struct hk_unit tmp;
	u32 i;

	lockdep_assert_held(&s->lock);
	s->window = (s->window + s->slots) % s->nr_units;
	list_for_each_entry(thr, &s->threads, node) {
		if (test_bit(HK_THR_EXIT_QUEUED, &thr->flags))
			continue;
		for (i = 0; i < s->slots; i++)
			if (thr->bp[i] &&
			    hk_hwbp_move(thr->bp[i], hk_thr_unit(s, thr, i, &tmp),
					 thr->disabled))
				atomic_inc(&s->reg_fails);
	}
	s->rotations++;
	hk_session_cover(s);
}

/*
 * Send what the ring holds, in batches. A batch the socket refused for
 * lack of room stays staged and is retried on the next tick (or, when
 * @final, every tick for up to HK_FINISH_MS); records are
 * counted lost only when they cannot be delivered at all.
 * Context: process; the work, or the end path after cancelling it.
 */
static int hk_session_drain(struct hk_session *s, bool final)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(HK_FINISH_MS);
	int batches = 0, ret;

	for (;;) {
		if (!s->nr_staged)
			s->nr_staged = hk_ring_pop(&s->ring, s->staged,
						   HK_RECORDS_PER_MSG);
		if (!s->nr_staged)
			return 0;
		ret = hk_nl_send_records(s, s->staged, s->nr_staged);
		if (!ret) {
			s->delivered += s->nr_staged;
			s->nr_staged = 0;
			if (++batches >= 64 && !final)
				return 0;
			continue;
		}
		if (ret == -EAGAIN || ret == -ENOBUFS || ret == -ENOMEM) {
			if (!final)
				return 0;
			if (time_before(jiffies, deadline)) {
				msleep(HK_TICK_MS);
				continue;
			}
		}
		hk_ring_add_lost(&s->ring, s->nr_staged);
		s->nr_staged = 0;
		if (!final)
			return ret;
	}
}

/* Records nobody will receive: count them lost. */
static void hk_session_discard(struct hk_session *s)
{
	u32 n;

	hk_ring_add_lost(&s->ring, s->nr_staged);
	s->nr_staged = 0;
	while ((n = hk_ring_pop(&s->ring, s->staged, HK_RECORDS_PER_MSG)))
		hk_ring_add_lost(&s->ring, n);
}

static void hk_session_work(struct work_struct *work)
{
	struct hk_session *s = container_of(work, struct hk_session, work);
	int ret;

	if (READ_ONCE(s->state) != HK_S_LIVE)
		return;
	if (s->watch)
		hk_watch_tick(s);	/* finds and drops processes, no lock held */
	mutex_lock(&s->lock);
	if (s->state == HK_S_LIVE) {
		hk_session_reenable(s);
		if (s->rotate_ticks && ktime_get_ns() >= s->next_rotate_ns) {
			s->next_rotate_ns = ktime_get_ns() +
					    (u64)s->opts.rotate_ms * NSEC_PER_MSEC;
			hk_session_rotate(s);
		}
	}
	mutex_unlock(&s->lock);
	if (s->pg)
		hk_pgprot_tick(s);
	ret = hk_session_drain(s, false);
	if (ret == -ECONNREFUSED || ret == -EPERM)
		hk_session_end_async(s, HK_END_SOCKET_CLOSED);
}

/* ---- ending ----------------------------------------------------------- */

static void hk_session_end_work(struct work_struct *work)
{
	struct hk_session *s = container_of(work, struct hk_session, end_work);

	hk_session_end(s, atomic_read(&s->end_req));
	hk_session_put(s);
}

/* Any context: end @s from a workqueue, once. */
void hk_session_end_async(struct hk_session *s, u32 reason)
{
	/*
	 * Hits from here on are moot (a new image after exec, a dead
	 * client, exiting threads): the handler drops them until stop.
	 */
	if (atomic_cmpxchg(&s->end_req, 0, reason))
		return;
	if (!kref_get_unless_zero(&s->ref))
		return;
	if (!queue_work(hk_wq, &s->end_work))
		hk_session_put(s);
}

/*
 * hk_session_stop - first half of ending: no more hits, no more ticks
 * Context: process, may sleep; no hawkeyes lock held.
 * Return: true if this call stopped @s and must call hk_session_finish().
 */
static bool hk_session_stop(struct hk_session *s, u32 reason)
{
	mutex_lock(&s->lock);
	if (s->state != HK_S_LIVE) {
		mutex_unlock(&s->lock);
		return false;
	}
	WRITE_ONCE(s->state, HK_S_ENDING);
	s->end_reason = reason;
	hk_session_drop_threads_unlock(s, NULL);

	/* The work takes s->lock: cancel it with the lock dropped. */
	hrtimer_cancel(&s->timer);
	cancel_work_sync(&s->work);
	/* No more faults recorded, every armed page restored. */
	if (s->pg)
		hk_pgprot_stop(s);
	return true;
}

/*
 * hk_session_finish - second half: deliver what is left, send END, unlist
 * Context: process, may sleep for up to HK_FINISH_MS while the client's
 * socket is full; no hawkeyes lock held.
 */
static void hk_session_finish(struct hk_session *s)
{
	if (s->end_reason == HK_END_SOCKET_CLOSED || s->quiet) {
		hk_session_discard(s);
	} else {
		hk_session_drain(s, true);
		hk_nl_send_end(s, s->end_reason);
	}

	mutex_lock(&hk_sessions_lock);
	list_del_rcu(&s->node);
	hk_nr_sessions--;
	hk_buffer_bytes -= (u64)s->ring.cap * sizeof(struct hk_record);
	mutex_unlock(&hk_sessions_lock);

	complete_all(&s->done);
	hk_session_put(s);	/* hk_sessions' reference */
}

static void hk_session_finish_work(struct work_struct *work)
{
	struct hk_session *s = container_of(work, struct hk_session, finish_work);

	hk_session_finish(s);
	hk_session_put(s);
}

/*
 * hk_session_end - end @s now, or wait until whoever is ending it is done
 * Context: process, may sleep; no hawkeyes lock held.
 */
static void hk_session_end(struct hk_session *s, u32 reason)
{
	if (hk_session_stop(s, reason))
		hk_session_finish(s);
	else
		wait_for_completion(&s->done);
}

/* ---- attach ----------------------------------------------------------- */

/* Units of the regions; a watch's region i is an offset range of segment i + 1. */
static u32 hk_units_fill(const struct hk_region *r, u32 nr, struct hk_unit *u,
			 bool watch)
{
	u32 maxlen = hk_arch_max_len(), n = 0, i;

	for (i = 0; i < nr; i++) {
		u64 a = r[i].start, end = r[i].start + r[i].len;

		while (a < end) {
			u32 len = maxlen;

			while (len > 1 && ((a & (len - 1)) || a + len > end))
				len >>= 1;
			if (u) {
				u[n].addr = a;
				u[n].len = len;
				u[n].seg = watch ? i + 1 : 0;
			}
			a += len;
			n++;
		}
	}
	return n;
}

/* Ranges in the user address space; their total bytes in *@bytes. */
static int hk_regions_valid(const struct hk_region *r, u32 nr,
			    struct netlink_ext_ack *extack, u64 *bytes)
{
	u32 i;

	*bytes = 0;
	for (i = 0; i < nr; i++) {
		if (!r[i].len || r[i].start + r[i].len < r[i].start ||
		    r[i].start + r[i].len > TASK_SIZE_MAX) {
			NL_SET_ERR_MSG_FMT_MOD(extack,
					       "region %u: bad range 0x%llx+%llu",
					       i, r[i].start, r[i].len);
			return -EINVAL;
		}
		*bytes += r[i].len;
	}
	return 0;
}

static int hk_regions_check(struct task_struct *task, struct hk_attach_req *req,
			    struct netlink_ext_ack *extack)
{
	struct mm_struct *mm;
	int ret = 0;
	u32 i;

	mm = get_task_mm(task);
	if (!mm) {
		NL_SET_ERR_MSG_MOD(extack, "target has no address space");
		return -ESRCH;
	}
	mmap_read_lock(mm);
	for (i = 0; i < req->nr_regions && !ret; i++) {
		u64 a = req->regions[i].start;
		u64 end = a + req->regions[i].len;

		while (a < end) {
			struct vm_area_struct *vma = find_vma(mm, a);

			if (!vma || vma->vm_start > a) {
				NL_SET_ERR_MSG_FMT_MOD(extack,
						       "region %u: 0x%llx not mapped in target",
						       i, a);
				ret = -EFAULT;
				break;
			}
			a = vma->vm_end;
		}
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

static struct task_struct *hk_target_get(u32 pid, struct netlink_ext_ack *extack)
{
	struct task_struct *task;

	rcu_read_lock();
	task = pid_task(find_vpid(pid), PIDTYPE_PID);
	if (task)
		task = task->group_leader;
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	if (!task) {
		NL_SET_ERR_MSG_FMT_MOD(extack, "no process %u", pid);
		return ERR_PTR(-ESRCH);
	}
	if (task->flags & PF_KTHREAD) {
		put_task_struct(task);
		NL_SET_ERR_MSG_FMT_MOD(extack, "%u is a kernel thread", pid);
		return ERR_PTR(-EINVAL);
	}
	return task;
}

/*
 * Arm every current thread of @task; new ones come through the fork probe.
 * @proc: a watch's process (each new thread takes a reference), or NULL.
 */
int hk_session_arm_threads(struct hk_session *s, struct task_struct *task,
			   struct hk_wproc *proc)
{
	struct task_struct **snap, *t;
	int n, cnt, i, armed = 0, err = -ESRCH;

retry:
	n = get_nr_threads(task) + 8;
	snap = kcalloc(n, sizeof(*snap), GFP_KERNEL);
	if (!snap)
		return -ENOMEM;
	cnt = 0;
	rcu_read_lock();
	for_each_thread(task, t) {
		if (cnt == n)
			break;
		get_task_struct(t);
		snap[cnt++] = t;
	}
	rcu_read_unlock();
	if (cnt == n) {
		for (i = 0; i < cnt; i++)
			put_task_struct(snap[i]);
		kfree(snap);
		goto retry;
	}

	mutex_lock(&s->lock);
	for (i = 0; i < cnt && s->state == HK_S_LIVE; i++) {
		struct hk_thread *thr;
		int ret;

		t = snap[i];
		if ((t->flags & (PF_EXITING | PF_IO_WORKER)) ||
		    xa_load(&s->thread_xa, t->pid))
			continue;
		if (proc && !proc->listed)
			break;		/* dropped meanwhile */
		thr = hk_thread_new(s, t, GFP_KERNEL);
		if (!thr) {
			err = -ENOMEM;
			continue;
		}
		if (proc) {
			refcount_inc(&proc->ref);
			thr->proc = proc;
		}
		thr->tid_ns = task_pid_nr_ns(t, s->pid_ns);
		if (hk_thread_list(s, thr)) {
			hk_thread_put(thr);
			continue;
		}
		ret = hk_thread_arm(s, thr);
		if (ret > 0)
			armed++;
		else
			err = ret;
	}
	/* Threads registered by their own tw_reg meanwhile count too. */
	armed = armed || s->nr_wp;
	mutex_unlock(&s->lock);

	for (i = 0; i < cnt; i++)
		put_task_struct(snap[i]);
	kfree(snap);
	return armed ? 0 : err;
}

/**
 * hk_session_attach - start a capture session
 * @req: validated request (types and ranges checked by the netlink policy)
 * @extack: where refusals are explained
 * @id: the new session's id on success
 * Context: process (genl doit), the requester's credentials; may sleep.
 */
int hk_session_attach(struct hk_attach_req *req, struct netlink_ext_ack *extack,
		      u32 *id)
{
	struct task_struct *task;
	struct hk_session *s;
	u64 bytes = 0, buf_bytes;
	u32 nr_units;
	int ret;

	if (req->mode == HK_MODE_PGPROT) {
		ret = hk_pgprot_check(req, extack);
		if (ret)
			return ret;
	} else if (!hk_arch_bp_type(req->opts.access)) {
		NL_SET_ERR_MSG_MOD(extack, "access type not supported by this CPU");
		return -EOPNOTSUPP;
	}
	if (req->nr_regions > READ_ONCE(hk_max_regions)) {
		NL_SET_ERR_MSG_FMT_MOD(extack, "%u regions, limit max_regions=%u",
				       req->nr_regions, READ_ONCE(hk_max_regions));
		return -E2BIG;
	}
	ret = hk_regions_valid(req->regions, req->nr_regions, extack, &bytes);
	if (ret)
		return ret;
	if (bytes > READ_ONCE(hk_max_region_bytes)) {
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "%llu region bytes, limit max_region_bytes=%u",
				       bytes, READ_ONCE(hk_max_region_bytes));
		return -E2BIG;
	}
	nr_units = hk_units_fill(req->regions, req->nr_regions, NULL, req->segs);
	if (req->opts.slots > hk_arch_slots())
		req->opts.slots = hk_arch_slots();
	if (req->mode != HK_MODE_PGPROT && !req->opts.rotate_ms &&
	    nr_units > req->opts.slots) {
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "regions need %u watchpoints, %u without rotation",
				       nr_units, req->opts.slots);
		return -E2BIG;
	}
	buf_bytes = (u64)req->opts.buffer * sizeof(struct hk_record);
	/* Checked again against what other sessions hold, under the lock. */
	if (buf_bytes > (u64)READ_ONCE(hk_max_buffer_kb) * 1024) {
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "buffer of %llu KiB over limit max_buffer_kb=%u",
				       buf_bytes >> 10, READ_ONCE(hk_max_buffer_kb));
		return -ENOBUFS;
	}

	if (req->segs) {
		/* A watch: CAP_SYS_ADMIN checked by the caller, no target. */
		task = NULL;
		goto alloc;
	}
	task = hk_target_get(req->pid, extack);
	if (IS_ERR(task))
		return PTR_ERR(task);
	if (!hk_may_attach(task)) {
		NL_SET_ERR_MSG_FMT_MOD(extack, "no permission to ptrace process %u",
				       req->pid);
		ret = -EPERM;
		goto err_task;
	}
	ret = hk_regions_check(task, req, extack);
	if (ret)
		goto err_task;
alloc:

	ret = -ENOMEM;
	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		goto err_task;
	hk_obj_add(HK_OBJ_SESSIONS, 1);
	kref_init(&s->ref);
	mutex_init(&s->lock);
	INIT_LIST_HEAD(&s->threads);
	xa_init(&s->thread_xa);
	init_completion(&s->done);
	INIT_WORK(&s->work, hk_session_work);
	INIT_WORK(&s->end_work, hk_session_end_work);
	INIT_WORK(&s->finish_work, hk_session_finish_work);
	hrtimer_init(&s->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	s->timer.function = hk_session_tick;
	s->pid_ns = get_pid_ns(task_active_pid_ns(current));
	s->net = get_net(req->net);
	s->portid = req->portid;
	s->owner = current_euid();
	s->mode = req->mode;
	if (task) {
		s->tgid = task->tgid;
		s->tgid_ns = task_tgid_nr_ns(task, s->pid_ns);
	} else if (hk_watch_new(s, req)) {
		goto err_session;
	}
	s->opts = req->opts;
	s->want_rotate_ms = req->opts.rotate_ms;
	s->regions = kmemdup(req->regions, req->nr_regions * sizeof(*req->regions),
			     GFP_KERNEL_ACCOUNT);
	s->nr_regions = req->nr_regions;
	s->region_bytes = bytes;
	s->units = kvcalloc(nr_units, sizeof(*s->units), GFP_KERNEL_ACCOUNT);
	s->staged = kvcalloc(HK_RECORDS_PER_MSG, sizeof(*s->staged),
			     GFP_KERNEL_ACCOUNT);
	if (!s->regions || !s->units || !s->staged)
		goto err_session;
	s->nr_units = hk_units_fill(req->regions, req->nr_regions, s->units, req->segs);
	s->slots = min(req->opts.slots, s->nr_units);
	if (s->mode == HK_MODE_PGPROT) {
		s->slots = 0;		/* no watchpoints, no rotation */
		req->opts.rotate_ms = 0;
	}
	s->budget_per_tick = max_t(u32, 1, DIV_ROUND_UP_ULL((u64)req->opts.budget *
							    HK_TICK_MS, 1000));
	if (req->opts.rotate_ms && s->nr_units > s->slots) {
		s->rotate_ticks = DIV_ROUND_UP(req->opts.rotate_ms, HK_TICK_MS);
		s->opts.rotate_ms = s->rotate_ticks * HK_TICK_MS;
	} else {
		s->opts.rotate_ms = 0;
	}
	hk_session_cover(s);
	ret = hk_ring_init(&s->ring, req->opts.buffer);
	if (ret)
		goto err_session;
	s->start_ns = ktime_get_ns();
	s->next_rotate_ns = s->start_ns + (u64)s->opts.rotate_ms * NSEC_PER_MSEC;

	mutex_lock(&hk_sessions_lock);
	if (hk_shutting_down) {
		NL_SET_ERR_MSG_MOD(extack, "module is unloading");
		ret = -ESHUTDOWN;
		goto err_unlock;
	}
	if (hk_nr_sessions >= READ_ONCE(hk_max_sessions)) {
		NL_SET_ERR_MSG_FMT_MOD(extack, "%u sessions, limit max_sessions=%u",
				       hk_nr_sessions, READ_ONCE(hk_max_sessions));
		ret = -EBUSY;
		goto err_unlock;
	}
	if (hk_buffer_bytes + buf_bytes > (u64)READ_ONCE(hk_max_buffer_kb) * 1024) {
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "buffer of %llu KiB over limit max_buffer_kb=%u",
				       buf_bytes >> 10, READ_ONCE(hk_max_buffer_kb));
		ret = -ENOBUFS;
		goto err_unlock;
	}
	{
		struct hk_session *o;

		list_for_each_entry(o, &hk_sessions, node) {
			/* One that is only finishing holds no watchpoint. */
			if (s->tgid && o->tgid == s->tgid &&
			    READ_ONCE(o->state) == HK_S_LIVE) {
				NL_SET_ERR_MSG_FMT_MOD(extack,
						       "process %u already has session %u",
						       req->pid, o->id);
				ret = -EBUSY;
				goto err_unlock;
			}
		}
	}
	s->id = hk_next_id++;
	hk_nr_sessions++;
	hk_buffer_bytes += buf_bytes;
	/*
	 * Live from here: the fork probe adds threads created from now on,
	 * and the target may exit and end the session at any time, so keep
	 * our own reference until we are done with it.
	 */
	kref_get(&s->ref);
	list_add_tail_rcu(&s->node, &hk_sessions);
	mutex_unlock(&hk_sessions_lock);

	if (s->watch) {
		/* Whoever maps the segments now; none yet is fine. */
		hk_watch_scan(s);
		ret = 0;
	} else if (s->mode == HK_MODE_PGPROT) {
		ret = hk_pgprot_start(s, task, extack);
	} else {
		ret = hk_session_arm_threads(s, task, NULL);
	}
	if (ret) {
		/* hk_pgprot_start() explains its own refusals. */
		if (s->mode != HK_MODE_PGPROT) {
			if (ret == -ENOSPC)
				NL_SET_ERR_MSG_MOD(extack,
						   "no free debug register in the target (debugger attached?)");
			else
				NL_SET_ERR_MSG_FMT_MOD(extack, "could not arm any thread (%d)",
						       ret);
		}
		s->quiet = true;
		hk_session_end(s, HK_END_ERROR);
		hk_session_put(s);
		if (task)
			put_task_struct(task);
		return ret;
	}
	/* Under the lock: hk_session_stop() cancels the timer after ENDING. */
	mutex_lock(&s->lock);
	if (s->state == HK_S_LIVE)
		hrtimer_start(&s->timer, ms_to_ktime(HK_TICK_MS), HRTIMER_MODE_REL);
	mutex_unlock(&s->lock);
	*id = s->id;
	hk_session_put(s);
	if (task)
		put_task_struct(task);
	return 0;

err_unlock:
	mutex_unlock(&hk_sessions_lock);
err_session:
	hk_session_put(s);
err_task:
	if (task)
		put_task_struct(task);
	return ret;
}

/**
 * hk_session_drop_proc - a watch's process leaves: disarm and forget it
 * @s: the watch session
 * @proc: a process on the watch's list
 * Context: process, may sleep; no hawkeyes lock held (takes s->lock).
 */
void hk_session_drop_proc(struct hk_session *s, struct hk_wproc *proc)
{
	mutex_lock(&s->lock);
	if (!proc->listed) {
		mutex_unlock(&s->lock);
		return;
	}
	proc->listed = false;
	list_del_init(&proc->node);
	xa_erase(&s->watch->proc_xa, proc->tgid);
	s->watch->nr_procs--;
	hk_session_drop_threads_unlock(s, proc);
	hk_wproc_put(proc);	/* the list's reference */
}

/* ---- lookups and status ------------------------------------------------ */

struct hk_session *hk_session_get_next(u32 after)
{
	struct hk_session *s, *found = NULL;

	mutex_lock(&hk_sessions_lock);
	list_for_each_entry(s, &hk_sessions, node) {
		if (s->id > after && kref_get_unless_zero(&s->ref)) {
			found = s;
			break;
		}
	}
	mutex_unlock(&hk_sessions_lock);
	return found;
}

struct hk_session *hk_session_get_by_id(u32 id)
{
	struct hk_session *s = hk_session_get_next(id - 1);

	if (s && s->id != id) {
		hk_session_put(s);
		s = NULL;
	}
	return s;
}

/* May current see or end @s? Its owner, or CAP_SYS_ADMIN. */
bool hk_session_visible(struct hk_session *s)
{
	return uid_eq(current_euid(), s->owner) || capable(CAP_SYS_ADMIN);
}

int hk_session_detach(u32 id, struct netlink_ext_ack *extack)
{
	struct hk_session *s = hk_session_get_by_id(id);

	if (!s) {
		NL_SET_ERR_MSG_FMT_MOD(extack, "no session %u", id);
		return -ENOENT;
	}
	if (!hk_session_visible(s)) {
		hk_session_put(s);
		NL_SET_ERR_MSG_FMT_MOD(extack, "session %u belongs to another user", id);
		return -EPERM;
	}
	/*
	 * Watchpoints are gone when DETACH is acknowledged; delivering the
	 * rest and END may wait for the client to read, which it cannot do
	 * while it waits for this ack on the same socket: finish in the
	 * background.
	 */
	if (hk_session_stop(s, HK_END_DETACH)) {
		kref_get(&s->ref);
		queue_work(hk_wq, &s->finish_work);
	}
	hk_session_put(s);
	return 0;
}

void hk_session_stats(struct hk_session *s, struct hk_session_stats *st)
{
	mutex_lock(&s->lock);
	st->threads = s->nr_threads;
	st->nr_wp = s->nr_wp;
	st->rotations = s->rotations;
	st->coverage = s->coverage_bytes;
	st->rotate_ms = s->opts.rotate_ms;
	mutex_unlock(&s->lock);
	st->reg_fails = atomic_read(&s->reg_fails);
	st->hits = atomic64_read(&s->hits);
	st->throttled = atomic64_read(&s->throttled);
	st->disables = atomic64_read(&s->disables);
	st->lost = hk_ring_lost(&s->ring);
	/* Written by the drain; a torn read is impossible on 64-bit. */
	st->delivered = READ_ONCE(s->delivered);
	st->elapsed_ns = ktime_get_ns() - s->start_ns;
	if (s->pg) {
		struct hk_pg_stats pst;

		hk_pgprot_stats(s, &pst);
		st->pages = pst.pages;
		st->armed = pst.armed;
		st->arms = pst.arms;
		st->rotations = pst.passes;
		st->uaccess = pst.uaccess;
	}
}

u32 hk_session_count(void)
{
	u32 n;

	mutex_lock(&hk_sessions_lock);
	n = hk_nr_sessions;
	mutex_unlock(&hk_sessions_lock);
	return n;
}

/* ---- regions added to a live session (HK_CMD_ADD_REGIONS) -------------- */

/* The target's thread-group leader, referenced, or NULL if it is gone. */
static struct task_struct *hk_session_task(struct hk_session *s)
{
	struct task_struct *task;

	rcu_read_lock();
	task = pid_task(find_pid_ns(s->tgid, &init_pid_ns), PIDTYPE_TGID);
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	return task;
}

/* Does any of @r overlap a region @s watches already? s->lock held. */
static int hk_regions_overlap(struct hk_session *s, const struct hk_region *r, u32 nr,
			      struct netlink_ext_ack *extack)
{
	u32 i, k;

	lockdep_assert_held(&s->lock);
	for (i = 0; i < nr; i++) {
		for (k = 0; k < s->nr_regions; k++) {
			const struct hk_region *o = &s->regions[k];

			if (r[i].start < o->start + o->len && o->start < r[i].start + r[i].len) {
				NL_SET_ERR_MSG_FMT_MOD(extack,
						       "region %u overlaps region %u of the session",
						       i, k);
				return -EEXIST;
			}
		}
	}
	return 0;
}

/*
 * Point every thread's slots at the window again after the units changed:
 * move the watchpoints it has, register the slots it lacks (more units
 * can mean more slots). A registration that fails is counted, as at
 * attach. Context: process, may sleep; s->lock held.
 */
static void hk_session_rearm(struct hk_session *s)
{
	struct hk_thread *thr;
	struct perf_event *bp;
	u32 i;

	lockdep_assert_held(&s->lock);
	list_for_each_entry(thr, &s->threads, node) {
		if (test_bit(HK_THR_EXIT_QUEUED, &thr->flags))
			continue;
		for (i = 0; i < s->slots; i++) {
			if (thr->bp[i]) {
				if (hk_hwbp_move(thr->bp[i], hk_slot_unit(s, i), thr->disabled))
					atomic_inc(&s->reg_fails);
				continue;
			}
			bp = hk_hwbp_register(s, thr, hk_slot_unit(s, i));
			if (IS_ERR(bp)) {
				atomic_inc(&s->reg_fails);
				continue;
			}
			thr->bp[i] = bp;
			s->nr_wp++;
			if (thr->disabled)
				hk_hwbp_disable(bp);
		}
	}
}

/*
 * Append @r to @s: new regions and units arrays, then the watchpoints.
 * Precondition: s->lock held, @s live, @r valid, mapped and disjoint.
 * Postcondition on success: the new units are armed now when the session
 * rotates (the window jumps to them), or all units are when it does not.
 */
static int hk_session_grow(struct hk_session *s, const struct hk_region *r, u32 nr,
			   u64 bytes, struct netlink_ext_ack *extack)
{
	u32 old_units = s->nr_units, add_units, nr_units, slots;
	struct hk_region *regions;
	struct hk_unit *units;
	bool jump;

	lockdep_assert_held(&s->lock);
	add_units = hk_units_fill(r, nr, NULL, false);
	nr_units = old_units + add_units;
	slots = min(s->opts.slots, nr_units);
	if (!s->want_rotate_ms && nr_units > slots) {
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "regions need %u watchpoints, %u without rotation",
				       nr_units, slots);
		return -E2BIG;
	}
	regions = kcalloc(s->nr_regions + nr, sizeof(*regions), GFP_KERNEL_ACCOUNT);
	units = kvcalloc(nr_units, sizeof(*units), GFP_KERNEL_ACCOUNT);
	if (!regions || !units) {
		kfree(regions);
		kvfree(units);
		return -ENOMEM;
	}
	memcpy(regions, s->regions, s->nr_regions * sizeof(*regions));
	memcpy(regions + s->nr_regions, r, nr * sizeof(*regions));
	memcpy(units, s->units, old_units * sizeof(*units));
	hk_units_fill(r, nr, units + old_units, false);
	kfree(s->regions);
	kvfree(s->units);
	s->regions = regions;
	s->nr_regions += nr;
	s->region_bytes += bytes;
	s->units = units;
	s->nr_units = nr_units;
	s->slots = slots;

	/*
	 * A mapping that just appeared is where sharing starts: when the
	 * session rotates and every old unit has had its turn, jump the
	 * window to the new units rather than let it come round to them.
	 * Not before that, or the old units not armed yet would be skipped
	 * and the coverage count would lie.
	 */
	jump = nr_units > slots && s->covered_units == old_units;
	if (jump) {
		s->window = old_units;
		s->cover_base = old_units;
		s->cover_rot = s->rotations;
	}
	if (nr_units > slots && !s->rotate_ticks) {
		s->rotate_ticks = DIV_ROUND_UP(s->want_rotate_ms, HK_TICK_MS);
		s->opts.rotate_ms = s->rotate_ticks * HK_TICK_MS;
		s->next_rotate_ns = ktime_get_ns() + (u64)s->opts.rotate_ms * NSEC_PER_MSEC;
	}
	hk_session_rearm(s);
	hk_session_cover(s);
	return 0;
}

/**
 * hk_session_add_regions - watch more regions of a live session's target
 * @id: the session
 * @regions: the new regions (owned by the caller)
 * @nr: how many
 * @extack: where refusals are explained
 * Context: process (genl doit), the requester's credentials; may sleep.
 */
int hk_session_add_regions(u32 id, struct hk_region *regions, u32 nr,
			   struct netlink_ext_ack *extack)
{
	struct hk_attach_req req = { .regions = regions, .nr_regions = nr };
	struct task_struct *task = NULL;
	struct hk_session *s;
	u64 bytes;
	int ret;

	s = hk_session_get_by_id(id);
	if (!s) {
		NL_SET_ERR_MSG_FMT_MOD(extack, "no session %u", id);
		return -ENOENT;
	}
	ret = -EPERM;
	if (!hk_session_visible(s)) {
		NL_SET_ERR_MSG_FMT_MOD(extack, "session %u belongs to another user", id);
		goto out;
	}
	ret = -EOPNOTSUPP;
	if (s->watch) {
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "session %u watches shared memory segments, not one process",
				       id);
		goto out;
	}
	if (s->mode == HK_MODE_PGPROT) {
		NL_SET_ERR_MSG_FMT_MOD(extack, "session %u is in page mode: cannot add regions yet",
				       id);
		goto out;
	}
	ret = hk_regions_valid(regions, nr, extack, &bytes);
	if (ret)
		goto out;
	/* Before looking at the mappings, as ATTACH; the sum is checked below. */
	ret = -E2BIG;
	if (bytes > READ_ONCE(hk_max_region_bytes)) {
		NL_SET_ERR_MSG_FMT_MOD(extack, "%llu region bytes, limit max_region_bytes=%u",
				       bytes, READ_ONCE(hk_max_region_bytes));
		goto out;
	}
	ret = -ESRCH;
	task = hk_session_task(s);
	if (!task) {
		NL_SET_ERR_MSG_FMT_MOD(extack, "session %u: its target is gone", id);
		goto out;
	}
	ret = -EPERM;
	if (!hk_may_attach(task)) {
		NL_SET_ERR_MSG_FMT_MOD(extack, "no permission to ptrace process %u",
				       s->tgid_ns);
		goto out;
	}
	ret = hk_regions_check(task, &req, extack);
	if (ret)
		goto out;

	mutex_lock(&s->lock);
	ret = -ESRCH;
	if (s->state != HK_S_LIVE) {
		NL_SET_ERR_MSG_FMT_MOD(extack, "session %u is ending", id);
		goto out_unlock;
	}
	ret = -E2BIG;
	if (s->nr_regions + nr > READ_ONCE(hk_max_regions)) {
		NL_SET_ERR_MSG_FMT_MOD(extack, "%u regions, limit max_regions=%u",
				       s->nr_regions + nr, READ_ONCE(hk_max_regions));
		goto out_unlock;
	}
	if (s->region_bytes + bytes > READ_ONCE(hk_max_region_bytes)) {
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "%llu region bytes, limit max_region_bytes=%u",
				       s->region_bytes + bytes, READ_ONCE(hk_max_region_bytes));
		goto out_unlock;
	}
	ret = hk_regions_overlap(s, regions, nr, extack);
	if (!ret)
		ret = hk_session_grow(s, regions, nr, bytes, extack);
out_unlock:
	mutex_unlock(&s->lock);
out:
	if (task)
		put_task_struct(task);
	hk_session_put(s);
	return ret;
}

/* ---- socket release ------------------------------------------------------ */

/*
 * NETLINK_URELEASE: called for every netlink socket closed, in the closing
 * task, blocking notifier chain. Only look up and defer.
 */
static int hk_netlink_notify(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct netlink_notify *n = ptr;
	struct hk_session *s;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;
	rcu_read_lock();
	list_for_each_entry_rcu(s, &hk_sessions, node)
		if (s->portid == n->portid && net_eq(s->net, n->net))
			hk_session_end_async(s, HK_END_SOCKET_CLOSED);
	rcu_read_unlock();
	return NOTIFY_DONE;
}

static struct notifier_block hk_netlink_nb = {
	.notifier_call = hk_netlink_notify,
};

/* ---- module init/exit ---------------------------------------------------- */

int __init hk_session_init(void)
{
	int i, ret;

	for_each_kernel_tracepoint(hk_tp_lookup, NULL);
	for (i = 0; i < ARRAY_SIZE(hk_tps); i++) {
		if (!hk_tps[i].tp) {
			pr_err("tracepoint %s not found\n", hk_tps[i].name);
			return -ENOENT;
		}
	}
	/*
	 * High priority: the tick work must run every tick even when the
	 * target's threads keep every CPU busy, or throttled threads stay
	 * disabled, rotation lags and the ring overflows.
	 */
	hk_wq = alloc_workqueue("hawkeyes", WQ_HIGHPRI, 0);
	if (!hk_wq)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(hk_tps); i++) {
		ret = tracepoint_probe_register(hk_tps[i].tp, hk_tps[i].probe, NULL);
		if (ret)
			goto err_probes;
	}
	ret = netlink_register_notifier(&hk_netlink_nb);
	if (ret)
		goto err_probes;
	return 0;

err_probes:
	while (--i >= 0)
		tracepoint_probe_unregister(hk_tps[i].tp, hk_tps[i].probe, NULL);
	tracepoint_synchronize_unregister();
	destroy_workqueue(hk_wq);
	return ret;
}

/*
 * First half of module exit, while the genl family is still registered so
 * END can be sent: stop new attaches and end every session.
 */
void hk_session_shutdown(void)
{
	struct hk_session *s;

	netlink_unregister_notifier(&hk_netlink_nb);
	for (;;) {
		mutex_lock(&hk_sessions_lock);
		hk_shutting_down = true;
		s = list_first_entry_or_null(&hk_sessions, struct hk_session, node);
		if (s)
			kref_get(&s->ref);
		mutex_unlock(&hk_sessions_lock);
		if (!s)
			break;
		hk_session_end(s, HK_END_RMMOD);
		hk_session_put(s);
	}
}

/* Second half, after the family is gone. */
void hk_session_exit(void)
{
	int i;

	for (i = ARRAY_SIZE(hk_tps) - 1; i >= 0; i--)
		tracepoint_probe_unregister(hk_tps[i].tp, hk_tps[i].probe, NULL);
	tracepoint_synchronize_unregister();
	/*
	 * Task works still queued on target threads run when those threads
	 * next return to user mode or exit; we cannot cancel them. Sleep
	 * until they have run (a stopped target delays rmmod until resumed).
	 */
	wait_event(hk_tw_wait, !hk_obj_read(HK_OBJ_TASK_WORKS));
	synchronize_rcu();
	flush_workqueue(hk_wq);
	rcu_barrier();
	destroy_workqueue(hk_wq);
	WARN_ON_ONCE(hk_obj_read(HK_OBJ_SESSIONS) || hk_obj_read(HK_OBJ_THREADS) ||
		     hk_obj_read(HK_OBJ_WATCHPOINTS) || hk_obj_read(HK_OBJ_BUFFERS) ||
		     hk_obj_read(HK_OBJ_PROCS));
}
