/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _XF_UTIL_H
#define _XF_UTIL_H

extern int xf_data, xf_flag, xf_data2, xf_flag2;
void xf_store_data(int v);
void xf_store_flag(void);
void xf_set(int *p, int v);

#endif
