// SPDX-License-Identifier: GPL-2.0
/*
 * MP fixed with full fences (mfence on x86, dmb ish on arm64): no finding.
 * (Release/acquire fences compile to nothing on x86 and GCC's TSan does
 * not instrument them: see mp_fence_relacq.c for that case.)
 */
#include <stdatomic.h>
#include "litmus.h"

int data, flag, seen;

static void *writer(void *arg)
{
	data = 42;		/* @data_w */
	atomic_thread_fence(memory_order_seq_cst);	/* @fence_w */
	flag = 1;		/* @flag_w */
	return NULL;
}

static void *reader(void *arg)
{
	int f = flag;		/* @flag_r */
	atomic_thread_fence(memory_order_seq_cst);	/* @fence_r */
	int d = data;		/* @data_r */

	seen = f * 100 + d;
	return NULL;
}

LITMUS_MAIN(writer, reader)
