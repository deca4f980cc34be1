// SPDX-License-Identifier: GPL-2.0
/*
 * MP fixed with release/acquire fences. On x86 these fences are no
 * instruction at all, but GCC's TSan build calls
 * __tsan_atomic_thread_fence(memory_order) for them (its runtime ignores
 * fences for happens-before, so both races are still reported): the
 * analyzer reads the memory order there and reports nothing. The arm64
 * build shows dmb ish / dmb ishld at the fence lines (test_code checks).
 */
#include <stdatomic.h>
#include "litmus.h"

int data, flag, seen;

static void *writer(void *arg)
{
	data = 42;		/* @data_w */
	atomic_thread_fence(memory_order_release);	/* @fence_w */
	flag = 1;		/* @flag_w */
	return NULL;
}

static void *reader(void *arg)
{
	int f = flag;		/* @flag_r */
	atomic_thread_fence(memory_order_acquire);	/* @fence_r */
	int d = data;		/* @data_r */

	seen = f * 100 + d;
	return NULL;
}

LITMUS_MAIN(writer, reader)
