/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one kernel front end of hkctl: everything libnl is hidden behind
 * hk_nl_*(). Functions return 0 or a negative errno; when the kernel
 * refused a request, hk_nl_errmsg() holds its extack message.
 */
#ifndef _HK_NL_H
#define _HK_NL_H

#include <stdint.h>

struct hk_nl;

int hk_nl_open(struct hk_nl **out);
void hk_nl_close(struct hk_nl *nl);
const char *hk_nl_errmsg(const struct hk_nl *nl);

struct hk_nl_status {
	uint32_t version;
	uint32_t sessions;
};

int hk_nl_get_status(struct hk_nl *nl, struct hk_nl_status *st);

#endif /* _HK_NL_H */
