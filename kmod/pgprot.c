// SPDX-License-Identifier: GPL-2.0
/*
 * Page-protection capture (HK_MODE_PGPROT): the pages covering a session's
 * regions are armed so that the target's next access to each faults once;
 * the fault is recorded (exact instruction pointer, exact data address,
 * read or write, thread) and the kernel restores the page so the access
 * completes. Every tick (HK_TICK_MS) the session work re-arms the pages
 * that were restored, at most budget_per_tick of them: the fault budget.
 * Pages left unarmed by the budget are counted in the session's
 * "throttled" counter, never silently. How a page is armed is the arch
 * half (pgprot_arch.h, pgprot_x86.c).
 *
 * Notes on locking:
 * - hk_pg_mutex protects hk_pg_list changes and hk_pg_users (sessions in
 *   page mode; the fault probes are registered while it is non-zero).
 *   Taken by attach inside the session's lock (lock order: hk_session.lock,
 *   then hk_pg_mutex) and by the end path with no lock held.
 * - hk_session.pg is set once, under hk_session.lock while the session is
 *   live; the end path reads it after setting the state under that lock.
 * - hk_pg_list is RCU: the fault probes walk it with IRQs off. An entry
 *   is removed, then synchronize_rcu(), before its pages are disarmed and
 *   long before the session (which embeds nothing of ours the probe uses
 *   but @s) is freed by an rcu_work.
 * - hk_pgprot.lock (mutex) serialises passes: the session work's re-arm
 *   and the end path's disarm. A pass takes the target's mmap_read_lock
 *   inside it (see pgprot_x86.c); never held across the session's lock.
 * - The probe takes only the ring's raw spinlock (hk_ring_push()).
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>

#include "compat.h"
#include "objects.h"
#include "pgprot.h"
#include "pgprot_arch.h"
#include "session.h"

unsigned int hk_page_budget = 2000;
module_param_named(page_budget, hk_page_budget, uint, 0644);
MODULE_PARM_DESC(page_budget,
		 "page mode: faults per second a session may cause, default for HK_OPT_A_PAGE_BUDGET (default 2000)");

static LIST_HEAD(hk_pg_list);
static DEFINE_MUTEX(hk_pg_mutex);
static unsigned int hk_pg_users;

int hk_pgprot_check(struct hk_attach_req *req, struct netlink_ext_ack *extack)
{
	if (!hk_pg_arch_supported()) {
		NL_SET_ERR_MSG_MOD(extack,
				   "page mode is not supported on this architecture yet (x86-64 only)");
		return -EOPNOTSUPP;
	}
	if (!req->opts.page_budget)
		req->opts.page_budget = READ_ONCE(hk_page_budget);
	if (!req->opts.page_budget) {
		NL_SET_ERR_MSG_MOD(extack, "page budget of 0 faults/s");
		return -EINVAL;
	}
	return 0;
}

static int hk_pg_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* The pages covering the regions, sorted, without duplicates. */
static int hk_pg_pages(struct hk_pgprot *pg, const struct hk_region *r, u32 nr)
{
	u32 n = 0, i, j;
	u64 a;

	for (i = 0; i < nr; i++)
		n += (PAGE_ALIGN(r[i].start + r[i].len) - (r[i].start & PAGE_MASK)) >>
		     PAGE_SHIFT;
	pg->pages = kvcalloc(n, sizeof(*pg->pages), GFP_KERNEL_ACCOUNT);
	if (!pg->pages)
		return -ENOMEM;
	n = 0;
	for (i = 0; i < nr; i++)
		for (a = r[i].start & PAGE_MASK; a < r[i].start + r[i].len;
		     a += PAGE_SIZE)
			pg->pages[n++] = a;
	sort(pg->pages, n, sizeof(*pg->pages), hk_pg_cmp, NULL);
	for (i = j = 0; i < n; i++)
		if (!j || pg->pages[j - 1] != pg->pages[i])
			pg->pages[j++] = pg->pages[i];
	pg->nr_pages = j;
	return 0;
}

