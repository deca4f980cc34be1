/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HK_NETLINK_H
#define _HK_NETLINK_H

#include <linux/types.h>

struct hk_session;
struct hk_record;

int hk_netlink_init(void);
void hk_netlink_exit(void);
int hk_nl_send_records(struct hk_session *s, const struct hk_record *recs, u32 n);
int hk_nl_send_end(struct hk_session *s, u32 reason);

#endif /* _HK_NETLINK_H */
