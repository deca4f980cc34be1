// SPDX-License-Identifier: GPL-2.0
/*
 * A single-producer single-consumer lock-free ring in the style of DPDK's
 * rte_ring (head and tail on their own cache lines), written for x86
 * without any barrier. On Arm the consumer can read a slot before the
 * producer's store to it is visible (MP over slot and head), and the
 * producer can overwrite a slot the consumer has not read yet (LB over
 * tail and slot).
 *
 * Slots are accessed with READ_ONCE/WRITE_ONCE so that the compiler keeps
 * the source order (a plain slot load may be moved after the tail store,
 * which breaks the ring on x86 too).
 *
 * Outcome "sum": the sum of every item dequeued, which a correct ring
 * makes exactly ITERS * (ITERS - 1) / 2, watched or not.
 */
#include "litmus.h"

#define RING_SIZE	4	/* 16 bytes of slots: two watchpoint units */

unsigned int ring_head __attribute__((aligned(64)));
unsigned int ring_tail __attribute__((aligned(64)));
int ring_slot[RING_SIZE] __attribute__((aligned(64)));
long sum;

static int ring_enqueue(int v)
{
	unsigned int h = READ_ONCE(ring_head);

	if (h - READ_ONCE(ring_tail) == RING_SIZE)	/* @tail_r */
		return -1;
	WRITE_ONCE(ring_slot[h % RING_SIZE], v);	/* @slot_w */
	WRITE_ONCE(ring_head, h + 1);			/* @head_w */
	return 0;
}

static int ring_dequeue(int *v)
{
	unsigned int t = READ_ONCE(ring_tail);

	if (READ_ONCE(ring_head) == t)			/* @head_r */
		return -1;
	*v = READ_ONCE(ring_slot[t % RING_SIZE]);	/* @slot_r */
	WRITE_ONCE(ring_tail, t + 1);			/* @tail_w */
	return 0;
}

static void *producer(void *arg)
{
	for (long i = 0; i < litmus_iters; i++)
		while (ring_enqueue(i))
			;
	return NULL;
}

static void *consumer(void *arg)
{
	int v;

	for (long i = 0; i < litmus_iters; i++) {
		while (ring_dequeue(&v))
			;
		sum += v;
	}
	return NULL;
}

static void report(void)
{
	printf("outcome sum=%ld\n", sum);
}

LITMUS_MAIN(report, { "plain", producer, consumer })
