// SPDX-License-Identifier: GPL-2.0
/*
 * The "hawkeyes" generic netlink family: declared here once, described in
 * Documentation/netlink/specs/hawkeyes.yaml and
 * Documentation/hawkeyes/netlink.rst.
 *
 * Notes on locking and context:
 * - The family is parallel_ops: doit and dumpit run in the requester's
 *   process context without genl_mutex (an ATTACH that arms hundreds of
 *   threads must not stall every other generic netlink family). They may
 *   sleep and rely only on the module's own locks (session.c).
 *   genl_unregister_family() still waits for requests in flight (it takes
 *   cb_lock for writing), so module exit cannot pull code from under one.
 * - Notifications (RECORDS, END) are built and sent from process context
 *   (the session work or the end path), never from the watchpoint
 *   handler, with genlmsg_unicast() to the attaching socket. That send
 *   never blocks: a full socket returns -EAGAIN and the caller retries.
 *   genl_mutex is not needed to send, so the end path may run inside a
 *   doit (DETACH) or outside of one (work, module exit).
 */
#include <linux/module.h>
#include <linux/delay.h>
#include <net/genetlink.h>

#include "compat.h"
#include "netlink.h"
#include "objects.h"
#include "session.h"
#include "watch.h"
#include "uapi/hawkeyes.h"

#ifdef HK_COMPAT_EXTACK_BUF
char hk_compat_extack_buf[80];
#endif

static_assert(sizeof(struct hk_record) == 64);

static struct genl_family hk_genl_family;

/* ---- policies ------------------------------------------------------ */

static struct netlink_range_validation hk_pid_range = {
	.min = 1, .max = PID_MAX_LIMIT,
};
static struct netlink_range_validation hk_rotate_range = {
	.min = 0, .max = HK_MAX_ROTATE_MS,
};
static struct netlink_range_validation hk_budget_range = {
	.min = 1, .max = HK_MAX_BUDGET,
};
static struct netlink_range_validation hk_buffer_range = {
	.min = HK_MIN_BUFFER, .max = 1U << 24,
};
static struct netlink_range_validation hk_id_range = {
	.min = 1, .max = U32_MAX,
};

static const struct nla_policy hk_region_nl_policy[HK_REGION_A_MAX + 1] = {
	[HK_REGION_A_START]	= { .type = NLA_U64 },
	[HK_REGION_A_LEN]	= NLA_POLICY_MIN(NLA_U64, 1),
};

static const struct nla_policy hk_opt_nl_policy[HK_OPT_A_MAX + 1] = {
	[HK_OPT_A_ACCESS]	= NLA_POLICY_RANGE(NLA_U32, HK_ACCESS_W, HK_ACCESS_MAX),
	[HK_OPT_A_ROTATE_MS]	= NLA_POLICY_FULL_RANGE(NLA_U32, &hk_rotate_range),
	[HK_OPT_A_BUDGET]	= NLA_POLICY_FULL_RANGE(NLA_U32, &hk_budget_range),
	[HK_OPT_A_BUFFER]	= NLA_POLICY_FULL_RANGE(NLA_U32, &hk_buffer_range),
	[HK_OPT_A_SLOTS]	= NLA_POLICY_RANGE(NLA_U32, 1, HK_MAX_SLOTS),
	[HK_OPT_A_PAGE_BUDGET]	= NLA_POLICY_FULL_RANGE(NLA_U32, &hk_budget_range),
};

static const struct nla_policy hk_attach_nl_policy[HK_A_OPTIONS + 1] = {
	[HK_A_PID]	= NLA_POLICY_FULL_RANGE(NLA_U32, &hk_pid_range),
	[HK_A_MODE]	= NLA_POLICY_RANGE(NLA_U32, HK_MODE_HWBP, HK_MODE_MAX),
	[HK_A_REGIONS]	= NLA_POLICY_NESTED_ARRAY(hk_region_nl_policy),
	[HK_A_OPTIONS]	= NLA_POLICY_NESTED(hk_opt_nl_policy),
};

static const struct nla_policy hk_session_id_nl_policy[HK_A_SESSION_ID + 1] = {
	[HK_A_SESSION_ID] = NLA_POLICY_FULL_RANGE(NLA_U32, &hk_id_range),
};

