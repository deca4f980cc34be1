// SPDX-License-Identifier: GPL-2.0
/*
 * SB with acq_rel fences: they order everything but a store before a
 * later load, which is exactly what SB needs. Still SB, with a full fence
 * as the fix.
 */
#include <stdatomic.h>
#include "litmus.h"

int x, y, r1, r2;

static void *t1(void *arg)
{
	x = 1;			/* @x_w */
	atomic_thread_fence(memory_order_acq_rel);
	r1 = y;			/* @y_r */
	return NULL;
}

static void *t2(void *arg)
{
	y = 1;			/* @y_w */
	atomic_thread_fence(memory_order_acq_rel);
	r2 = x;			/* @x_r */
	return NULL;
}

LITMUS_MAIN(t1, t2)
