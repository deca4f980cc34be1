// SPDX-License-Identifier: GPL-2.0
/*
 * S: one thread stores x then y, the other loads y then stores x. TSO
 * keeps both W->W and R->W; Arm keeps neither.
 *
 *   plain   no barrier                       -> S finding
 *   fence   seq_cst fence between (mfence)   -> nothing
 *
 * Outcome "rounds": rounds both threads ran.
 */
#include <stdatomic.h>

#include "litmus.h"

int x, y;
long rounds, sum;

static void *plain_a(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		WRITE_ONCE(x, 2 * i);		/* @x_w1 */
		WRITE_ONCE(y, i);		/* @y_w */
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *plain_b(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int r = READ_ONCE(y);		/* @y_r */

		WRITE_ONCE(x, 2 * i + 1);	/* @x_w2 */
		sum += r;
		rounds++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *fence_a(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		WRITE_ONCE(x, 2 * i);
		atomic_thread_fence(memory_order_seq_cst);
		WRITE_ONCE(y, i);
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *fence_b(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int r = READ_ONCE(y);

		atomic_thread_fence(memory_order_seq_cst);
		WRITE_ONCE(x, 2 * i + 1);
		sum += r;
		rounds++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void report(void)
{
	printf("outcome rounds=%ld\n", rounds);
}

LITMUS_MAIN(report, { "plain", plain_a, plain_b }, { "fence", fence_a, fence_b })
