/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test-only helpers for the Hawkeyes selftests: a small libnl-genl client
 * of the "hawkeyes" family that keeps requests, replies, extack messages
 * and the RECORDS/END notifications apart, plus target-program plumbing.
 *
 * Replies and acks carry the request's sequence number; notifications
 * carry 0 and are collected into struct hk_cl (records, lost, END) while
 * waiting for a reply or in hk_cl_poll().
 */
#ifndef _HK_TEST_H
#define _HK_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "hawkeyes.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_NO_ENOBUFS
#define NETLINK_NO_ENOBUFS 5
#endif

struct hk_sess_info {
	uint32_t id, pid, threads, watchpoints, units, slots, rotate_ms, reg_fails;
	uint64_t hits, records, lost, throttled, rotations, coverage, region_bytes;
	uint64_t disables, elapsed_ns;
	uint32_t mode, page_budget, pages, armed;	/* page mode */
	uint64_t arms, uaccess;
	uint32_t access;
};

struct hk_cl {
	struct nl_sock *sk;
	int family;
	char extack[256];		/* last error message from the kernel */
	/* notifications */
	struct hk_record *recs;
	size_t nrecs, caprecs;
	size_t nmsgs;
	uint64_t lost, throttled;	/* last in-band values */
	bool ended;
	uint32_t end_reason, end_session;
	struct hk_sess_info end_info;
	/* reply of the current request */
	struct hk_sess_info info;
	uint32_t reply_id, reply_sessions, reply_version;
	size_t ndump;
	/*
	 * Control socket for requests other than ATTACH: netlink drops a
	 * reply or ack like any message when the receive buffer is full,
	 * and the attaching socket fills up with records.
	 */
	struct hk_cl *aux;
};

/* The target programs' directory: progs/ beside the running selftest. */
static inline const char *hk_progs_dir(void)
{
	static char dir[PATH_MAX];
	char self[PATH_MAX];
	ssize_t n;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	snprintf(dir, sizeof(dir), "%s/progs", n > 0 ? dirname(self) : ".");
	return dir;
}

static inline uint64_t hk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static inline void hk_parse_session(struct nlattr *nest, struct hk_sess_info *si)
{
	struct nlattr *tb[HK_SESSION_A_MAX + 1];

	memset(si, 0, sizeof(*si));
	if (nla_parse_nested(tb, HK_SESSION_A_MAX, nest, NULL))
		return;
#define U32(a, f) if (tb[a]) si->f = nla_get_u32(tb[a])
#define U64(a, f) if (tb[a]) si->f = nla_get_u64(tb[a])
	U32(HK_SESSION_A_ID, id);
	U32(HK_SESSION_A_PID, pid);
	U32(HK_SESSION_A_THREADS, threads);
	U32(HK_SESSION_A_WATCHPOINTS, watchpoints);
	U32(HK_SESSION_A_UNITS, units);
	U32(HK_SESSION_A_SLOTS, slots);
	U32(HK_SESSION_A_ROTATE_MS, rotate_ms);
	U32(HK_SESSION_A_REG_FAILS, reg_fails);
	U64(HK_SESSION_A_HITS, hits);
	U64(HK_SESSION_A_RECORDS, records);
	U64(HK_SESSION_A_LOST, lost);
	U64(HK_SESSION_A_THROTTLED, throttled);
	U64(HK_SESSION_A_ROTATIONS, rotations);
	U64(HK_SESSION_A_COVERAGE, coverage);
	U64(HK_SESSION_A_REGION_BYTES, region_bytes);
	U64(HK_SESSION_A_DISABLES, disables);
	U64(HK_SESSION_A_ELAPSED_NS, elapsed_ns);
	U32(HK_SESSION_A_MODE, mode);
	U32(HK_SESSION_A_PAGE_BUDGET, page_budget);
	U32(HK_SESSION_A_PAGES, pages);
	U32(HK_SESSION_A_ARMED, armed);
	U64(HK_SESSION_A_ARMS, arms);
	U64(HK_SESSION_A_UACCESS, uaccess);
	U32(HK_SESSION_A_ACCESS, access);
#undef U32
#undef U64
}

