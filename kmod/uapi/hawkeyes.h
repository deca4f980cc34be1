/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Hawkeyes generic netlink protocol: the one declaration shared by the
 * kernel module (kmod/) and the controller (ctl/). The contract is
 * described in Documentation/netlink/specs/hawkeyes.yaml and
 * Documentation/hawkeyes/netlink.rst; keep all three in step.
 */
#ifndef _UAPI_HAWKEYES_H
#define _UAPI_HAWKEYES_H

#include <linux/types.h>

#define HAWKEYES_GENL_NAME	"hawkeyes"
#define HAWKEYES_GENL_VERSION	1

/* Commands */
enum {
	HK_CMD_UNSPEC,
	HK_CMD_GET_STATUS,	/* doit: module-wide status */

	__HK_CMD_MAX,
};
#define HK_CMD_MAX (__HK_CMD_MAX - 1)

/* Top-level attributes */
enum {
	HK_A_UNSPEC,
	HK_A_VERSION,		/* u32: protocol version of the module */
	HK_A_SESSIONS,		/* u32: live sessions */

	__HK_A_MAX,
};
#define HK_A_MAX (__HK_A_MAX - 1)

#endif /* _UAPI_HAWKEYES_H */
