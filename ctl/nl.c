// SPDX-License-Identifier: GPL-2.0
/*
 * libnl-genl-3 transport for hkctl (see nl.h). Requests ask for extended
 * acks so that every refusal of the module reaches the user as the
 * module's own sentence.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <linux/netlink.h>

#include "nl.h"
#include "subcommands.h"

struct hk_nl {
	struct nl_sock *sk;
	int family;
	int error;		/* errno of the last refused request, negative */
	char errmsg[256];	/* its extack message, "" when none */
	/* session handles only */
	struct hk_nl_events ev;
	struct hk_nl_session *attached;	/* filled by the ATTACH reply */
	uint32_t session;
	int handled;		/* messages handled by the last receive */
	int done;		/* the current request was acked or its dump ended */
	/* query replies */
	void *reply;
	void (*dump_cb)(const struct hk_nl_session *s, void *arg);
	void *dump_arg;
	/* RECORDS payloads are only 4-byte aligned: records are copied here */
	struct hk_record *recs;
	size_t recs_cap;
};

const char *hk_nl_errmsg(const struct hk_nl *nl)
{
	return nl && nl->errmsg[0] ? nl->errmsg : NULL;
}

void hk_nl_perror(const struct hk_nl *nl, const char *cmd, const char *what, int err)
{
	const char *msg = hk_nl_errmsg(nl);

	if (err == -ENOENT && !nl) {
		fprintf(stderr, "%s %s: the hawkeyes module is not loaded (modprobe hawkeyes)\n",
			hk_prog, cmd);
		return;
	}
	fprintf(stderr, "%s %s: %s: %s%s%s\n", hk_prog, cmd, what, strerror(-err),
		msg ? ": " : "", msg ? msg : "");
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

static uint32_t get_u32(struct nlattr *a)
{
	return a ? nla_get_u32(a) : 0;
}

static uint64_t get_u64(struct nlattr *a)
{
	return a ? nla_get_u64(a) : 0;
}

/* %HK_A_SESSION nest into @s. */
static int hk_nl_parse_session(struct nlattr *nest, struct hk_nl_session *s)
{
	struct nlattr *tb[HK_SESSION_A_MAX + 1];
	struct nlattr *rtb[HK_REGION_A_MAX + 1];
	struct nlattr *r;
	int rem;

	memset(s, 0, sizeof(*s));
	if (!nest || nla_parse_nested(tb, HK_SESSION_A_MAX, nest, NULL))
		return -EPROTO;
	s->id = get_u32(tb[HK_SESSION_A_ID]);
	s->pid = get_u32(tb[HK_SESSION_A_PID]);
	s->mode = get_u32(tb[HK_SESSION_A_MODE]);
	s->access = get_u32(tb[HK_SESSION_A_ACCESS]);
	s->rotate_ms = get_u32(tb[HK_SESSION_A_ROTATE_MS]);
	s->budget = get_u32(tb[HK_SESSION_A_BUDGET]);
	s->buffer = get_u32(tb[HK_SESSION_A_BUFFER]);
	s->slots = get_u32(tb[HK_SESSION_A_SLOTS]);
	s->units = get_u32(tb[HK_SESSION_A_UNITS]);
	s->threads = get_u32(tb[HK_SESSION_A_THREADS]);
	s->watchpoints = get_u32(tb[HK_SESSION_A_WATCHPOINTS]);
	s->reg_fails = get_u32(tb[HK_SESSION_A_REG_FAILS]);
	s->region_bytes = get_u64(tb[HK_SESSION_A_REGION_BYTES]);
	s->hits = get_u64(tb[HK_SESSION_A_HITS]);
	s->records = get_u64(tb[HK_SESSION_A_RECORDS]);
	s->lost = get_u64(tb[HK_SESSION_A_LOST]);
	s->throttled = get_u64(tb[HK_SESSION_A_THROTTLED]);
	s->rotations = get_u64(tb[HK_SESSION_A_ROTATIONS]);
	s->coverage = get_u64(tb[HK_SESSION_A_COVERAGE]);
	s->disables = get_u64(tb[HK_SESSION_A_DISABLES]);
	s->elapsed_ns = get_u64(tb[HK_SESSION_A_ELAPSED_NS]);
	s->page_budget = get_u32(tb[HK_SESSION_A_PAGE_BUDGET]);
	s->pages = get_u32(tb[HK_SESSION_A_PAGES]);
	s->armed = get_u32(tb[HK_SESSION_A_ARMED]);
	s->arms = get_u64(tb[HK_SESSION_A_ARMS]);
	s->uaccess = get_u64(tb[HK_SESSION_A_UACCESS]);
	s->procs = get_u32(tb[HK_SESSION_A_PROCS]);
	s->segments = get_u32(tb[HK_SESSION_A_SEGMENTS]);
	if (!tb[HK_SESSION_A_REGIONS])
		return 0;
	nla_for_each_nested(r, tb[HK_SESSION_A_REGIONS], rem) {
		if (nla_parse_nested(rtb, HK_REGION_A_MAX, r, NULL))
			return -EPROTO;
		if (s->nregions < HK_NL_MAX_REGIONS) {
			s->regions[s->nregions].start = get_u64(rtb[HK_REGION_A_START]);
			s->regions[s->nregions].len = get_u64(rtb[HK_REGION_A_LEN]);
		}
		s->nregions++;
	}
	return 0;
}

/*
 * Every message that is not an ack lands here: query replies, dump parts,
 * the ATTACH reply and the session's notifications.
 */
static int hk_nl_valid_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gnlh = nlmsg_data(nlh);
	struct nlattr *tb[HK_A_MAX + 1];
	struct hk_nl_session final, s;
	struct nlattr *limits[HK_LIMIT_A_MAX + 1];
	struct hk_nl_status *st;
	struct hk_nl *nl = arg;

	if (genlmsg_parse(nlh, 0, tb, HK_A_MAX, NULL) < 0)
		return NL_SKIP;
	nl->handled++;
	switch (gnlh->cmd) {
	case HK_CMD_GET_STATUS:
		st = nl->reply;
		if (!st)
			break;
		st->version = get_u32(tb[HK_A_VERSION]);
		st->sessions = get_u32(tb[HK_A_SESSIONS]);
		if (tb[HK_A_LIMITS] &&
		    !nla_parse_nested(limits, HK_LIMIT_A_MAX, tb[HK_A_LIMITS], NULL)) {
			st->max_sessions = get_u32(limits[HK_LIMIT_A_MAX_SESSIONS]);
			st->max_regions = get_u32(limits[HK_LIMIT_A_MAX_REGIONS]);
			st->max_region_bytes = get_u32(limits[HK_LIMIT_A_MAX_REGION_BYTES]);
			st->max_buffer_kb = get_u32(limits[HK_LIMIT_A_MAX_BUFFER_KB]);
		}
		break;
	case HK_CMD_GET_SESSION:
	case HK_CMD_ADD_REGIONS:
		if (hk_nl_parse_session(tb[HK_A_SESSION], &s))
			break;
		if (!s.id)
			s.id = get_u32(tb[HK_A_SESSION_ID]);
		if (nl->dump_cb)
			nl->dump_cb(&s, nl->dump_arg);
		else if (nl->reply)
			*(struct hk_nl_session *)nl->reply = s;
		break;
	case HK_CMD_ATTACH:
	case HK_CMD_WATCH:
		nl->session = get_u32(tb[HK_A_SESSION_ID]);
		if (nl->attached) {
			hk_nl_parse_session(tb[HK_A_SESSION], nl->attached);
			nl->attached->id = nl->session;
		}
		break;
	case HK_CMD_RECORDS: {
		size_t n;

		if (!nl->ev.records || !tb[HK_A_RECORDS])
			break;
		/*
		 * Netlink aligns attributes to 4 bytes and a record holds u64s:
		 * hand out an aligned copy rather than a misaligned pointer.
		 */
		n = nla_len(tb[HK_A_RECORDS]) / sizeof(struct hk_record);
		if (n > nl->recs_cap) {
			struct hk_record *r = realloc(nl->recs, n * sizeof(*r));

			if (!r) {
				/* a negative return ends the receive with this error */
				nl->error = -ENOMEM;
				return -NLE_NOMEM;
			}
			nl->recs = r;
			nl->recs_cap = n;
		}
		memcpy(nl->recs, nla_data(tb[HK_A_RECORDS]), n * sizeof(struct hk_record));
		nl->ev.records(nl->ev.arg, get_u32(tb[HK_A_SESSION_ID]), nl->recs, n,
			       get_u64(tb[HK_A_LOST]), get_u64(tb[HK_A_THROTTLED]));
		break;
	}
	case HK_CMD_END:
		if (!nl->ev.end)
			break;
		if (hk_nl_parse_session(tb[HK_A_SESSION], &final))
			memset(&final, 0, sizeof(final));
		/*
		 * A target that exits at once ends the session before the
		 * ATTACH reply is sent, and then the module sends none: END
		 * is the reply (this socket only ever has one session).
		 */
		if (nl->attached && !nl->session) {
			nl->session = get_u32(tb[HK_A_SESSION_ID]);
			*nl->attached = final;
			nl->attached->id = nl->session;
		}
		nl->ev.end(nl->ev.arg, get_u32(tb[HK_A_SESSION_ID]),
			   get_u32(tb[HK_A_END_REASON]), get_u64(tb[HK_A_LOST]),
			   get_u64(tb[HK_A_THROTTLED]), &final);
		break;
	}
	return NL_OK;
}

