// SPDX-License-Identifier: GPL-2.0
/*
 * MP where the flag is written as one 8-byte word and read as its upper
 * 4-byte half: TSan reports the race with two different addresses. The
 * analyzer must see one object (overlapping bytes) and report MP.
 */
#include <string.h>
#include "litmus.h"

int data, seen;
long flag;

static void *writer(void *arg)
{
	data = 42;		/* @data_w */
	flag = 1L << 32;	/* @flag_w */
	return NULL;
}

static void *reader(void *arg)
{
	int f = ((int *)&flag)[1];	/* @flag_r */
	int d = data;		/* @data_r */

	seen = f * 100 + d;
	return NULL;
}

LITMUS_MAIN(writer, reader)
