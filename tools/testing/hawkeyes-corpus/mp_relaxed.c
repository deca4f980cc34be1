// SPDX-License-Identifier: GPL-2.0
/*
 * The writer publishes with a relaxed atomic store: atomic, but no order.
 * The analyzer must read memory_order_relaxed from the TSan call and report
 * MP with release on the writer's side.
 */
#include <stdatomic.h>
#include "litmus.h"

int data, seen;
atomic_int flag;

static void *writer(void *arg)
{
	data = 42;		/* @data_w */
	atomic_store_explicit(&flag, 1, memory_order_relaxed);	/* @flag_w */
	return NULL;
}

static void *reader(void *arg)
{
	int f = *(volatile int *)&flag;	/* @flag_r */
	int d = data;		/* @data_r */

	seen = f * 100 + d;
	return NULL;
}

LITMUS_MAIN(writer, reader)