/* A message of our family: notification (seq 0) or reply. */
static inline void hk_cl_handle(struct hk_cl *c, struct nlmsghdr *nlh)
{
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct nlattr *tb[HK_A_MAX + 1];

	if (genlmsg_parse(nlh, 0, tb, HK_A_MAX, NULL))
		return;
	switch (g->cmd) {
	case HK_CMD_RECORDS:
		c->nmsgs++;
		if (tb[HK_A_LOST])
			c->lost = nla_get_u64(tb[HK_A_LOST]);
		if (tb[HK_A_THROTTLED])
			c->throttled = nla_get_u64(tb[HK_A_THROTTLED]);
		if (tb[HK_A_RECORDS]) {
			size_t n = nla_len(tb[HK_A_RECORDS]) / sizeof(struct hk_record);

			if (c->nrecs + n > c->caprecs) {
				c->caprecs = (c->nrecs + n) * 2;
				c->recs = realloc(c->recs, c->caprecs * sizeof(*c->recs));
			}
			/* attribute data is only 4-byte aligned: copy */
			memcpy(c->recs + c->nrecs, nla_data(tb[HK_A_RECORDS]),
			       n * sizeof(struct hk_record));
			c->nrecs += n;
		}
		break;
	case HK_CMD_END:
		c->ended = true;
		if (tb[HK_A_END_REASON])
			c->end_reason = nla_get_u32(tb[HK_A_END_REASON]);
		if (tb[HK_A_SESSION_ID])
			c->end_session = nla_get_u32(tb[HK_A_SESSION_ID]);
		if (tb[HK_A_LOST])
			c->lost = nla_get_u64(tb[HK_A_LOST]);
		if (tb[HK_A_THROTTLED])
			c->throttled = nla_get_u64(tb[HK_A_THROTTLED]);
		if (tb[HK_A_SESSION])
			hk_parse_session(tb[HK_A_SESSION], &c->end_info);
		break;
	default:	/* replies */
		if (tb[HK_A_SESSION_ID])
			c->reply_id = nla_get_u32(tb[HK_A_SESSION_ID]);
		if (tb[HK_A_SESSIONS])
			c->reply_sessions = nla_get_u32(tb[HK_A_SESSIONS]);
		if (tb[HK_A_VERSION])
			c->reply_version = nla_get_u32(tb[HK_A_VERSION]);
		if (tb[HK_A_SESSION]) {
			hk_parse_session(tb[HK_A_SESSION], &c->info);
			c->ndump++;
		}
		break;
	}
}

static inline void hk_cl_extack(struct hk_cl *c, struct nlmsghdr *nlh)
{
	struct nlmsgerr *e = nlmsg_data(nlh);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e);
	int len;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	len = nlh->nlmsg_len - NLMSG_HDRLEN - off;
	if (len <= 0)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)e + off), len, NULL))
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(c->extack, sizeof(c->extack), "%s",
			 (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	else if (tb[NLMSGERR_ATTR_MISS_TYPE])
		snprintf(c->extack, sizeof(c->extack), "missing attribute %u",
			 nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]));
}

/*
 * Receive once (waiting up to @timeout_ms) and process every message.
 * Return: 1 when the request @seq completed (its error in *err), 0 when
 * not yet, -ETIMEDOUT on timeout, other negative errno on failure.
 */
