// SPDX-License-Identifier: GPL-2.0
/* LB: load buffering: each thread loads, then stores what the other loads. */
#include "litmus.h"

int x, y, r1, r2;

static void *t1(void *arg)
{
	int a = x;		/* @x_r */
	y = 1;			/* @y_w */
	r1 = a;
	return NULL;
}

static void *t2(void *arg)
{
	int b = y;		/* @y_r */
	x = 1;			/* @x_w */
	r2 = b;
	return NULL;
}

LITMUS_MAIN(t1, t2)
