// SPDX-License-Identifier: GPL-2.0
/*
 * Page-protection capture on x86-64: arm a page of another process by
 * turning its present PTE (or huge PMD) into a NUMA-hinting "protnone"
 * entry, the same entry the kernel's own NUMA balancing writes
 * (change_prot_numa()). The target's next access to the page faults; the
 * kernel itself (do_numa_page() / do_huge_pmd_numa_page()) restores the
 * entry and the instruction re-executes and completes. We only watch the
 * fault go by on the exceptions:page_fault_user and page_fault_kernel
 * tracepoints. Measured on Debian 6.1 and 6.12 in
 * /work/shared/notes/page-capture-feasibility.md and described in
 * Documentation/hawkeyes/capture.rst.
 *
 * Notes on locking (hk_pg_arch_pass()):
 * - mmap_read_lock(mm) for the whole pass: VMAs cannot change, page
 *   tables cannot be freed (munmap and mremap take the lock for write),
 *   khugepaged cannot collapse anon memory under us. The target's faults
 *   run concurrently (mmap read lock or, on 6.12, the per-VMA lock).
 * - Each PTE is changed under its page-table lock (apply_to_existing_
 *   page_range() takes it) with the ptep_modify_prot_start/commit
 *   protocol change_pte_range() uses; each huge PMD under pmd_lock().
 *   Concurrent faults revalidate the entry under the same lock.
 * - The TLB of every CPU is flushed before mmap_read_unlock(), as
 *   change_protection() does: flush_tlb_mm_range() is not exported, so
 *   on_each_cpu(__flush_tlb_all) it is (one flush per pass, not per page).
 * - Only the protection bits change: PFN, A/D, soft-dirty, uffd-wp, PAT
 *   and the encryption bit stay. The target's data are never touched.
 *
 * The probes run in exc_page_fault() before the fault is handled, IRQs
 * off, for every fault of every process: they only filter and hand over
 * to hk_pgprot_fault().
 */
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/sched/task_stack.h>
#include <linux/smp.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <linux/userfaultfd_k.h>
#include <asm/coco.h>
#include <asm/tlbflush.h>
#include <asm/trap_pf.h>

#include "pgprot.h"
#include "pgprot_arch.h"

/*
 * pte_modify()/pmd_modify() keep the confidential-computing bit through
 * _PAGE_CC, which reads the kernel's cc_mask; cc_mask is not exported.
 * This module's own copy is computed from the exported cc_mkdec(): the
 * bits cc_mkdec() clears. Zero outside SEV/TDX guests.
 */
u64 cc_mask;

/*
 * 6.1 keeps the write bit of a protnone entry ("savedwrite", read back by
 * do_numa_page()); 6.3 removed the concept and pte_savedwrite with it.
 */
#ifdef pte_savedwrite
#define HK_SAVEDWRITE	1
#else
#define HK_SAVEDWRITE	0
#endif

struct hk_pg_ctx {
	struct vm_area_struct *vma;
	u32 k;				/* offset of the page in the pass */
	struct hk_pg_pass *p;
	bool arm;
	bool flush;
};

/* Shadow stacks (6.6+) are Write=0,Dirty=1 entries: not ours to touch. */
#ifdef VM_SHADOW_STACK
#define HK_PG_NEVER	(VM_HUGETLB | VM_PFNMAP | VM_IO | VM_MIXEDMAP | VM_SHADOW_STACK)
#else
#define HK_PG_NEVER	(VM_HUGETLB | VM_PFNMAP | VM_IO | VM_MIXEDMAP)
#endif

/* May a page of @vma be armed (@arm) or restored? */
static bool hk_pg_vma_ok(struct vm_area_struct *vma, bool arm)
{
	if (vma->vm_flags & HK_PG_NEVER)
		return false;
	return !arm || (vma_is_accessible(vma) && !userfaultfd_armed(vma));
}

