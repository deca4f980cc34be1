// SPDX-License-Identifier: GPL-2.0
/*
 * Uninstrumented x86-64 code for test_stream: a plain MP pair, and one
 * whose flag is _Atomic (a seq_cst load is a plain mov on x86: only DWARF
 * says it is atomic). Volatile keeps the compiler from reordering the
 * plain loads, which would be a different program.
 */
#include <stdatomic.h>

int data, pflag, seen;
atomic_int aflag;

void writer_plain(void)
{
	*(volatile int *)&data = 1;
	*(volatile int *)&pflag = 1;
}

void reader_plain(void)
{
	int f = *(volatile int *)&pflag;
	int d = *(volatile int *)&data;

	seen = f + d;
}

void writer_atomic(void)
{
	*(volatile int *)&data = 1;
	aflag = 1;
}

void reader_atomic(void)
{
	int f = aflag;
	int d = *(volatile int *)&data;

	seen = f + d;
}

int rmw_add(void)
{
	return atomic_fetch_add(&aflag, 2);	/* lock xadd */
}

void fence_full(void)
{
	atomic_thread_fence(memory_order_seq_cst);	/* GCC 12: lock or [rsp], 0 */
}

void fence_mfence(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

int main(void)
{
	return 0;
}
