// SPDX-License-Identifier: GPL-2.0
/* 2+2W: two store pairs in opposite orders. */
#include "litmus.h"

int x, y;

static void *t1(void *arg)
{
	x = 1;			/* @x_w1 */
	y = 2;			/* @y_w1 */
	return NULL;
}

static void *t2(void *arg)
{
	y = 1;			/* @y_w2 */
	x = 2;			/* @x_w2 */
	return NULL;
}

LITMUS_MAIN(t1, t2)