/* PTE callback of apply_to_existing_page_range(): PTL held. */
static int hk_pg_pte(pte_t *ptep, unsigned long addr, void *data)
{
	struct hk_pg_ctx *c = data;
	struct hk_pg_pass *p = c->p;
	pte_t old = ptep_get(ptep), new;

	if (c->arm) {
		/* Not present, the zero page, device memory: nothing to arm. */
		if (!pte_present(old) || pte_special(old) || pte_devmap(old)) {
			p->skipped++;
			return 0;
		}
		if (pte_protnone(old)) {
			p->still++;
			return 0;
		}
		if (!p->budget) {
			if (!p->deferred++)
				p->first_deferred = c->k;
			return 0;
		}
		old = ptep_modify_prot_start(c->vma, addr, ptep);
		new = pte_modify(old, PAGE_NONE);
#if HK_SAVEDWRITE
		/* What 6.1's do_numa_page() reads back as pte_savedwrite(). */
		if (pte_write(old))
			new = pte_mkwrite(new);
#endif
		ptep_modify_prot_commit(c->vma, addr, ptep, old, new);
		p->budget--;
		p->armed++;
		c->flush = true;
		return 0;
	}
	if (!pte_present(old) || !pte_protnone(old))
		return 0;
	/* As do_numa_page(); 6.12 makes it writable on the next write fault. */
	old = ptep_modify_prot_start(c->vma, addr, ptep);
	new = pte_modify(old, c->vma->vm_page_prot);
#if HK_SAVEDWRITE
	if (pte_write(old))
		new = pte_mkwrite(new);
#endif
	ptep_modify_prot_commit(c->vma, addr, ptep, old, new);
	p->restored++;
	return 0;
}

/* A huge PMD (anon or file THP): armed as a unit, under pmd_lock(). */
static void hk_pg_huge(struct hk_pg_ctx *c, struct mm_struct *mm, pmd_t *pmdp,
		       unsigned long haddr)
{
	struct hk_pg_pass *p = c->p;
	spinlock_t *ptl = pmd_lock(mm, pmdp);
	pmd_t old = *pmdp, new;

	if (!pmd_trans_huge(old) || pmd_devmap(old)) {
		p->skipped++;
		goto out;
	}
	if (c->arm) {
		if (pmd_protnone(old)) {
			p->still++;
			goto out;
		}
		/*
		 * The huge zero page is never dirty (nor is clean page cache):
		 * change_huge_pmd() skips the zero page, so do we.
		 */
		if (!pmd_dirty(old)) {
			p->skipped++;
			goto out;
		}
		if (!p->budget) {
			if (!p->deferred++)
				p->first_deferred = c->k;
			goto out;
		}
		/* change_huge_pmd(): invalidate first, keeping A/D bits. */
		old = pmdp_establish(c->vma, haddr, pmdp, pmd_mkinvalid(old));
		new = pmd_modify(old, PAGE_NONE);
#if HK_SAVEDWRITE
		if (pmd_write(old))
			new = pmd_mkwrite(new);
#endif
		set_pmd_at(mm, haddr, pmdp, new);
		p->budget--;
		p->armed++;
		p->huge++;
		c->flush = true;
		goto out;
	}
	if (!pmd_protnone(old))
		goto out;
	/* As do_huge_pmd_numa_page(): not present to present, no flush. */
	new = pmd_modify(old, c->vma->vm_page_prot);
#if HK_SAVEDWRITE
	if (pmd_write(old))
		new = pmd_mkwrite(new);
#endif
	set_pmd_at(mm, haddr, pmdp, new);
	p->restored++;
	p->huge++;
out:
	spin_unlock(ptl);
}

/* The PMD slot of @addr, or NULL; never clears a bad entry (unexported). */
static pmd_t *hk_pg_pmd(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	p4d_t *p4d;
	pud_t *pud, pudv;

	if (pgd_none(*pgd) || pgd_bad(*pgd))
		return NULL;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d) || p4d_bad(*p4d))
		return NULL;
	pud = pud_offset(p4d, addr);
	pudv = READ_ONCE(*pud);
	/* A PUD leaf is hugetlb or DAX: apply_to_page_range() would BUG. */
	if (pud_none(pudv) || pud_leaf(pudv) || pud_bad(pudv))
		return NULL;
	return pmd_offset(pud, addr);
}

static void hk_pg_flush_local(void *unused)
{
	__flush_tlb_all();
}

