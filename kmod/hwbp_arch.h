/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the generic watchpoint code needs to know about the architecture.
 * One implementation per architecture: hwbp_x86.c.
 */
#ifndef _HK_HWBP_ARCH_H
#define _HK_HWBP_ARCH_H

#include <linux/types.h>

/* Largest watchpoint length; lengths are powers of two, naturally aligned. */
u32 hk_arch_max_len(void);
/* HW_BREAKPOINT_* type for an enum hk_access, or 0 if not supported. */
int hk_arch_bp_type(u32 access);
/* enum hk_kind of a hit on a watchpoint armed with @access. */
u8 hk_arch_kind(u32 access);
/* HK_REC_F_* flags every record of this architecture carries. */
u32 hk_arch_record_flags(void);
/* Debug registers usable for data watchpoints per thread. */
u32 hk_arch_slots(void);

#endif /* _HK_HWBP_ARCH_H */
