// SPDX-License-Identifier: GPL-2.0
/*
 * 2+2W: two store pairs in opposite orders. TSO keeps W->W; Arm does not.
 *
 *   plain   no barrier                       -> 2+2W finding
 *   fence   seq_cst fence between (mfence)   -> nothing
 *   c11     _Atomic, release stores          -> 2+2W, undecidable (plain mov)
 *   mutex   both sides in one mutex          -> nothing
 *
 * Outcome "rounds": rounds both threads ran.
 */
#include <stdatomic.h>

#include "litmus.h"

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
_Atomic int ax, ay;

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

static void *c11_a(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		atomic_store_explicit(&ax, 2 * i, memory_order_relaxed);	/* @ax_w1 */
		atomic_store_explicit(&ay, 2 * i, memory_order_release);	/* @ay_w1 */
		rounds_a++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *c11_b(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		atomic_store_explicit(&ay, 2 * i + 1, memory_order_relaxed);	/* @ay_w2 */
		atomic_store_explicit(&ax, 2 * i + 1, memory_order_release);	/* @ax_w2 */
		rounds_b++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *mutex_a(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		pthread_mutex_lock(&lock);
		WRITE_ONCE(x, 2 * i);
		WRITE_ONCE(y, 2 * i);
		rounds_a++;
		pthread_mutex_unlock(&lock);
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *mutex_b(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		pthread_mutex_lock(&lock);
		WRITE_ONCE(y, 2 * i + 1);
		WRITE_ONCE(x, 2 * i + 1);
		rounds_b++;
		pthread_mutex_unlock(&lock);
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void report(void)
{
	printf("outcome rounds=%ld\n", rounds_a + rounds_b);
}

LITMUS_MAIN(report, { "plain", plain_a, plain_b }, { "fence", fence_a, fence_b },
	    { "c11", c11_a, c11_b }, { "mutex", mutex_a, mutex_b })