static const struct nla_policy hk_add_regions_nl_policy[HK_A_SESSION_ID + 1] = {
	[HK_A_REGIONS]	= NLA_POLICY_NESTED_ARRAY(hk_region_nl_policy),
	[HK_A_SESSION_ID] = NLA_POLICY_FULL_RANGE(NLA_U32, &hk_id_range),
};

/* ---- message fill helpers ----------------------------------------- */

static int hk_nl_put_regions(struct sk_buff *msg, int type,
			     const struct hk_region *r, u32 n)
{
	struct nlattr *list, *one;
	u32 i;

	list = nla_nest_start(msg, type);
	if (!list)
		return -EMSGSIZE;
	for (i = 0; i < n; i++) {
		one = nla_nest_start(msg, HK_A_REGIONS_REGION);
		if (!one ||
		    nla_put_u64_64bit(msg, HK_REGION_A_START, r[i].start, HK_REGION_A_PAD) ||
		    nla_put_u64_64bit(msg, HK_REGION_A_LEN, r[i].len, HK_REGION_A_PAD))
			return -EMSGSIZE;
		nla_nest_end(msg, one);
	}
	nla_nest_end(msg, list);
	return 0;
}

static int hk_nl_put_session(struct sk_buff *msg, struct hk_session *s)
{
	struct hk_session_stats st;
	struct nlattr *nest;
	int ret;

	hk_session_stats(s, &st);
	nest = nla_nest_start(msg, HK_A_SESSION);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(msg, HK_SESSION_A_ID, s->id) ||
	    nla_put_u32(msg, HK_SESSION_A_PID, s->tgid_ns) ||
	    nla_put_u32(msg, HK_SESSION_A_MODE, s->mode) ||
	    nla_put_u32(msg, HK_SESSION_A_ACCESS, s->opts.access) ||
	    nla_put_u32(msg, HK_SESSION_A_ROTATE_MS, st.rotate_ms) ||
	    nla_put_u32(msg, HK_SESSION_A_BUDGET, s->opts.budget) ||
	    nla_put_u32(msg, HK_SESSION_A_BUFFER, s->opts.buffer))
		return -EMSGSIZE;
	/* HK_CMD_ADD_REGIONS replaces these under s->lock; nla_put never sleeps. */
	mutex_lock(&s->lock);
	ret = nla_put_u32(msg, HK_SESSION_A_SLOTS, s->slots) ||
	      hk_nl_put_regions(msg, HK_SESSION_A_REGIONS, s->regions, s->nr_regions) ||
	      nla_put_u64_64bit(msg, HK_SESSION_A_REGION_BYTES, s->region_bytes,
				HK_SESSION_A_PAD) ||
	      nla_put_u32(msg, HK_SESSION_A_UNITS, s->nr_units);
	mutex_unlock(&s->lock);
	if (ret ||
	    nla_put_u32(msg, HK_SESSION_A_THREADS, st.threads) ||
	    nla_put_u32(msg, HK_SESSION_A_WATCHPOINTS, st.nr_wp) ||
	    nla_put_u64_64bit(msg, HK_SESSION_A_HITS, st.hits, HK_SESSION_A_PAD) ||
	    nla_put_u64_64bit(msg, HK_SESSION_A_RECORDS, st.delivered,
			      HK_SESSION_A_PAD) ||
	    nla_put_u64_64bit(msg, HK_SESSION_A_LOST, st.lost, HK_SESSION_A_PAD) ||
	    nla_put_u64_64bit(msg, HK_SESSION_A_THROTTLED, st.throttled,
			      HK_SESSION_A_PAD) ||
	    nla_put_u64_64bit(msg, HK_SESSION_A_ROTATIONS, st.rotations,
			      HK_SESSION_A_PAD) ||
	    nla_put_u64_64bit(msg, HK_SESSION_A_COVERAGE, st.coverage,
			      HK_SESSION_A_PAD) ||
	    nla_put_u32(msg, HK_SESSION_A_REG_FAILS, st.reg_fails) ||
	    nla_put_u64_64bit(msg, HK_SESSION_A_DISABLES, st.disables,
			      HK_SESSION_A_PAD) ||
	    nla_put_u64_64bit(msg, HK_SESSION_A_ELAPSED_NS, st.elapsed_ns,
			      HK_SESSION_A_PAD))
		return -EMSGSIZE;
	if (s->mode == HK_MODE_PGPROT &&
	    (nla_put_u32(msg, HK_SESSION_A_PAGE_BUDGET, s->opts.page_budget) ||
	     nla_put_u32(msg, HK_SESSION_A_PAGES, st.pages) ||
	     nla_put_u32(msg, HK_SESSION_A_ARMED, st.armed) ||
	     nla_put_u64_64bit(msg, HK_SESSION_A_ARMS, st.arms, HK_SESSION_A_PAD) ||
	     nla_put_u64_64bit(msg, HK_SESSION_A_UACCESS, st.uaccess,
			       HK_SESSION_A_PAD)))
		return -EMSGSIZE;
	if (s->watch &&
	    (nla_put_u32(msg, HK_SESSION_A_PROCS, READ_ONCE(s->watch->nr_procs)) ||
	     nla_put_u32(msg, HK_SESSION_A_SEGMENTS, s->watch->nr_segs)))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/* ---- notifications (process context, never the handler) ------------- */

