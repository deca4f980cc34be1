// SPDX-License-Identifier: GPL-2.0
/*
 * MP fixed with a release store and an acquire load: TSan sees the
 * happens-before edge and reports nothing, and nothing is reported.
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
	int f = atomic_load_explicit(&flag, memory_order_acquire);	/* @flag_r */
	int d = f ? data : 0;	/* @data_r */

	seen = f * 100 + d;
	return NULL;
}

LITMUS_MAIN(writer, reader)
