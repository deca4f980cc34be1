// SPDX-License-Identifier: GPL-2.0
/* SB: store buffering; x86 reorders this too, so it is not a porting bug. */
#include "litmus.h"

int x, y, r1, r2;

static void *t1(void *arg)
{
	x = 1;			/* @x_w */
	r1 = y;			/* @y_r */
	return NULL;
}

static void *t2(void *arg)
{
	y = 1;			/* @y_w */
	r2 = x;			/* @x_r */
	return NULL;
}

LITMUS_MAIN(t1, t2)
