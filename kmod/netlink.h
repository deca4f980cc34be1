/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HK_NETLINK_H
#define _HK_NETLINK_H

int hk_netlink_init(void);
void hk_netlink_exit(void);

#endif /* _HK_NETLINK_H */
