/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HK_PGPROT_H
#define _HK_PGPROT_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>

struct hk_attach_req;
struct hk_session;
struct mm_struct;
struct netlink_ext_ack;
struct pt_regs;
struct task_struct;

/**
 * struct hk_pgprot - page mode state of one session
 * @node: on hk_pg_list (RCU) while the session is live; the fault probes
 *	walk that list
 * @s: the session (the session owns this struct)
 * @mm: the target's address space, mmgrab()bed; mmget_not_zero() around
 *	every pass, so a dead mm is never walked
 * @pages: page addresses covering the regions, sorted, unique
 * @nr_pages: their number
 * @budget_per_tick: entries a tick's pass may arm (fault budget / ticks)
 * @lock: serialises passes (the session work and the end path) and
 *	protects the fields below it
 * @cursor: first page of the next pass (passes rotate so the budget
 *	starves no page)
 * @armed_now: entries armed after the last pass (exact then; an upper
 *	bound until the next, as the target's faults restore entries)
 * @stopped: the disarm pass ran; no more passes
 */
struct hk_pgprot {
	struct list_head node;
	struct hk_session *s;
	struct mm_struct *mm;
	u64 *pages;
	u32 nr_pages;
	u32 budget_per_tick;

	struct mutex lock;
	u32 cursor;
	u32 armed_now;
	bool stopped;
	u64 passes;
	u64 arms;

	atomic64_t uaccess;		/* faults taken in the kernel (syscalls) */
};

struct hk_pg_stats {
	u32 pages, armed;
	u64 arms, passes, uaccess;
};

extern unsigned int hk_page_budget;

int hk_pgprot_check(struct hk_attach_req *req, struct netlink_ext_ack *extack);
int hk_pgprot_start(struct hk_session *s, struct task_struct *task,
		    struct netlink_ext_ack *extack);
void hk_pgprot_tick(struct hk_session *s);
void hk_pgprot_stop(struct hk_session *s);
void hk_pgprot_free(struct hk_session *s);
void hk_pgprot_stats(struct hk_session *s, struct hk_pg_stats *st);
int hk_pgprot_init(void);
void hk_pgprot_exit(void);

/* Called by the arch fault probe, IRQs off, for faults of any task. */
void hk_pgprot_fault(unsigned long address, unsigned long ip, bool write,
		     bool uaccess);

#endif /* _HK_PGPROT_H */