void hk_pg_arch_pass(struct mm_struct *mm, const u64 *pages, u32 nr, u32 first,
		     bool arm, struct hk_pg_pass *p)
{
	struct hk_pg_ctx c = { .p = p, .arm = arm };
	unsigned long last_huge = -1UL;
	u32 k;

	mmap_read_lock(mm);
	for (k = 0; k < nr; k++) {
		unsigned long a = pages[(first + k) % nr];
		struct vm_area_struct *vma = find_vma(mm, a);
		pmd_t *pmdp, pmdv;

		if (!vma || vma->vm_start > a || !hk_pg_vma_ok(vma, arm)) {
			p->skipped++;
			continue;
		}
		c.vma = vma;
		c.k = k;
		pmdp = hk_pg_pmd(mm, a);
		if (!pmdp) {
			p->skipped++;
			continue;
		}
		pmdv = READ_ONCE(*pmdp);
		if (pmd_none(pmdv)) {
			p->skipped++;
			continue;
		}
		if (pmd_trans_huge(pmdv) || pmd_devmap(pmdv)) {
			if ((a & HPAGE_PMD_MASK) != last_huge) {
				last_huge = a & HPAGE_PMD_MASK;
				hk_pg_huge(&c, mm, pmdp, last_huge);
			}
			continue;
		}
		/* A migration entry, or a table we must not interpret. */
		if (!pmd_present(pmdv) || pmd_bad(pmdv)) {
			p->skipped++;
			continue;
		}
		/*
		 * Never allocates (skips none slots); takes the PTL. The
		 * table can only have become huge meanwhile by a file/shmem
		 * collapse (no mmap_lock) and a fault: then it WARNs once
		 * and returns -EINVAL, changing nothing (see capture.rst).
		 */
		apply_to_existing_page_range(mm, a, PAGE_SIZE, hk_pg_pte, &c);
	}
	/* Before unlocking, as change_protection() does. */
	if (c.flush)
		on_each_cpu(hk_pg_flush_local, NULL, 1);
	mmap_read_unlock(mm);
}

/* ---- observing -------------------------------------------------------- */

/* Faults of ours are on not-present entries; skip fetches and reserved bits. */
#define HK_PF_SKIP	(X86_PF_PROT | X86_PF_INSTR | X86_PF_RSVD)

static void hk_pg_probe_user(void *data, unsigned long address,
			     struct pt_regs *regs, unsigned long error_code)
{
	if (error_code & HK_PF_SKIP)
		return;
	hk_pgprot_fault(address, regs->ip, error_code & X86_PF_WRITE, false);
}

/*
 * A uaccess of a syscall on behalf of the thread (copy_from_user() in
 * write(2) ...). The user ip is where the syscall was made. Faults that
 * will not be handled (nofault copies, atomic context) are not accesses.
 */
static void hk_pg_probe_kernel(void *data, unsigned long address,
			       struct pt_regs *regs, unsigned long error_code)
{
	if ((error_code & HK_PF_SKIP) || !current->mm || faulthandler_disabled() ||
	    address >= TASK_SIZE_MAX || (current->flags & PF_KTHREAD))
		return;
	hk_pgprot_fault(address, task_pt_regs(current)->ip,
			error_code & X86_PF_WRITE, true);
}

static struct {
	const char *name;
	void *probe;
	struct tracepoint *tp;
} hk_pg_tps[] = {
	{ .name = "page_fault_user", .probe = hk_pg_probe_user },
	{ .name = "page_fault_kernel", .probe = hk_pg_probe_kernel },
};

static void hk_pg_tp_lookup(struct tracepoint *tp, void *priv)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(hk_pg_tps); i++)
		if (!strcmp(tp->name, hk_pg_tps[i].name))
			hk_pg_tps[i].tp = tp;
}

int hk_pg_arch_probes_register(void)
{
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(hk_pg_tps); i++) {
		ret = tracepoint_probe_register(hk_pg_tps[i].tp, hk_pg_tps[i].probe,
						NULL);
		if (ret)
			goto err_unregister;
	}
	return 0;

err_unregister:
	while (--i >= 0)
		tracepoint_probe_unregister(hk_pg_tps[i].tp, hk_pg_tps[i].probe, NULL);
	tracepoint_synchronize_unregister();
	return ret;
}

void hk_pg_arch_probes_unregister(void)
{
	int i;

	for (i = ARRAY_SIZE(hk_pg_tps) - 1; i >= 0; i--)
		tracepoint_probe_unregister(hk_pg_tps[i].tp, hk_pg_tps[i].probe, NULL);
	tracepoint_synchronize_unregister();
}

bool hk_pg_arch_supported(void)
{
	return hk_pg_tps[0].tp && hk_pg_tps[1].tp;
}

int hk_pg_arch_init(void)
{
	int i;

	cc_mask = cc_mkdec(0) | ~cc_mkdec(~0ULL);
	for_each_kernel_tracepoint(hk_pg_tp_lookup, NULL);
	/* Not fatal: page mode is refused, watchpoints still work. */
	for (i = 0; i < ARRAY_SIZE(hk_pg_tps); i++)
		if (!hk_pg_tps[i].tp)
			pr_warn("tracepoint %s not found: page mode unavailable\n",
				hk_pg_tps[i].name);
	return 0;
}

void hk_pg_arch_exit(void)
{
}
