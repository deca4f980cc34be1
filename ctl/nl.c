// SPDX-License-Identifier: GPL-2.0
/*
 * libnl-genl-3 transport for hkctl (see nl.h). Requests ask for extended
 * acks so that every refusal of the module reaches the user as the
 * module's own sentence.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <linux/netlink.h>

#include "../kmod/uapi/hawkeyes.h"
#include "nl.h"

struct hk_nl {
	struct nl_sock *sk;
	int family;
	int error;		/* errno of the last refused request, negative */
	char errmsg[256];	/* its extack message, "" when none */
};

const char *hk_nl_errmsg(const struct hk_nl *nl)
{
	return nl->errmsg[0] ? nl->errmsg : NULL;
}

static int hk_nl_error_cb(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)err - 1;
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct hk_nl *nl = arg;
	int len = nlh->nlmsg_len;
	int ack_len = sizeof(*nlh) + sizeof(*err);

	(void)nla;
	nl->error = err->error;
	nl->errmsg[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		ack_len += err->msg.nlmsg_len - sizeof(*nlh);
	if (len <= ack_len)
		return NL_STOP;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)nlh + ack_len),
		      len - ack_len, NULL))
		return NL_STOP;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%s",
			 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	return NL_STOP;
}

int hk_nl_open(struct hk_nl **out)
{
	struct hk_nl *nl;
	int one = 1;
	int ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		ret = -ECONNREFUSED;
		goto err_sock;
	}
	/* libnl 3.7 has no setter for it: ask for extack on the fd */
	if (setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		       sizeof(one)) < 0) {
		ret = -errno;
		goto err_sock;
	}
	nl->family = genl_ctrl_resolve(nl->sk, HAWKEYES_GENL_NAME);
	if (nl->family < 0) {
		ret = -ENOENT;	/* module not loaded */
		goto err_sock;
	}
	nl_socket_modify_err_cb(nl->sk, NL_CB_CUSTOM, hk_nl_error_cb, nl);
	*out = nl;
	return 0;

err_sock:
	nl_socket_free(nl->sk);
err_free:
	free(nl);
	return ret;
}

void hk_nl_close(struct hk_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

/*
 * Send @msg (consumed) and process replies until the ack. Returns 0, or the
 * kernel's negative errno (message in nl->errmsg), or -EIO for a transport
 * failure of libnl itself.
 */
static int hk_nl_transact(struct hk_nl *nl, struct nl_msg *msg)
{
	int ret;

	nl->error = 0;
	nl->errmsg[0] = '\0';
	ret = nl_send_sync(nl->sk, msg);
	if (ret >= 0)
		return 0;
	return nl->error ? nl->error : -EIO;
}

static int hk_nl_status_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[HK_A_MAX + 1];
	struct hk_nl_status *st = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, HK_A_MAX, NULL) < 0)
		return NL_SKIP;
	if (tb[HK_A_VERSION])
		st->version = nla_get_u32(tb[HK_A_VERSION]);
	if (tb[HK_A_SESSIONS])
		st->sessions = nla_get_u32(tb[HK_A_SESSIONS]);
	return NL_OK;
}

int hk_nl_get_status(struct hk_nl *nl, struct hk_nl_status *st)
{
	struct nl_msg *msg;

	memset(st, 0, sizeof(*st));
	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, 0,
			 HK_CMD_GET_STATUS, HAWKEYES_GENL_VERSION)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nl_socket_modify_cb(nl->sk, NL_CB_VALID, NL_CB_CUSTOM, hk_nl_status_cb, st);
	return hk_nl_transact(nl, msg);
}