static inline int hk_cl_recv(struct hk_cl *c, uint32_t seq, int *err, int timeout_ms)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(c->sk), .events = POLLIN };
	struct sockaddr_nl nla;
	unsigned char *buf = NULL;
	struct nlmsghdr *nlh;
	int n, done = 0;

	n = poll(&pfd, 1, timeout_ms);
	if (n == 0)
		return -ETIMEDOUT;
	if (n < 0)
		return -errno;
	n = nl_recv(c->sk, &nla, &buf, NULL);
	if (n <= 0)
		return n == 0 ? -EAGAIN : n;
	for (nlh = (struct nlmsghdr *)buf; nlmsg_ok(nlh, n); nlh = nlmsg_next(nlh, &n)) {
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = nlmsg_data(nlh);

			if (seq && nlh->nlmsg_seq == seq) {
				if (e->error)
					hk_cl_extack(c, nlh);
				*err = e->error;
				done = 1;
			}
		} else if (nlh->nlmsg_type == NLMSG_DONE) {
			if (seq && nlh->nlmsg_seq == seq) {
				*err = 0;
				done = 1;
			}
		} else if (nlh->nlmsg_type == c->family) {
			hk_cl_handle(c, nlh);
		}
	}
	free(buf);
	return done;
}

static inline int hk_cl_open(struct hk_cl *c)
{
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->sk = nl_socket_alloc();
	if (!c->sk)
		return -ENOMEM;
	if (genl_connect(c->sk))
		return -ECONNREFUSED;
	nl_socket_disable_seq_check(c->sk);
	nl_socket_set_buffer_size(c->sk, 1 << 20, 1 << 20);
	nl_socket_set_msg_buf_size(c->sk, 1 << 16);
	setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	c->family = genl_ctrl_resolve(c->sk, HAWKEYES_GENL_NAME);
	return c->family < 0 ? c->family : 0;
}

static inline void hk_cl_close(struct hk_cl *c)
{
	if (c->aux) {
		hk_cl_close(c->aux);
		free(c->aux);
	}
	if (c->sk)
		nl_socket_free(c->sk);
	free(c->recs);
	memset(c, 0, sizeof(*c));
}

static inline struct nl_msg *hk_cl_msg(struct hk_cl *c, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, c->family, 0,
		    NLM_F_ACK | flags, cmd, HAWKEYES_GENL_VERSION);
	return msg;
}

/* Send @msg (freed) and wait for its ack; notifications are collected. */
static inline int hk_cl_request(struct hk_cl *c, struct nl_msg *msg)
{
	uint32_t seq;
	int err = 0, ret;
	/* generous: arming dozens of busy threads under TCG takes seconds */
	uint64_t end = hk_now_ms() + 60000;

	c->extack[0] = 0;
	c->ndump = 0;
	ret = nl_send_auto(c->sk, msg);
	seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	if (ret < 0)
		return -EIO;
	while (hk_now_ms() < end) {
		ret = hk_cl_recv(c, seq, &err, 1000);
		if (ret == 1)
			return err;
		if (ret < 0 && ret != -ETIMEDOUT && ret != -EAGAIN)
			return ret;
	}
	return -ETIMEDOUT;
}

/* Collect notifications until @pred or @timeout_ms. */
static inline void hk_cl_poll_until(struct hk_cl *c, int timeout_ms,
				    bool (*pred)(struct hk_cl *c, void *arg), void *arg)
{
	uint64_t end = hk_now_ms() + timeout_ms;
	int err;

	while (!(pred && pred(c, arg)) && hk_now_ms() < end)
		hk_cl_recv(c, 0, &err, 50);
}

static inline bool hk_pred_ended(struct hk_cl *c, void *arg)
{
	return c->ended;
}

static inline bool hk_pred_nrecs(struct hk_cl *c, void *arg)
{
	return c->ended || c->nrecs >= *(size_t *)arg;
}

struct hk_region_arg {
	uint64_t start, len;
};

struct hk_opts_arg {
	uint32_t access, rotate_ms, budget, buffer, slots;	/* 0 = not sent */
	bool rotate_set;
	uint32_t mode, page_budget;				/* 0 = not sent */
};

