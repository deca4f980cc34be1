// SPDX-License-Identifier: GPL-2.0
/*
 * Cross-function case: the writer publishes through helpers in another
 * file (not inlined), once through two helpers and once through one
 * helper called twice. The analyzer meets the two accesses in the common
 * caller through TSan's stacks: MP twice, the writer's sides in xf_util.c.
 */
#include "litmus.h"
#include "xf_util.h"

int xf_data, xf_flag, xf_data2, xf_flag2, xf_seen;

static void *writer(void *arg)
{
	xf_store_data(42);	/* @call_data */
	xf_store_flag();	/* @call_flag */
	xf_set(&xf_data2, 7);	/* @call_set1 */
	xf_set(&xf_flag2, 1);	/* @call_set2 */
	return NULL;
}

static void *reader(void *arg)
{
	int f = xf_flag;	/* @xf_flag_r */
	int d = xf_data;	/* @xf_data_r */
	int f2 = xf_flag2;	/* @xf_flag2_r */
	int d2 = xf_data2;	/* @xf_data2_r */

	xf_seen = f + d + f2 + d2;
	return NULL;
}

LITMUS_MAIN(writer, reader)
