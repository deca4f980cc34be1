// SPDX-License-Identifier: GPL-2.0
#include "xf_util.h"

void xf_store_data(int v)
{
	xf_data = v;		/* @xf_data_w */
}

void xf_store_flag(void)
{
	xf_flag = 1;		/* @xf_flag_w */
}

void xf_set(int *p, int v)
{
	*p = v;			/* @xf_set */
}
