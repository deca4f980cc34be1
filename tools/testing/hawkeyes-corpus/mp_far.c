// SPDX-License-Identifier: GPL-2.0
/*
 * MP whose two stores are 2000 instructions apart: farther than any
 * reorder window, so no finding (the pair is counted as dropped_by_window).
 */
#include "litmus.h"

int data, flag, seen;

static void *writer(void *arg)
{
	data = 42;		/* @data_w */
	LITMUS_FAR_APART();
	flag = 1;		/* @flag_w */
	return NULL;
}

static void *reader(void *arg)
{
	int f = flag;		/* @flag_r */
	LITMUS_FAR_APART();
	int d = data;		/* @data_r */

	seen = f * 100 + d;
	return NULL;
}

LITMUS_MAIN(writer, reader)
