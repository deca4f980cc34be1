// SPDX-License-Identifier: GPL-2.0
/*
 * LB, load buffering: each thread loads one variable, then stores the
 * other. TSO never moves a store before an earlier load; Arm may.
 *
 *   plain   no barrier                       -> LB finding
 *   fence   seq_cst fence between (mfence)   -> nothing
 *   c11     _Atomic, release stores          -> LB, undecidable (plain mov)
 *   mutex   both sides in one mutex          -> nothing
 *
 * Outcome "cycles": rounds i of A and j of B that saw each other's later
 * store (A's load in round i read B's round j or later, and B's load in
 * round j read A's round i or later): the LB outcome, forbidden by TSO,
 * so 0 on x86 watched or not. "rounds": rounds both threads ran.
 */
#include <stdatomic.h>

#include "litmus.h"

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
_Atomic int ax, ay;

int x, y;
long rounds_a, rounds_b, sum_a, sum_b;
int *seen_a, *seen_b;	/* per round: the value each thread loaded */

static void *plain_a(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int r = READ_ONCE(x);		/* @x_r */

		WRITE_ONCE(y, i);		/* @y_w */
		sum_a += r;
		seen_a[i] = r;
		rounds_a++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *plain_b(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int r = READ_ONCE(y);		/* @y_r */

		WRITE_ONCE(x, i);		/* @x_w */
		sum_b += r;
		seen_b[i] = r;
		rounds_b++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *fence_a(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int r = READ_ONCE(x);

		atomic_thread_fence(memory_order_seq_cst);
		WRITE_ONCE(y, i);
		sum_a += r;
		seen_a[i] = r;
		rounds_a++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *fence_b(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int r = READ_ONCE(y);

		atomic_thread_fence(memory_order_seq_cst);
		WRITE_ONCE(x, i);
		sum_b += r;
		seen_b[i] = r;
		rounds_b++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *c11_a(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int r = atomic_load_explicit(&ax, memory_order_relaxed);	/* @ax_r */

		atomic_store_explicit(&ay, i, memory_order_release);		/* @ay_w */
		sum_a += r;
		seen_a[i] = r;
		rounds_a++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *c11_b(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int r = atomic_load_explicit(&ay, memory_order_relaxed);	/* @ay_r */

		atomic_store_explicit(&ax, i, memory_order_release);		/* @ax_w */
		sum_b += r;
		seen_b[i] = r;
		rounds_b++;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *mutex_a(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		pthread_mutex_lock(&lock);
		int r = READ_ONCE(x);

		WRITE_ONCE(y, i);
		sum_a += r;
		seen_a[i] = r;
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
		int r = READ_ONCE(y);

		WRITE_ONCE(x, i);
		sum_b += r;
		seen_b[i] = r;
		rounds_b++;
		pthread_mutex_unlock(&lock);
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void report(void)
{
	long i, cycles = 0;

	for (i = 1; i <= litmus_iters; i++) {
		long j = seen_a[i];	/* A in round i saw B's store of round j */

		if (j > 0 && j <= litmus_iters && seen_b[j] >= i)
			cycles++;
	}
	printf("outcome rounds=%ld cycles=%ld\n", rounds_a + rounds_b, cycles);
}

static void setup(void)
{
	seen_a = calloc(litmus_iters + 1, sizeof(*seen_a));
	seen_b = calloc(litmus_iters + 1, sizeof(*seen_b));
	if (!seen_a || !seen_b)
		exit(2);
}

LITMUS_MAIN_SETUP(setup, report, { "plain", plain_a, plain_b }, { "fence", fence_a, fence_b },
	    { "c11", c11_a, c11_b }, { "mutex", mutex_a, mutex_b })
