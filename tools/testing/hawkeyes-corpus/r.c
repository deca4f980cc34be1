// SPDX-License-Identifier: GPL-2.0
/* R: a store pair against a store-then-load pair; x86 allows it too. */
#include "litmus.h"

int x, y, r;

static void *t1(void *arg)
{
	x = 1;			/* @x_w */
	y = 1;			/* @y_w1 */
	return NULL;
}

static void *t2(void *arg)
{
	y = 2;			/* @y_w2 */
	r = x;			/* @x_r */
	return NULL;
}

LITMUS_MAIN(t1, t2)
