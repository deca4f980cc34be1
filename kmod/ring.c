// SPDX-License-Identifier: GPL-2.0
/*
 * Record buffering: one bounded ring per session, filled by the watchpoint
 * handler, emptied by the session's drain work.
 *
 * Notes on locking:
 * - hk_ring.lock (raw spinlock, IRQ-safe) protects the whole ring. The
 *   handler runs in the #DB exception with IRQs off and takes it too, so
 *   everyone else uses the _irqsave form. Critical sections copy at most
 *   HK_RECORDS_PER_MSG records and never allocate or sleep.
 * - The buffer is allocated before the session goes live and freed after
 *   the last watchpoint is unregistered, so the handler never sees it
 *   change.
 *
 * Every accepted hit gets the next sequence number under the lock, also
 * when it is dropped because the ring is full; a dropped record is counted
 * in @lost. So the consumer sees loss exactly as gaps in the sequence.
 */
#include <linux/slab.h>
#include <linux/mm.h>

#include "objects.h"
#include "ring.h"

int hk_ring_init(struct hk_ring *r, u32 cap)
{
	raw_spin_lock_init(&r->lock);
	r->buf = kvcalloc(cap, sizeof(*r->buf), GFP_KERNEL_ACCOUNT);
	if (!r->buf)
		return -ENOMEM;
	r->cap = cap;
	r->head = 0;
	r->count = 0;
	r->next_seq = 0;
	r->lost = 0;
	hk_obj_add(HK_OBJ_BUFFERS, 1);
	hk_obj_add(HK_OBJ_BUFFER_BYTES, (long)cap * sizeof(*r->buf));
	return 0;
}

void hk_ring_free(struct hk_ring *r)
{
	if (!r->buf)
		return;
	kvfree(r->buf);
	r->buf = NULL;
	hk_obj_add(HK_OBJ_BUFFERS, -1);
	hk_obj_add(HK_OBJ_BUFFER_BYTES, -(long)r->cap * sizeof(struct hk_record));
}

/**
 * hk_ring_push - store one record, giving it the next sequence number
 * @r: the ring
 * @rec: record to copy in; its @seq is filled here
 *
 * Context: any, including the watchpoint handler (IRQs off). Never sleeps.
 * Return: true if stored, false if the ring was full (counted as lost).
 */
bool hk_ring_push(struct hk_ring *r, struct hk_record *rec)
{
	unsigned long flags;
	bool stored = false;

	raw_spin_lock_irqsave(&r->lock, flags);
	rec->seq = r->next_seq++;
	if (r->count < r->cap) {
		u32 tail = r->head + r->count;

		if (tail >= r->cap)
			tail -= r->cap;
		r->buf[tail] = *rec;
		r->count++;
		stored = true;
	} else {
		r->lost++;
	}
	raw_spin_unlock_irqrestore(&r->lock, flags);
	return stored;
}

/**
 * hk_ring_pop - take up to @max oldest records out of the ring
 * @r: the ring
 * @out: room for @max records
 * @max: records wanted
 * Context: process (the drain work). Return: records copied to @out.
 */
u32 hk_ring_pop(struct hk_ring *r, struct hk_record *out, u32 max)
{
	unsigned long flags;
	u32 n, i;

	raw_spin_lock_irqsave(&r->lock, flags);
	n = min(max, r->count);
	for (i = 0; i < n; i++) {
		out[i] = r->buf[r->head];
		if (++r->head == r->cap)
			r->head = 0;
	}
	r->count -= n;
	raw_spin_unlock_irqrestore(&r->lock, flags);
	return n;
}

/* Records taken out but never delivered count as lost too. */
void hk_ring_add_lost(struct hk_ring *r, u64 n)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&r->lock, flags);
	r->lost += n;
	raw_spin_unlock_irqrestore(&r->lock, flags);
}

u64 hk_ring_lost(struct hk_ring *r)
{
	unsigned long flags;
	u64 lost;

	raw_spin_lock_irqsave(&r->lock, flags);
	lost = r->lost;
	raw_spin_unlock_irqrestore(&r->lock, flags);
	return lost;
}