/**
 * hk_nl_send_records - unicast one batch of records to the session's socket
 * @s: the session
 * @recs: the records
 * @n: how many, at most HK_RECORDS_PER_MSG
 * Return: 0, -EAGAIN (socket full: retry later), -ENOMEM, or -ECONNREFUSED
 * (socket gone).
 */
int hk_nl_send_records(struct hk_session *s, const struct hk_record *recs, u32 n)
{
	size_t bytes = n * sizeof(*recs);
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(nla_total_size(sizeof(u32)) +
			  2 * nla_total_size_64bit(sizeof(u64)) +
			  nla_total_size(bytes), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put(msg, 0, 0, &hk_genl_family, 0, HK_CMD_RECORDS);
	if (!hdr)
		goto nla_put_failure;
	if (nla_put_u32(msg, HK_A_SESSION_ID, s->id) ||
	    nla_put_u64_64bit(msg, HK_A_LOST, hk_ring_lost(&s->ring), HK_A_PAD) ||
	    nla_put_u64_64bit(msg, HK_A_THROTTLED, atomic64_read(&s->throttled),
			      HK_A_PAD) ||
	    nla_put(msg, HK_A_RECORDS, bytes, recs))
		goto nla_put_failure;
	genlmsg_end(msg, hdr);
	return genlmsg_unicast(s->net, msg, s->portid);

nla_put_failure:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* The session's last message. Retried while the socket is full. */
int hk_nl_send_end(struct hk_session *s, u32 reason)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(HK_FINISH_MS);
	int ret;

	for (;;) {
		struct sk_buff *msg;
		void *hdr;

		msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
		if (!msg)
			return -ENOMEM;
		hdr = genlmsg_put(msg, 0, 0, &hk_genl_family, 0, HK_CMD_END);
		if (!hdr ||
		    nla_put_u32(msg, HK_A_SESSION_ID, s->id) ||
		    nla_put_u32(msg, HK_A_END_REASON, reason) ||
		    nla_put_u64_64bit(msg, HK_A_LOST, hk_ring_lost(&s->ring), HK_A_PAD) ||
		    nla_put_u64_64bit(msg, HK_A_THROTTLED,
				      atomic64_read(&s->throttled), HK_A_PAD) ||
		    hk_nl_put_session(msg, s)) {
			nlmsg_free(msg);
			return -EMSGSIZE;
		}
		genlmsg_end(msg, hdr);
		ret = genlmsg_unicast(s->net, msg, s->portid);
		if (ret != -EAGAIN || !time_before(jiffies, deadline))
			return ret;
		msleep(HK_TICK_MS);
	}
}

/* ---- requests --------------------------------------------------------- */

static int hk_nl_get_status(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *limits;
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &hk_genl_family, 0, HK_CMD_GET_STATUS);
	if (!hdr)
		goto nla_put_failure;
	if (nla_put_u32(msg, HK_A_VERSION, HAWKEYES_GENL_VERSION) ||
	    nla_put_u32(msg, HK_A_SESSIONS, hk_session_count()))
		goto nla_put_failure;
	limits = nla_nest_start(msg, HK_A_LIMITS);
	if (!limits ||
	    nla_put_u32(msg, HK_LIMIT_A_MAX_SESSIONS, READ_ONCE(hk_max_sessions)) ||
	    nla_put_u32(msg, HK_LIMIT_A_MAX_REGIONS, READ_ONCE(hk_max_regions)) ||
	    nla_put_u32(msg, HK_LIMIT_A_MAX_REGION_BYTES,
			READ_ONCE(hk_max_region_bytes)) ||
	    nla_put_u32(msg, HK_LIMIT_A_MAX_BUFFER_KB, READ_ONCE(hk_max_buffer_kb)))
		goto nla_put_failure;
	nla_nest_end(msg, limits);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nla_put_failure:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int hk_nl_parse_regions(struct genl_info *info, struct hk_attach_req *req)
{
	struct nlattr *list = info->attrs[HK_A_REGIONS], *nla;
	struct nlattr *tb[HK_REGION_A_MAX + 1];
	u32 n = 0, i = 0;
	int rem, ret;

	nla_for_each_nested(nla, list, rem)
		n++;
	if (!n) {
		NL_SET_ERR_MSG_ATTR(info->extack, list, "no region given");
		return -EINVAL;
	}
	if (n > READ_ONCE(hk_max_regions)) {
		NL_SET_BAD_ATTR(info->extack, list);
		NL_SET_ERR_MSG_FMT_MOD(info->extack, "%u regions, limit max_regions=%u",
				       n, READ_ONCE(hk_max_regions));
		return -E2BIG;
	}
	req->regions = kcalloc(n, sizeof(*req->regions), GFP_KERNEL);
	if (!req->regions)
		return -ENOMEM;
	nla_for_each_nested(nla, list, rem) {
		ret = nla_parse_nested(tb, HK_REGION_A_MAX, nla, hk_region_nl_policy,
				       info->extack);
		if (ret)
			return ret;
		if (NL_REQ_ATTR_CHECK(info->extack, nla, tb, HK_REGION_A_START) ||
		    NL_REQ_ATTR_CHECK(info->extack, nla, tb, HK_REGION_A_LEN)) {
			NL_SET_ERR_MSG_MOD(info->extack, "region needs start and len");
			return -EINVAL;
		}
		req->regions[i].start = nla_get_u64(tb[HK_REGION_A_START]);
		req->regions[i].len = nla_get_u64(tb[HK_REGION_A_LEN]);
		i++;
	}
	req->nr_regions = n;
	return 0;
}

/*
 * The options of an attach in @mode. Page mode defaults to reads and
 * writes: a read fault restores the page for the writes after it, so a
 * writes-only page capture would miss those writes as well.
 */
static int hk_nl_parse_options(struct genl_info *info, u32 mode, struct hk_opts *o)
{
	struct nlattr *tb[HK_OPT_A_MAX + 1];
	int ret;

	o->access = mode == HK_MODE_PGPROT ? HK_ACCESS_RW : HK_ACCESS_W;
	o->rotate_ms = HK_DEFAULT_ROTATE_MS;
	o->budget = HK_DEFAULT_BUDGET;
	o->buffer = HK_DEFAULT_BUFFER;
	o->slots = HK_MAX_SLOTS;
	if (!info->attrs[HK_A_OPTIONS])
		return 0;
	ret = nla_parse_nested(tb, HK_OPT_A_MAX, info->attrs[HK_A_OPTIONS],
			       hk_opt_nl_policy, info->extack);
	if (ret)
		return ret;
	if (tb[HK_OPT_A_ACCESS])
		o->access = nla_get_u32(tb[HK_OPT_A_ACCESS]);
	if (tb[HK_OPT_A_ROTATE_MS])
		o->rotate_ms = nla_get_u32(tb[HK_OPT_A_ROTATE_MS]);
	if (tb[HK_OPT_A_BUDGET])
		o->budget = nla_get_u32(tb[HK_OPT_A_BUDGET]);
	if (tb[HK_OPT_A_BUFFER])
		o->buffer = nla_get_u32(tb[HK_OPT_A_BUFFER]);
	if (tb[HK_OPT_A_SLOTS])
		o->slots = nla_get_u32(tb[HK_OPT_A_SLOTS]);
	if (tb[HK_OPT_A_PAGE_BUDGET])
		o->page_budget = nla_get_u32(tb[HK_OPT_A_PAGE_BUDGET]);
	return 0;
}

static int hk_nl_reply_session(struct genl_info *info, u8 cmd, u32 id)
{
	struct hk_session *s = hk_session_get_by_id(id);
	struct sk_buff *msg;
	void *hdr;
	int ret;

	if (!s) {
		NL_SET_ERR_MSG_FMT_MOD(info->extack, "no session %u", id);
		return -ENOENT;
	}
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg) {
		hk_session_put(s);
		return -ENOMEM;
	}
	hdr = genlmsg_put_reply(msg, info, &hk_genl_family, 0, cmd);
	if (!hdr || nla_put_u32(msg, HK_A_SESSION_ID, s->id) ||
	    hk_nl_put_session(msg, s)) {
		hk_session_put(s);
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	hk_session_put(s);
	genlmsg_end(msg, hdr);
	ret = genlmsg_reply(msg, info);
	return ret;
}

static int hk_nl_attach(struct sk_buff *skb, struct genl_info *info)
{
	struct hk_attach_req req = {};
	u32 id;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, HK_A_PID)) {
		NL_SET_ERR_MSG_MOD(info->extack, "missing target pid");
		return -EINVAL;
	}
	if (GENL_REQ_ATTR_CHECK(info, HK_A_REGIONS)) {
		NL_SET_ERR_MSG_MOD(info->extack, "missing regions");
		return -EINVAL;
	}
	req.pid = nla_get_u32(info->attrs[HK_A_PID]);
	req.mode = info->attrs[HK_A_MODE] ? nla_get_u32(info->attrs[HK_A_MODE]) :
					    HK_MODE_HWBP;
	req.portid = info->snd_portid;
	req.net = genl_info_net(info);
	ret = hk_nl_parse_options(info, req.mode, &req.opts);
	if (ret)
		return ret;
	ret = hk_nl_parse_regions(info, &req);
	if (ret)
		goto out;
	ret = hk_session_attach(&req, info->extack, &id);
	if (ret)
		goto out;
	if (READ_ONCE(hk_test_reply_delay_ms))	/* no lock held: see objects.c */
		msleep(min_t(u32, READ_ONCE(hk_test_reply_delay_ms), 5000));
	/*
	 * The session runs whatever happens to the reply; if the reply cannot
	 * be sent the client learns the id from GET_SESSION or END.
	 */
	ret = hk_nl_reply_session(info, HK_CMD_ATTACH, id);
	if (ret == -ENOENT)
		ret = 0;	/* ended already (target exited): END follows */
