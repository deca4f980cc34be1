// SPDX-License-Identifier: GPL-2.0
/*
 * The "hawkeyes" generic netlink family: declared here once, described in
 * Documentation/netlink/specs/hawkeyes.yaml.
 */
#include <linux/module.h>
#include <net/genetlink.h>

#include "uapi/hawkeyes.h"
#include "netlink.h"

static struct genl_family hk_genl_family;

static int hk_nl_get_status(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(nla_total_size(sizeof(u32)) * 2, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_put_reply(msg, info, &hk_genl_family, 0, HK_CMD_GET_STATUS);
	if (!hdr)
		goto nla_put_failure;
	if (nla_put_u32(msg, HK_A_VERSION, HAWKEYES_GENL_VERSION) ||
	    nla_put_u32(msg, HK_A_SESSIONS, 0))
		goto nla_put_failure;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nla_put_failure:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static const struct nla_policy hk_nl_policy[HK_A_MAX + 1] = {
	[HK_A_VERSION]	= { .type = NLA_U32 },
	[HK_A_SESSIONS]	= { .type = NLA_U32 },
};

static const struct genl_small_ops hk_genl_ops[] = {
	{
		.cmd	= HK_CMD_GET_STATUS,
		.doit	= hk_nl_get_status,
	},
};

static struct genl_family hk_genl_family __ro_after_init = {
	.name		= HAWKEYES_GENL_NAME,
	.version	= HAWKEYES_GENL_VERSION,
	.maxattr	= HK_A_MAX,
	.policy		= hk_nl_policy,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.small_ops	= hk_genl_ops,
	.n_small_ops	= ARRAY_SIZE(hk_genl_ops),
	/* 6.1 refuses new families without it; strict validation from op 1. */
	.resv_start_op	= HK_CMD_GET_STATUS + 1,
};

int __init hk_netlink_init(void)
{
	return genl_register_family(&hk_genl_family);
}

void hk_netlink_exit(void)
{
	genl_unregister_family(&hk_genl_family);
}

MODULE_ALIAS_GENL_FAMILY(HAWKEYES_GENL_NAME);