/* Set @pg's armed count, keeping the module-wide counter in step. */
static void hk_pg_set_armed(struct hk_pgprot *pg, u32 armed)
{
	lockdep_assert_held(&pg->lock);
	hk_obj_add(HK_OBJ_ARMED_PAGES, (long)armed - (long)pg->armed_now);
	pg->armed_now = armed;
}

/**
 * hk_pgprot_tick - re-arm what the target's faults restored, within budget
 * Context: process (the session work, or attach); may sleep. No lock held.
 */
void hk_pgprot_tick(struct hk_session *s)
{
	struct hk_pgprot *pg = s->pg;
	struct hk_pg_pass p = { .budget = pg->budget_per_tick };

	mutex_lock(&pg->lock);
	if (pg->stopped || !mmget_not_zero(pg->mm))
		goto out;
	hk_pg_arch_pass(pg->mm, pg->pages, pg->nr_pages, pg->cursor, true, &p);
	mmput(pg->mm);
	if (p.deferred) {
		pg->cursor = (pg->cursor + p.first_deferred) % pg->nr_pages;
		atomic64_add(p.deferred, &s->throttled);
	}
	hk_pg_set_armed(pg, p.armed + p.still);
	pg->arms += p.armed;
	pg->passes++;
out:
	mutex_unlock(&pg->lock);
}

/**
 * hk_pgprot_start - arm the session's pages and start observing faults
 * Context: attach (process, may sleep), session on hk_sessions; no lock.
 */
int hk_pgprot_start(struct hk_session *s, struct task_struct *task,
		    struct netlink_ext_ack *extack)
{
	struct hk_pgprot *pg;
	struct mm_struct *mm;
	int ret;

	pg = kzalloc(sizeof(*pg), GFP_KERNEL_ACCOUNT);
	if (!pg)
		return -ENOMEM;
	mutex_init(&pg->lock);
	pg->s = s;
	ret = hk_pg_pages(pg, s->regions, s->nr_regions);
	if (ret)
		goto err_free;
	pg->budget_per_tick = max_t(u32, 1, DIV_ROUND_UP_ULL((u64)s->opts.page_budget *
							    HK_TICK_MS, 1000));
	mm = get_task_mm(task);
	if (!mm) {
		NL_SET_ERR_MSG_MOD(extack, "target has no address space");
		ret = -ESRCH;
		goto err_free;
	}
	mmgrab(mm);
	mmput(mm);
	pg->mm = mm;

	/*
	 * The target may exit while we attach: the end path sets the state
	 * under s->lock and only then looks at s->pg, so s->pg is published
	 * (and the probes see @pg) only while the session is live.
	 */
	mutex_lock(&s->lock);
	if (s->state != HK_S_LIVE) {
		mutex_unlock(&s->lock);
		NL_SET_ERR_MSG_MOD(extack, "target ended during attach");
		ret = -ESRCH;
		goto err_mm;
	}
	mutex_lock(&hk_pg_mutex);
	if (!hk_pg_users) {
		ret = hk_pg_arch_probes_register();
		if (ret) {
			mutex_unlock(&hk_pg_mutex);
			mutex_unlock(&s->lock);
			NL_SET_ERR_MSG_FMT_MOD(extack,
					       "cannot attach to the page fault tracepoints (%d)",
					       ret);
			goto err_mm;
		}
	}
	hk_pg_users++;
	list_add_tail_rcu(&pg->node, &hk_pg_list);
	mutex_unlock(&hk_pg_mutex);
	s->pg = pg;
	mutex_unlock(&s->lock);

	/* Armed when ATTACH returns (up to the budget). */
	hk_pgprot_tick(s);
	return 0;

err_mm:
	mmdrop(mm);
err_free:
	kvfree(pg->pages);
	kfree(pg);
	return ret;
}

/**
 * hk_pgprot_stop - stop observing and restore every armed page
 * Context: the end path after the session work is cancelled; process.
 */
