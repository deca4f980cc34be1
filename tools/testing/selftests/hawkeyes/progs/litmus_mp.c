// SPDX-License-Identifier: GPL-2.0
/*
 * MP, message passing: the writer publishes data then flag, the reader
 * checks flag then data. TSO keeps both pairs in order; Arm may reorder
 * each pair. Outcome "stale": rounds where the reader saw the new flag but
 * older data (0 on x86 whatever the variant; possible on Arm for "plain").
 *
 *   plain   no barrier                                  -> MP finding
 *   fence   seq_cst fences (mfence on x86)              -> nothing
 *   relacq  _Atomic flag, release store / acquire load  -> MP, undecidable
 *           (x86 code is the same mov as plain)
 *   mutex   both sides in one pthread mutex             -> nothing
 *   spin    both sides in one xchg spinlock             -> nothing
 *   far     2000 instructions between the accesses      -> nothing
 */
#include <stdatomic.h>

#include "litmus.h"

int data, flag;
_Atomic int aflag;
long stale;
pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
_Atomic int spin;

static void *plain_w(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		WRITE_ONCE(data, i);		/* @data_w */
		WRITE_ONCE(flag, i);		/* @flag_w */
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *plain_r(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int f = READ_ONCE(flag);	/* @flag_r */
		int d = READ_ONCE(data);	/* @data_r */

		stale += d < f;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *fence_w(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		WRITE_ONCE(data, i);
		atomic_thread_fence(memory_order_seq_cst);
		WRITE_ONCE(flag, i);
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *fence_r(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int f = READ_ONCE(flag);
		int d;

		atomic_thread_fence(memory_order_seq_cst);
		d = READ_ONCE(data);
		stale += d < f;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *relacq_w(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		WRITE_ONCE(data, i);					/* @rdata_w */
		atomic_store_explicit(&aflag, i, memory_order_release);	/* @aflag_w */
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *relacq_r(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int f = atomic_load_explicit(&aflag, memory_order_acquire);	/* @aflag_r */
		int d = READ_ONCE(data);					/* @rdata_r */

		stale += d < f;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *mutex_w(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		pthread_mutex_lock(&lock);
		WRITE_ONCE(data, i);		/* @mdata_w */
		WRITE_ONCE(flag, i);		/* @mflag_w */
		pthread_mutex_unlock(&lock);
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *mutex_r(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int f, d;

		pthread_mutex_lock(&lock);
		f = READ_ONCE(flag);		/* @mflag_r */
		d = READ_ONCE(data);		/* @mdata_r */
		pthread_mutex_unlock(&lock);
		stale += d < f;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static inline __attribute__((always_inline)) void spin_lock(void)
{
	while (atomic_exchange_explicit(&spin, 1, memory_order_acquire))
		;
}

static inline __attribute__((always_inline)) void spin_unlock(void)
{
	atomic_store_explicit(&spin, 0, memory_order_release);
}

static void *spin_w(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		spin_lock();
		WRITE_ONCE(data, i);		/* @sdata_w */
		WRITE_ONCE(flag, i);		/* @sflag_w */
		spin_unlock();
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *spin_r(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int f, d;

		spin_lock();
		f = READ_ONCE(flag);		/* @sflag_r */
		d = READ_ONCE(data);		/* @sdata_r */
		spin_unlock();
		stale += d < f;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *far_w(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		WRITE_ONCE(data, i);
		LITMUS_FAR_APART();
		WRITE_ONCE(flag, i);
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *far_r(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int f = READ_ONCE(flag);
		int d;

		LITMUS_FAR_APART();
		d = READ_ONCE(data);
		stale += d < f;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void report(void)
{
	printf("outcome stale=%ld\n", stale);
}

LITMUS_MAIN(report,
	    { "plain", plain_w, plain_r },
	    { "fence", fence_w, fence_r },
	    { "relacq", relacq_w, relacq_r },
	    { "mutex", mutex_w, mutex_r },
	    { "spin", spin_w, spin_r },
	    { "far", far_w, far_r })
