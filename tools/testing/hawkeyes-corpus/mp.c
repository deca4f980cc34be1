// SPDX-License-Identifier: GPL-2.0
/* MP: message passing, no barrier on either side: a porting bug. */
#include "litmus.h"

int data, flag, seen;

static void *writer(void *arg)
{
	data = 42;		/* @data_w */
	flag = 1;		/* @flag_w */
	return NULL;
}

static void *reader(void *arg)
{
	int f = flag;		/* @flag_r */
	int d = data;		/* @data_r */

	seen = f * 100 + d;
	return NULL;
}

LITMUS_MAIN(writer, reader)