static inline int hk_cl_attach(struct hk_cl *c, uint32_t pid,
			       const struct hk_region_arg *r, int nr,
			       const struct hk_opts_arg *o, uint32_t *id)
{
	struct nl_msg *msg = hk_cl_msg(c, HK_CMD_ATTACH, 0);
	struct nlattr *regs, *one, *opts;
	int i, ret;

	nla_put_u32(msg, HK_A_PID, pid);
	regs = nla_nest_start(msg, HK_A_REGIONS | NLA_F_NESTED);
	for (i = 0; i < nr; i++) {
		one = nla_nest_start(msg, HK_A_REGIONS_REGION | NLA_F_NESTED);
		nla_put_u64(msg, HK_REGION_A_START, r[i].start);
		nla_put_u64(msg, HK_REGION_A_LEN, r[i].len);
		nla_nest_end(msg, one);
	}
	nla_nest_end(msg, regs);
	if (o && o->mode)
		nla_put_u32(msg, HK_A_MODE, o->mode);
	if (o) {
		opts = nla_nest_start(msg, HK_A_OPTIONS | NLA_F_NESTED);
		if (o->access)
			nla_put_u32(msg, HK_OPT_A_ACCESS, o->access);
		if (o->rotate_set)
			nla_put_u32(msg, HK_OPT_A_ROTATE_MS, o->rotate_ms);
		if (o->budget)
			nla_put_u32(msg, HK_OPT_A_BUDGET, o->budget);
		if (o->buffer)
			nla_put_u32(msg, HK_OPT_A_BUFFER, o->buffer);
		if (o->slots)
			nla_put_u32(msg, HK_OPT_A_SLOTS, o->slots);
		if (o->page_budget)
			nla_put_u32(msg, HK_OPT_A_PAGE_BUDGET, o->page_budget);
		nla_nest_end(msg, opts);
	}
	c->reply_id = 0;
	ret = hk_cl_request(c, msg);
	if (!ret && id)
		*id = c->reply_id;
	return ret;
}

/* Send @msg built for @c on @c's control socket; copy the results back. */
static inline int hk_cl_request_aux(struct hk_cl *c, uint8_t cmd, int attr, uint32_t val)
{
	struct nl_msg *msg;
	int ret;

	if (!c->aux) {
		c->aux = calloc(1, sizeof(*c->aux));
		if (!c->aux || hk_cl_open(c->aux))
			return -ENOMEM;
	}
	msg = hk_cl_msg(c->aux, cmd, 0);
	if (attr)
		nla_put_u32(msg, attr, val);
	c->aux->reply_sessions = ~0u;
	ret = hk_cl_request(c->aux, msg);
	memcpy(c->extack, c->aux->extack, sizeof(c->extack));
	c->info = c->aux->info;
	c->reply_sessions = c->aux->reply_sessions;
	c->reply_version = c->aux->reply_version;
	return ret;
}

static inline int hk_cl_detach(struct hk_cl *c, uint32_t id)
{
	return hk_cl_request_aux(c, HK_CMD_DETACH, HK_A_SESSION_ID, id);
}

static inline int hk_cl_get_session(struct hk_cl *c, uint32_t id)
{
	return hk_cl_request_aux(c, HK_CMD_GET_SESSION, HK_A_SESSION_ID, id);
}

/* Number of live sessions, module-wide; negative errno on failure. */
static inline int hk_cl_sessions(struct hk_cl *c)
{
	int ret = hk_cl_request_aux(c, HK_CMD_GET_STATUS, 0, 0);

	return ret ? ret : (int)c->reply_sessions;
}

/* Poll status until no session is left (teardown is asynchronous). */
static inline int hk_cl_wait_no_sessions(struct hk_cl *c, int timeout_ms)
{
	uint64_t end = hk_now_ms() + timeout_ms;
	int n;

	while ((n = hk_cl_sessions(c)) > 0 && hk_now_ms() < end)
		usleep(20000);
	return n;
}

