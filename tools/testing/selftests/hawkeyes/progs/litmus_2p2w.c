// SPDX-License-Identifier: GPL-2.0
/*
 * 2+2W: two store pairs in opposite orders. TSO keeps W->W; Arm does not.
 *
 *   plain   no barrier                       -> 2+2W finding
 *   fence   seq_cst fence between (mfence)   -> nothing
 *
 * Outcome "rounds": rounds both threads ran.
 */
#include <stdatomic.h>

#include "litmus.h"

int x, y;
long rounds_a, rounds_b;

static void *plain_a(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		WRITE_ONCE(x, 2 * i);		/* @x_w1 */
		WRITE_ONCE(y, 2 * i);		/* @y_w1 */
		rounds_a++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *plain_b(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		WRITE_ONCE(y, 2 * i + 1);	/* @y_w2 */
		WRITE_ONCE(x, 2 * i + 1);	/* @x_w2 */
		rounds_b++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *fence_a(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		WRITE_ONCE(x, 2 * i);
		atomic_thread_fence(memory_order_seq_cst);
		WRITE_ONCE(y, 2 * i);
		rounds_a++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *fence_b(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		WRITE_ONCE(y, 2 * i + 1);
		atomic_thread_fence(memory_order_seq_cst);
		WRITE_ONCE(x, 2 * i + 1);
		rounds_b++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void report(void)
{
	printf("outcome rounds=%ld\n", rounds_a + rounds_b);
}

LITMUS_MAIN(report, { "plain", plain_a, plain_b }, { "fence", fence_a, fence_b })
