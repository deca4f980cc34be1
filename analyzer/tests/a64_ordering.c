// SPDX-License-Identifier: GPL-2.0
/*
 * AArch64 ordering instructions, one per marked line, for test_code.
 * Built three ways by the Makefile: -march=armv8-a -mno-outline-atomics
 * (exclusives), -march=armv8-a (outline atomics) and -march=armv8.3-a (LSE,
 * RCpc). The asm lines pin instructions GCC 12 would not pick itself.
 */
#include <stdatomic.h>

atomic_int x;
int y, z;

int a64_acquire(void)
{
	return atomic_load_explicit(&x, memory_order_acquire);	/* @ldar */
}

void a64_release(void)
{
	atomic_store_explicit(&x, 1, memory_order_release);	/* @stlr */
}

int a64_exchange(void)
{
	return atomic_exchange(&x, 2);	/* @xchg */
}

int a64_cas(void)
{
	int e = 0;

	return atomic_compare_exchange_strong(&x, &e, 1);	/* @cas */
}

int a64_fetch_add_relaxed(void)
{
	return atomic_fetch_add_explicit(&x, 1, memory_order_relaxed);	/* @add_relaxed */
}

void a64_fences(void)
{
	y = 1;
	__asm__ volatile("dmb ishst" ::: "memory");	/* @dmb_ishst */
	z = 1;
	__asm__ volatile("dmb ishld" ::: "memory");	/* @dmb_ishld */
	y = 2;
	__asm__ volatile("dmb ish" ::: "memory");	/* @dmb_ish */
	z = 2;
}

#ifdef A64_RCPC
int a64_ldapr(void)
{
	int v;

	__asm__ volatile("ldapr %w0, [%1]" : "=r"(v) : "r"(&y) : "memory");	/* @ldapr */
	return v;
}
#endif

int a64_plain(int k)
{
	int v;

	y = 3;		/* @plain_w */
	v = z;		/* @plain_r */
	return v * k;
}