void hk_pgprot_stop(struct hk_session *s)
{
	struct hk_pgprot *pg = s->pg;
	struct hk_pg_pass p = {}, check = {};

	mutex_lock(&hk_pg_mutex);
	list_del_rcu(&pg->node);
	if (!--hk_pg_users)
		hk_pg_arch_probes_unregister();
	mutex_unlock(&hk_pg_mutex);
	synchronize_rcu();

	mutex_lock(&pg->lock);
	pg->stopped = true;
	if (mmget_not_zero(pg->mm)) {
		hk_pg_arch_pass(pg->mm, pg->pages, pg->nr_pages, 0, false, &p);
		/* Count what is still armed: budget 0 arms nothing. */
		hk_pg_arch_pass(pg->mm, pg->pages, pg->nr_pages, 0, true, &check);
		mmput(pg->mm);
		if (check.still)
			pr_warn("session %u: %u entries still armed after restore\n",
				s->id, check.still);
	}
	/* With the address space gone, its page tables went with it. */
	hk_pg_set_armed(pg, check.still);
	mutex_unlock(&pg->lock);
}

/* Context: the session's free work. */
void hk_pgprot_free(struct hk_session *s)
{
	struct hk_pgprot *pg = s->pg;

	if (!pg)
		return;
	WARN_ON_ONCE(!pg->stopped);
	mmdrop(pg->mm);
	kvfree(pg->pages);
	kfree(pg);
}

void hk_pgprot_stats(struct hk_session *s, struct hk_pg_stats *st)
{
	struct hk_pgprot *pg = s->pg;

	memset(st, 0, sizeof(*st));
	if (!pg)
		return;
	mutex_lock(&pg->lock);
	st->pages = pg->nr_pages;
	st->armed = pg->armed_now;
	st->arms = pg->arms;
	st->passes = pg->passes;
	mutex_unlock(&pg->lock);
	st->uaccess = atomic64_read(&pg->uaccess);
}

static bool hk_pg_in_regions(const struct hk_session *s, unsigned long a)
{
	u32 i;

	for (i = 0; i < s->nr_regions; i++)
		if (a - s->regions[i].start < s->regions[i].len)
			return true;
	return false;
}

/**
 * hk_pgprot_fault - a fault of current at @address, about to be handled
 * @ip: user instruction pointer of the access (for @uaccess, of the
 *	syscall that made the kernel access user memory)
 * Context: the arch fault probe, IRQs off; must not sleep or allocate.
 */
void hk_pgprot_fault(unsigned long address, unsigned long ip, bool write,
		     bool uaccess)
{
	struct mm_struct *mm = current->mm;
	struct hk_pgprot *pg;

	if (!mm || list_empty(&hk_pg_list))
		return;
	rcu_read_lock();
	list_for_each_entry_rcu(pg, &hk_pg_list, node) {
		struct hk_session *s = pg->s;
		struct hk_record rec = {};

		if (pg->mm != mm)
			continue;
		if (!hk_pg_in_regions(s, address) ||
		    READ_ONCE(s->state) != HK_S_LIVE || atomic_read(&s->end_req))
			break;
		if (!write && s->opts.access == HK_ACCESS_W)
			break;
		atomic64_inc(&s->hits);
		if (uaccess)
			atomic64_inc(&pg->uaccess);
		rec.time_ns = ktime_get_mono_fast_ns();
		rec.ip = ip;
		rec.addr = address;
		rec.kind = write ? HK_KIND_W : HK_KIND_R;
		rec.flags = HK_REC_F_PAGE | (uaccess ? HK_REC_F_UACCESS : 0);
		rec.pid = s->tgid_ns;
		rec.tid = task_pid_nr_ns(current, s->pid_ns);
		rec.cpu = raw_smp_processor_id();
		hk_ring_push(&s->ring, &rec);
		break;
	}
	rcu_read_unlock();
}

int __init hk_pgprot_init(void)
{
	return hk_pg_arch_init();
}

void hk_pgprot_exit(void)
{
	WARN_ON_ONCE(hk_pg_users || !list_empty(&hk_pg_list));
	hk_pg_arch_exit();
}