out:
	kfree(req.regions);
	return ret;
}

/* A whole-system watch of shared memory segments (watch.c). */
static int hk_nl_watch(struct sk_buff *skb, struct genl_info *info)
{
	struct hk_attach_req req = {};
	u32 id;
	int ret;

	if (!netlink_capable(skb, CAP_SYS_ADMIN)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "watching shared memory across processes needs CAP_SYS_ADMIN");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, HK_A_SEGMENTS)) {
		NL_SET_ERR_MSG_MOD(info->extack, "missing segments");
		return -EINVAL;
	}
	req.mode = HK_MODE_HWBP;
	req.portid = info->snd_portid;
	req.net = genl_info_net(info);
	ret = hk_nl_parse_options(info, req.mode, &req.opts);
	if (ret)
		return ret;
	ret = hk_watch_parse(info, &req);
	if (ret)
		goto out;
	ret = hk_session_attach(&req, info->extack, &id);
	if (ret)
		goto out;
	ret = hk_nl_reply_session(info, HK_CMD_WATCH, id);
	if (ret == -ENOENT)
		ret = 0;	/* ended already: END follows */
out:
	kfree(req.regions);
	kfree(req.segs);
	return ret;
}

static int hk_nl_detach(struct sk_buff *skb, struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, HK_A_SESSION_ID)) {
		NL_SET_ERR_MSG_MOD(info->extack, "missing session id");
		return -EINVAL;
	}
	return hk_session_detach(nla_get_u32(info->attrs[HK_A_SESSION_ID]),
				 info->extack);
}