/* The end of a request: its ack, or NLMSG_DONE of a dump. */
static int hk_nl_done_cb(struct nl_msg *msg, void *arg)
{
	struct hk_nl *nl = arg;

	(void)msg;
	nl->done = 1;
	return NL_STOP;
}

int hk_nl_open(struct hk_nl **out)
{
	struct hk_nl *nl;
	int one = 1;
	int ret;

	*out = NULL;
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
	nl_socket_modify_cb(nl->sk, NL_CB_VALID, NL_CB_CUSTOM, hk_nl_valid_cb, nl);
	nl_socket_modify_cb(nl->sk, NL_CB_ACK, NL_CB_CUSTOM, hk_nl_done_cb, nl);
	nl_socket_modify_cb(nl->sk, NL_CB_FINISH, NL_CB_CUSTOM, hk_nl_done_cb, nl);
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
	free(nl->recs);
	free(nl);
}

static struct nl_msg *hk_nl_msg(struct hk_nl *nl, int flags, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags, cmd,
			 HAWKEYES_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * Send @msg (consumed) and process replies until the ack (or, for a dump,
 * NLMSG_DONE). One nl_recvmsgs() is not enough: it returns after the
 * reply datagram and would leave the ack for the next request to
 * mistake for its own (which is what nl_send_sync() does). Returns 0, or
 * the kernel's negative errno (message in nl->errmsg), or -EIO for a
 * transport failure of libnl itself.
 */
static int hk_nl_transact(struct hk_nl *nl, struct nl_msg *msg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int ret;

	nl->error = 0;
	nl->errmsg[0] = '\0';
	nl->done = 0;
	nl_complete_msg(nl->sk, msg);
	/* a dump ends with NLMSG_DONE; an ack after it would be left over */
	if (nlh->nlmsg_flags & NLM_F_DUMP)
		nlh->nlmsg_flags &= ~NLM_F_ACK;
	ret = nl_send(nl->sk, msg);
	nlmsg_free(msg);
	while (ret >= 0 && !nl->done)
		ret = nl_recvmsgs_default(nl->sk);
	if (ret >= 0)
		return 0;
	return nl->error ? nl->error : -EIO;
}

int hk_nl_get_status(struct hk_nl *nl, struct hk_nl_status *st)
{
	struct nl_msg *msg;
	int ret;

	memset(st, 0, sizeof(*st));
	msg = hk_nl_msg(nl, 0, HK_CMD_GET_STATUS);
	if (!msg)
		return -ENOMEM;
	nl->reply = st;
	ret = hk_nl_transact(nl, msg);
	nl->reply = NULL;
	return ret;
}

int hk_nl_get_session(struct hk_nl *nl, uint32_t id, struct hk_nl_session *s)
{
	struct nl_msg *msg;
	int ret;

	memset(s, 0, sizeof(*s));
	msg = hk_nl_msg(nl, 0, HK_CMD_GET_SESSION);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, HK_A_SESSION_ID, id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nl->reply = s;
	ret = hk_nl_transact(nl, msg);
	nl->reply = NULL;
	return ret;
}

int hk_nl_dump_sessions(struct hk_nl *nl,
			void (*cb)(const struct hk_nl_session *s, void *arg), void *arg)
{
	struct nl_msg *msg;
	int ret;

	msg = hk_nl_msg(nl, NLM_F_DUMP, HK_CMD_GET_SESSION);
	if (!msg)
		return -ENOMEM;
	nl->dump_cb = cb;
	nl->dump_arg = arg;
	ret = hk_nl_transact(nl, msg);
	nl->dump_cb = NULL;
	return ret;
}

int hk_nl_detach(struct hk_nl *nl, uint32_t id)
{
	struct nl_msg *msg;

	msg = hk_nl_msg(nl, 0, HK_CMD_DETACH);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, HK_A_SESSION_ID, id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return hk_nl_transact(nl, msg);
}

static int hk_nl_put_regions(struct nl_msg *msg, const uint64_t (*regions)[2], size_t n)
{
	struct nlattr *list, *r;
	size_t i;

	list = nla_nest_start(msg, HK_A_REGIONS);
	if (!list)
		return -EMSGSIZE;
	for (i = 0; i < n; i++) {
		r = nla_nest_start(msg, HK_A_REGIONS_REGION);
		if (!r || nla_put_u64(msg, HK_REGION_A_START, regions[i][0]) ||
		    nla_put_u64(msg, HK_REGION_A_LEN, regions[i][1]))
			return -EMSGSIZE;
		nla_nest_end(msg, r);
	}
	nla_nest_end(msg, list);
	return 0;
}

int hk_nl_add_regions(struct hk_nl *nl, uint32_t id, const uint64_t (*regions)[2], size_t n,
		      struct hk_nl_session *s)
{
	struct nl_msg *msg;
	int ret;

	memset(s, 0, sizeof(*s));
	msg = hk_nl_msg(nl, 0, HK_CMD_ADD_REGIONS);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, HK_A_SESSION_ID, id) || hk_nl_put_regions(msg, regions, n)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nl->reply = s;
	ret = hk_nl_transact(nl, msg);
	nl->reply = NULL;
	return ret;
}

