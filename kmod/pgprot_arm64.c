// SPDX-License-Identifier: GPL-2.0
/*
 * Page-protection capture is x86-64 only for now: arm64 would need its own
 * fault observer (no exceptions:page_fault_* tracepoints there) and a check
 * of its protnone and TLB maintenance paths on 6.1 and 6.12. ATTACH in
 * page mode is refused with an extack (hk_pgprot_check()).
 */
#include <linux/errno.h>

#include "pgprot_arch.h"

bool hk_pg_arch_supported(void)
{
	return false;
}

int hk_pg_arch_init(void)
{
	return 0;
}

void hk_pg_arch_exit(void)
{
}

void hk_pg_arch_pass(struct mm_struct *mm, const u64 *pages, u32 nr, u32 first,
		     bool arm, struct hk_pg_pass *p)
{
}

int hk_pg_arch_probes_register(void)
{
	return -EOPNOTSUPP;
}

void hk_pg_arch_probes_unregister(void)
{
}