static int hk_nl_add_regions(struct sk_buff *skb, struct genl_info *info)
{
	struct hk_attach_req req = {};
	u32 id;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, HK_A_SESSION_ID)) {
		NL_SET_ERR_MSG_MOD(info->extack, "missing session id");
		return -EINVAL;
	}
	if (GENL_REQ_ATTR_CHECK(info, HK_A_REGIONS)) {
		NL_SET_ERR_MSG_MOD(info->extack, "missing regions");
		return -EINVAL;
	}
	id = nla_get_u32(info->attrs[HK_A_SESSION_ID]);
	ret = hk_nl_parse_regions(info, &req);
	if (!ret)
		ret = hk_session_add_regions(id, req.regions, req.nr_regions, info->extack);
	kfree(req.regions);
	if (ret)
		return ret;
	ret = hk_nl_reply_session(info, HK_CMD_ADD_REGIONS, id);
	return ret == -ENOENT ? 0 : ret;	/* ended meanwhile: END follows */
}

static int hk_nl_get_session(struct sk_buff *skb, struct genl_info *info)
{
	struct hk_session *s;
	u32 id;

	if (GENL_REQ_ATTR_CHECK(info, HK_A_SESSION_ID)) {
		NL_SET_ERR_MSG_MOD(info->extack, "missing session id");
		return -EINVAL;
	}
	id = nla_get_u32(info->attrs[HK_A_SESSION_ID]);
	s = hk_session_get_by_id(id);
	if (s && !hk_session_visible(s)) {
		hk_session_put(s);
		NL_SET_ERR_MSG_FMT_MOD(info->extack, "session %u belongs to another user",
				       id);
		return -EPERM;
	}
	if (s)
		hk_session_put(s);
	return hk_nl_reply_session(info, HK_CMD_GET_SESSION, id);
}

