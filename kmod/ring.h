/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HK_RING_H
#define _HK_RING_H

#include <linux/spinlock.h>
#include <linux/types.h>

#include "uapi/hawkeyes.h"

/**
 * struct hk_ring - bounded FIFO of records of one session
 * @lock: protects every other field; taken by the watchpoint handler
 *	(exception context, IRQs off) and by the drain work, so a raw
 *	spinlock taken with IRQs saved
 * @buf: @cap preallocated records
 * @cap: capacity in records
 * @head: index of the oldest record
 * @count: records stored
 * @next_seq: sequence number of the next accepted hit
 * @lost: sequence numbers given out whose record was dropped (buffer
 *	full, or handed back as undeliverable with hk_ring_add_lost())
 */
struct hk_ring {
	raw_spinlock_t lock;
	struct hk_record *buf;
	u32 cap;
	u32 head;
	u32 count;
	u64 next_seq;
	u64 lost;
};

int hk_ring_init(struct hk_ring *r, u32 cap);
void hk_ring_free(struct hk_ring *r);
bool hk_ring_push(struct hk_ring *r, struct hk_record *rec);
u32 hk_ring_pop(struct hk_ring *r, struct hk_record *out, u32 max);
void hk_ring_add_lost(struct hk_ring *r, u64 n);
u64 hk_ring_lost(struct hk_ring *r);

#endif /* _HK_RING_H */