static int hk_nl_put_attach(struct nl_msg *msg, const struct hk_nl_attach_req *req)
{
	struct nlattr *segs, *r, *opts;
	size_t i;

	if (req->nsegs) {
		segs = nla_nest_start(msg, HK_A_SEGMENTS);
		if (!segs)
			return -EMSGSIZE;
		for (i = 0; i < req->nsegs; i++) {
			const struct hk_nl_seg *g = &req->segs[i];

			r = nla_nest_start(msg, HK_A_SEGMENTS_SEGMENT);
			if (!r || nla_put_u32(msg, HK_SEG_A_DEV_MAJOR, g->major) ||
			    nla_put_u32(msg, HK_SEG_A_DEV_MINOR, g->minor) ||
			    nla_put_u64(msg, HK_SEG_A_INO, g->ino) ||
			    nla_put_u64(msg, HK_SEG_A_OFFSET, g->off) ||
			    nla_put_u64(msg, HK_SEG_A_LEN, g->len))
				return -EMSGSIZE;
			nla_nest_end(msg, r);
		}
		nla_nest_end(msg, segs);
		goto options;
	}
	if (nla_put_u32(msg, HK_A_PID, req->pid) ||
	    (req->mode && nla_put_u32(msg, HK_A_MODE, req->mode)) ||
	    hk_nl_put_regions(msg, req->regions, req->nregions))
		return -EMSGSIZE;
options:
	opts = nla_nest_start(msg, HK_A_OPTIONS);
	if (!opts ||
	    (req->access && nla_put_u32(msg, HK_OPT_A_ACCESS, req->access)) ||
	    (req->rotate_set && nla_put_u32(msg, HK_OPT_A_ROTATE_MS, req->rotate_ms)) ||
	    (req->budget && nla_put_u32(msg, HK_OPT_A_BUDGET, req->budget)) ||
	    (req->buffer && nla_put_u32(msg, HK_OPT_A_BUFFER, req->buffer)) ||
	    (req->slots && nla_put_u32(msg, HK_OPT_A_SLOTS, req->slots)) ||
	    (req->page_budget && nla_put_u32(msg, HK_OPT_A_PAGE_BUDGET, req->page_budget)))
		return -EMSGSIZE;
	nla_nest_end(msg, opts);
	return 0;
}

