// SPDX-License-Identifier: GPL-2.0
/* S: a store pair against a load-then-store pair. */
#include "litmus.h"

int x, y, r;

static void *t1(void *arg)
{
	x = 2;			/* @x_w1 */
	y = 1;			/* @y_w */
	return NULL;
}

static void *t2(void *arg)
{
	int a = y;		/* @y_r */
	x = 1;			/* @x_w2 */
	r = a;
	return NULL;
}

LITMUS_MAIN(t1, t2)