/* A counter of /sys/kernel/debug/hawkeyes/objects, or -1. */
static inline long hk_object(const char *name)
{
	FILE *f = fopen("/sys/kernel/debug/hawkeyes/objects", "r");
	char key[64];
	long v, ret = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &v) == 2)
		if (!strcmp(key, name))
			ret = v;
	fclose(f);
	return ret;
}

static inline bool hk_objects_zero(char *why, size_t len)
{
	static const char *const names[] = {
		"sessions", "threads", "watchpoints", "buffers", "task_works",
		"armed_pages", "procs",
	};
	uint64_t end = hk_now_ms() + 3000;
	size_t i;

	/* Objects are freed after an RCU grace period: allow a moment. */
	do {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (hk_object(names[i]) != 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return true;
		usleep(20000);
	} while (hk_now_ms() < end);
	snprintf(why, len, "%s=%ld", names[i], hk_object(names[i]));
	return false;
}

/*
 * In a kselftest test or teardown: once the sessions have ended (up to
 * 10 s: a client's end is asynchronous), every live object of the module
 * is back to zero.
 */
#define EXPECT_OBJECTS_ZERO() do {						\
	uint64_t _end = hk_now_ms() + 10000;					\
	char _why[64];								\
										\
	while (hk_object("sessions") > 0 && hk_now_ms() < _end)			\
		usleep(20000);							\
	EXPECT_TRUE(hk_objects_zero(_why, sizeof(_why))) TH_LOG("left: %s", _why); \
} while (0)

/* Lines in the kernel log: compared before/after to catch noise. */
static inline int hk_kmsg_lines(void)
{
	FILE *p = popen("dmesg 2>/dev/null | wc -l", "r");
	int n = -1;

	if (!p)
		return -1;
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

/* ---- target programs (progs/) --------------------------------------- */

struct hk_target {
	pid_t pid;
	FILE *in;	/* commands to the target */
	FILE *out;	/* its replies */
	uint64_t var, store, store_end;
};

static inline const char *hk_prog_path(const char *name, char *buf, size_t len)
{
	char self[512];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n < 0)
		n = 0;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	snprintf(buf, len, "%s/progs/%s", self, name);
	return buf;
}

/* Start progs/@name with @argv tail; read its hello line. */
static inline int hk_target_start(struct hk_target *t, const char *name,
				  char *const extra[])
{
	int in[2], out[2];
	char path[600], line[512];
	char *argv[16] = { path };
	int i;

	memset(t, 0, sizeof(*t));
	hk_prog_path(name, path, sizeof(path));
	for (i = 0; extra && extra[i] && i < 14; i++)
		argv[i + 1] = extra[i];
	if (pipe(in) || pipe(out))
		return -errno;
	t->pid = fork();
	if (t->pid < 0)
		return -errno;
	if (!t->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		execv(path, argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	t->in = fdopen(in[1], "w");
	t->out = fdopen(out[0], "r");
	setvbuf(t->in, NULL, _IONBF, 0);
	if (!fgets(line, sizeof(line), t->out))
		return -EIO;
	if (sscanf(line, "hello var=%lx store=%lx store_end=%lx",
		   &t->var, &t->store, &t->store_end) != 3)
		return -EPROTO;
	return 0;
}

/* Send a command line, read one reply line into @reply (may be NULL). */
static inline int hk_target_cmd(struct hk_target *t, const char *cmd,
				char *reply, size_t len)
{
	char buf[4096];

	if (fprintf(t->in, "%s\n", cmd) < 0)
		return -EPIPE;
	if (!reply) {
		reply = buf;
		len = sizeof(buf);
	}
	if (!fgets(reply, len, t->out))
		return -EIO;
	return 0;
}

static inline int hk_target_stop(struct hk_target *t)
{
	int status = -1;

	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &status, 0);
		t->pid = 0;
	}
	if (t->in)
		fclose(t->in);
	if (t->out)
		fclose(t->out);
	t->in = t->out = NULL;
	return status;
}

#endif /* _HK_TEST_H */