/*
 * The session socket must absorb bursts while hkctl writes the file:
 * libnl's default is 32 KiB (64 KiB after the kernel doubles it). Root can
 * go past net.core.rmem_max with SO_RCVBUFFORCE; others get what
 * rmem_max allows, and the module counts whatever still does not fit.
 */
static void hk_nl_set_rcvbuf(struct hk_nl *nl, size_t rcvbuf)
{
	int fd = nl_socket_get_fd(nl->sk);
	int size = rcvbuf > (1u << 30) ? 1 << 30 : (int)rcvbuf;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		nl_socket_set_buffer_size(nl->sk, size, 0);
}

int hk_nl_rcvbuf(const struct hk_nl *nl)
{
	socklen_t len = sizeof(int);
	int size = 0;

	getsockopt(nl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVBUF, &size, &len);
	return size;
}

int hk_nl_attach(struct hk_nl **out, const struct hk_nl_attach_req *req,
		 const struct hk_nl_events *ev, size_t rcvbuf, struct hk_nl_session *s)
{
	struct nl_msg *msg;
	struct hk_nl *nl;
	int ret;

	ret = hk_nl_open(out);
	if (ret)
		return ret;
	nl = *out;
	nl->ev = *ev;
	hk_nl_set_rcvbuf(nl, rcvbuf);
	/* A batch is up to HK_RECORDS_PER_MSG * 64 bytes; never truncate one. */
	nl_socket_set_msg_buf_size(nl->sk, 64 * 1024);
	nl_socket_enable_msg_peek(nl->sk);
	/*
	 * Notifications carry nlmsg_seq 0, so libnl's sequence check would
	 * drop them; requests on this socket are strictly one at a time.
	 */
	nl_socket_disable_seq_check(nl->sk);

	msg = hk_nl_msg(nl, 0, req->nsegs ? HK_CMD_WATCH : HK_CMD_ATTACH);
	if (!msg)
		return -ENOMEM;
	ret = hk_nl_put_attach(msg, req);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	nl->attached = s;
	ret = hk_nl_transact(nl, msg);
	nl->attached = NULL;
	if (ret)
		return ret;
	if (!nl->session)
		return -EPROTO;	/* acked without a reply: a module we do not understand */
	s->id = nl->session;
	return nl_socket_set_nonblocking(nl->sk) ? -EIO : 0;
}

int hk_nl_fd(const struct hk_nl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

/*
 * Bounded, so that a target flooding the socket cannot keep the caller
 * from its signals and deadlines: poll() reports the rest right away.
 */
#define HK_NL_RECV_BATCH 256

int hk_nl_recv(struct hk_nl *nl, uint64_t *overruns)
{
	int total = 0, reads = 0, ret;

	while (reads++ < HK_NL_RECV_BATCH) {
		nl->handled = 0;
		errno = 0;
		ret = nl_recvmsgs_default(nl->sk);
		total += nl->handled;
		if (ret >= 0)
			continue;
		if (ret == -NLE_AGAIN)
			return total;
		/* libnl maps ENOBUFS to NLE_NOMEM; the socket stays usable */
		if (ret == -NLE_NOMEM && errno == ENOBUFS) {
			(*overruns)++;
			continue;
		}
		return nl->error ? nl->error : -EIO;
	}
	return total;
}
