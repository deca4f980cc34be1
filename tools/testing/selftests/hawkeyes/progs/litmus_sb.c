// SPDX-License-Identifier: GPL-2.0
/*
 * SB, store buffering: each thread stores one variable, then loads the
 * other. x86 reorders this too (store->load), so it is reported as not a
 * porting bug, with a full barrier per side.
 *
 *   plain   no barrier                       -> SB finding, porting: false
 *   fence   seq_cst fence between (mfence)   -> nothing
 *   c11     _Atomic seq_cst (xchg on x86)    -> nothing: visible on x86
 *   mutex   both sides in one mutex          -> nothing
 *
 * Outcome "rounds": rounds both threads ran (how often both loads saw 0
 * depends on timing on x86 as well).
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
		int r;

		WRITE_ONCE(x, i);		/* @x_w */
		r = READ_ONCE(y);		/* @y_r */
		sum += r;
		rounds++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *plain_b(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int r;

		WRITE_ONCE(y, i);		/* @y_w */
		r = READ_ONCE(x);		/* @x_r */
		sum += r;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *fence_a(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int r;

		WRITE_ONCE(x, i);
		atomic_thread_fence(memory_order_seq_cst);
		r = READ_ONCE(y);
		sum += r;
		rounds++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *fence_b(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int r;

		WRITE_ONCE(y, i);
		atomic_thread_fence(memory_order_seq_cst);
		r = READ_ONCE(x);
		sum += r;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *c11_a(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int r;

		atomic_store(&ax, i);
		r = atomic_load(&ay);
		sum += r;
		rounds++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *c11_b(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int r;

		atomic_store(&ay, i);
		r = atomic_load(&ax);
		sum += r;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *mutex_a(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		pthread_mutex_lock(&lock);
		int r;

		WRITE_ONCE(x, i);
		r = READ_ONCE(y);
		sum += r;
		rounds++;
		pthread_mutex_unlock(&lock);
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *mutex_b(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		pthread_mutex_lock(&lock);
		int r;

		WRITE_ONCE(y, i);
		r = READ_ONCE(x);
		sum += r;
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