/* cb->args[0]: id of the last session dumped. */
static int hk_nl_dump_sessions(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct hk_session *s;
	void *hdr;

	while ((s = hk_session_get_next(cb->args[0]))) {
		if (!hk_session_visible(s)) {
			cb->args[0] = s->id;
			hk_session_put(s);
			continue;
		}
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &hk_genl_family, NLM_F_MULTI, HK_CMD_GET_SESSION);
		if (!hdr || nla_put_u32(skb, HK_A_SESSION_ID, s->id) ||
		    hk_nl_put_session(skb, s)) {
			if (hdr)
				genlmsg_cancel(skb, hdr);
			hk_session_put(s);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = s->id;
		hk_session_put(s);
	}
	return skb->len;
}

static const struct genl_ops hk_genl_ops[] = {
	{
		.cmd	= HK_CMD_GET_STATUS,
		.doit	= hk_nl_get_status,
		/* no policy: the core rejects any attribute */
	},
	{
		.cmd	= HK_CMD_ATTACH,
		.doit	= hk_nl_attach,
		.policy	= hk_attach_nl_policy,
		.maxattr = ARRAY_SIZE(hk_attach_nl_policy) - 1,
	},
	{
		.cmd	= HK_CMD_DETACH,
		.doit	= hk_nl_detach,
		.policy	= hk_session_id_nl_policy,
		.maxattr = ARRAY_SIZE(hk_session_id_nl_policy) - 1,
	},
	{
		.cmd	= HK_CMD_GET_SESSION,
		.doit	= hk_nl_get_session,
		.dumpit	= hk_nl_dump_sessions,
		.policy	= hk_session_id_nl_policy,
		.maxattr = ARRAY_SIZE(hk_session_id_nl_policy) - 1,
	},
	{
		.cmd	= HK_CMD_WATCH,
		.doit	= hk_nl_watch,
		.policy	= hk_watch_nl_policy,
		.maxattr = HK_A_SEGMENTS,
	},
	{
		.cmd	= HK_CMD_ADD_REGIONS,
		.doit	= hk_nl_add_regions,
		.policy	= hk_add_regions_nl_policy,
		.maxattr = ARRAY_SIZE(hk_add_regions_nl_policy) - 1,
	},
};

static struct genl_family hk_genl_family __ro_after_init = {
	.name		= HAWKEYES_GENL_NAME,
	.version	= HAWKEYES_GENL_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= hk_genl_ops,
	.n_ops		= ARRAY_SIZE(hk_genl_ops),
	/* Strict validation and reserved-field checks for every command. */
	.resv_start_op	= HK_CMD_GET_STATUS,
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
