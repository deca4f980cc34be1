// SPDX-License-Identifier: GPL-2.0
/*
 * Two intervals over the same two locations in the same order are no
 * cycle: T1 writes x then y, T2 reads x then y, T3 writes x then y. Every
 * pair can reorder, every location races, and nothing is reported.
 */
#include "litmus.h"

int x, y, seen;

static void *t1(void *arg)
{
	x = 1;
	y = 1;
	return NULL;
}

static void *t2(void *arg)
{
	int a = x;
	int b = y;

	seen = a + b;
	return NULL;
}

static void *t3(void *arg)
{
	x = 2;
	y = 2;
	return NULL;
}

LITMUS_MAIN(t1, t2, t3)
