/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels we build for (Debian 6.1 and 6.12),
 * papered over in one place.
 */
#ifndef _HK_COMPAT_H
#define _HK_COMPAT_H

#include <linux/netlink.h>

#ifndef NL_SET_ERR_MSG_FMT_MOD
/*
 * 6.1 has no formatted extack messages (struct netlink_ext_ack has no
 * _msg_buf). The message must stay valid until the ack is built, after
 * the doit returns, so it lives in one static buffer. The family is
 * parallel_ops: two refusals at the same instant may garble each other's
 * text, never more (the last byte is never written but as the
 * terminator, so a reader always finds one). 6.12 formats into the
 * request's own extack.
 */
#define HK_COMPAT_EXTACK_BUF	1
extern char hk_compat_extack_buf[80];
#define NL_SET_ERR_MSG_FMT_MOD(extack, fmt, args...) do {		\
	struct netlink_ext_ack *__extack = (extack);			\
									\
	if (__extack) {							\
		snprintf(hk_compat_extack_buf,				\
			 sizeof(hk_compat_extack_buf),			\
			 KBUILD_MODNAME ": " fmt, ##args);		\
		__extack->_msg = hk_compat_extack_buf;			\
	}								\
} while (0)
#endif

#endif /* _HK_COMPAT_H */
