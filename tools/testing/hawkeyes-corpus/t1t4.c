// SPDX-License-Identifier: GPL-2.0
/*
 * The Hawkeyes article's example: T1/T2 are MP over a and b. T3 reads b and
 * c inside one window, T4 writes c: T3's pair could reorder, but no thread
 * accesses the two in the opposite order, so it is harmless and must not
 * be reported.
 */
#include "litmus.h"

int a, b, c, seen2, seen3;

static void *t1(void *arg)
{
	a = 1;			/* @a_w */
	b = 1;			/* @b_w */
	return NULL;
}

static void *t2(void *arg)
{
	int rb = b;		/* @b_r2 */
	int ra = a;		/* @a_r2 */

	seen2 = rb * 10 + ra;
	return NULL;
}

static void *t3(void *arg)
{
	int rb = b;		/* @b_r3 */
	int rc = c;		/* @c_r3 */

	seen3 = rb * 10 + rc;
	return NULL;
}

static void *t4(void *arg)
{
	c = 1;			/* @c_w */
	return NULL;
}

LITMUS_MAIN(t1, t2, t3, t4)
