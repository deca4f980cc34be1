/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page-protection capture, the architecture half: how a page of another
 * process is armed (made to fault on its next access) and restored, and
 * how a fault is observed. x86-64 only for now (pgprot_x86.c); other
 * architectures refuse page mode (pgprot_arm64.c).
 */
#ifndef _HK_PGPROT_ARCH_H
#define _HK_PGPROT_ARCH_H

#include <linux/types.h>

struct mm_struct;

/**
 * struct hk_pg_pass - what one walk over a session's pages did
 * @budget: in: entries the pass may arm (the rest are counted @deferred)
 * @armed: entries (PTEs or huge PMDs) armed by this pass
 * @still: entries found still armed from an earlier pass
 * @deferred: entries that needed arming, left for a later pass (budget)
 * @restored: entries restored by a disarm pass
 * @huge: huge PMDs armed or restored (counted in @armed/@restored too)
 * @first_deferred: offset (from the pass's first page) of the first page
 *	deferred; the next pass starts there so the budget starves no page
 * @skipped: pages skipped: unmapped, not present, special (zero page),
 *	or in a VMA page mode does not touch (hugetlb, PFNMAP, IO, MIXEDMAP,
 *	userfaultfd, inaccessible)
 */
struct hk_pg_pass {
	u32 budget;
	u32 armed;
	u32 still;
	u32 deferred;
	u32 first_deferred;
	u32 restored;
	u32 huge;
	u32 skipped;
};

/* Is page mode available on this machine? */
bool hk_pg_arch_supported(void);
int hk_pg_arch_init(void);
void hk_pg_arch_exit(void);

/*
 * One pass over @nr page addresses (sorted, page aligned) of @mm, starting
 * at index @first: arm (@arm) or restore every entry. The caller holds a
 * reference on mm_users. Context: process, may sleep; takes mmap_read_lock.
 */
void hk_pg_arch_pass(struct mm_struct *mm, const u64 *pages, u32 nr, u32 first,
		     bool arm, struct hk_pg_pass *p);

/* Attach/detach the fault observers (tracepoints). Context: process. */
int hk_pg_arch_probes_register(void);
void hk_pg_arch_probes_unregister(void);

#endif /* _HK_PGPROT_ARCH_H */
