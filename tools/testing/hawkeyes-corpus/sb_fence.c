// SPDX-License-Identifier: GPL-2.0
/* SB with a seq_cst fence between the store and the load: no finding. */
#include <stdatomic.h>
#include "litmus.h"

int x, y, r1, r2;

static void *t1(void *arg)
{
	x = 1;			/* @x_w */
	atomic_thread_fence(memory_order_seq_cst);
	r1 = y;			/* @y_r */
	return NULL;
}

static void *t2(void *arg)
{
	y = 1;			/* @y_w */
	atomic_thread_fence(memory_order_seq_cst);
	r2 = x;			/* @x_r */
	return NULL;
}

LITMUS_MAIN(t1, t2)
