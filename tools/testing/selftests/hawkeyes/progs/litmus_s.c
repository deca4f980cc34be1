// SPDX-License-Identifier: GPL-2.0
/*
 * S: one thread stores x then y, the other loads y then stores x. TSO
 * keeps both W->W and R->W; Arm keeps neither.
 *
 *   plain   no barrier                       -> S finding
 *   fence   seq_cst fence between (mfence)   -> nothing
 *   c11     _Atomic, release/acquire         -> S, undecidable (plain mov)
 *   mutex   both sides in one mutex          -> nothing
 *
 * Outcome "rounds": rounds both threads ran.
 */
#include <stdatomic.h>

#include "litmus.h"

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
_Atomic int ax, ay;

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

static void *c11_a(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		atomic_store_explicit(&ax, 2 * i, memory_order_relaxed);	/* @ax_w1 */
		atomic_store_explicit(&ay, i, memory_order_release);		/* @ay_w */
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *c11_b(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int r = atomic_load_explicit(&ay, memory_order_acquire);	/* @ay_r */

		atomic_store_explicit(&ax, 2 * i + 1, memory_order_relaxed);	/* @ax_w2 */
		sum += r;
		rounds++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *mutex_a(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		pthread_mutex_lock(&lock);
		WRITE_ONCE(x, 2 * i);
		WRITE_ONCE(y, i);
		pthread_mutex_unlock(&lock);
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *mutex_b(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		pthread_mutex_lock(&lock);
		int r = READ_ONCE(y);

		WRITE_ONCE(x, 2 * i + 1);
		sum += r;
		rounds++;
		pthread_mutex_unlock(&lock);
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void report(void)
{
	printf("outcome rounds=%ld\n", rounds);
}

LITMUS_MAIN(report, { "plain", plain_a, plain_b }, { "fence", fence_a, fence_b },
	    { "c11", c11_a, c11_b }, { "mutex", mutex_a, mutex_b })
