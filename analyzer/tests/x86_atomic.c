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

int main(void)
{
	return 0;
}
