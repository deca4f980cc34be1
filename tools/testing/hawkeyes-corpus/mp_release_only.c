// SPDX-License-Identifier: GPL-2.0
/*
 * The writer publishes with a release store, the reader reads the flag
 * plainly: TSan reports both locations, but the writer's side is ordered
 * (the analyzer must see memory_order_release in the __tsan_atomic32_store
 * call), so there is no cycle and no finding.
 */
#include <stdatomic.h>
#include "litmus.h"

int data, seen;
atomic_int flag;

static void *writer(void *arg)
{
	data = 42;		/* @data_w */
	atomic_store_explicit(&flag, 1, memory_order_release);	/* @flag_w */
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
