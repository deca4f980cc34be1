// SPDX-License-Identifier: GPL-2.0
/*
 * A single-producer single-consumer lock-free ring in the style of DPDK's
 * rte_ring, written for x86 without any barrier. On Arm the consumer can
 * read a slot before the producer's store to it is visible (MP over slot
 * and head), and the producer can overwrite a slot the consumer has not
 * read yet (LB over tail and slot).
 */
#include "litmus.h"

/* like rte_ring's volatile head/tail: forces a load per poll, orders nothing */
#define READ_ONCE(x)		(*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))

#define RING_SIZE	64
#define ITEMS		200

struct ring {
	unsigned int head, tail;
	int slot[RING_SIZE];
} ring;

long sum;

static int ring_enqueue(struct ring *r, int v)
{
	unsigned int h = READ_ONCE(r->head);

	if (h - READ_ONCE(r->tail) == RING_SIZE)	/* @tail_r */
		return -1;
	r->slot[h % RING_SIZE] = v;		/* @slot_w */
	WRITE_ONCE(r->head, h + 1);		/* @head_w */
	return 0;
}

static int ring_dequeue(struct ring *r, int *v)
{
	unsigned int t = READ_ONCE(r->tail);

	if (READ_ONCE(r->head) == t)		/* @head_r */
		return -1;
	*v = r->slot[t % RING_SIZE];		/* @slot_r */
	WRITE_ONCE(r->tail, t + 1);		/* @tail_w */
	return 0;
}

static void *producer(void *arg)
{
	int i;

	for (i = 0; i < ITEMS; i++)
		while (ring_enqueue(&ring, i))
			;
	return NULL;
}

static void *consumer(void *arg)
{
	int i, v;

	for (i = 0; i < ITEMS; i++) {
		while (ring_dequeue(&ring, &v))
			;
		sum += v;
	}
	return NULL;
}

LITMUS_MAIN(producer, consumer)
