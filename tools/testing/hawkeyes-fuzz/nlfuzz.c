// SPDX-License-Identifier: GPL-2.0
/*
 * nlfuzz: throw random and mutated requests at the "hawkeyes" generic
 * netlink family (kmod/uapi/hawkeyes.h) and check that the module answers
 * every one of them and leaves nothing behind.
 *
 *   nlfuzz [-n REQUESTS] [-s SEED] [-v]
 *
 * Runs inside the test VM (scripts/vm-run --kernel debug), as root, with
 * hawkeyes.ko loaded. Requests have valid netlink and genetlink headers
 * and NLM_F_ACK; their bodies are drawn from:
 *   - ATTACH requests the module should accept (the live target);
 *   - well-formed ATTACH with random options, regions and pids (the live
 *     target, its threads, ourselves, init, gone and impossible pids),
 *     boundary values (0, 1, max, max + 1, U32_MAX, U64_MAX);
 *   - the same, with random bytes of the attribute area flipped;
 *   - DETACH / GET_SESSION of live, ended and random ids, and dumps;
 *   - random attribute types and payload lengths, nests of garbage,
 *     unknown commands, wrong flags, random bytes.
 * A live target (a process whose two threads keep writing a variable this
 * program knows the address of) is started, killed, made to exec and
 * restarted while sessions are attached to it.
 *
 * Checks: every request gets its answer (ACK, error or DONE with its
 * sequence number) within 10 s; no ENOBUFS on the socket; GET_STATUS still
 * answers at the end; after detaching and closing, the module's live
 * objects (/sys/kernel/debug/hawkeyes/objects) return to zero. The kernel
 * side (no splat, clean unload, no leak) is the VM harness's verdict.
 * Output: KTAP, and a line of counts.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "hawkeyes.h"

#define ANSWER_TIMEOUT_S	10

/* ---- the live target ------------------------------------------------- */

/* Same address in the target: it is a fork (or an exec) of this program. */
static volatile uint64_t target_var[8] __attribute__((aligned(64)));
static void *target_writer(void *arg)
{
	uintptr_t i = (uintptr_t)arg;

	for (;;) {
		target_var[i]++;
		target_var[i + 2] = target_var[i ^ 1];
		usleep(2000);
	}
	return NULL;
}

static void target_on_usr1(int sig);

static void target_main(void)
{
	pthread_t t;

	signal(SIGUSR1, target_on_usr1);
	pthread_create(&t, NULL, target_writer, (void *)0);
	target_writer((void *)1);
}

static pid_t target_pid;

static void target_start(void)
{
	target_pid = fork();
	if (target_pid == 0) {
		target_main();
		_exit(0);
	}
}

static void target_stop(void)
{
	if (target_pid > 0) {
		kill(target_pid, SIGKILL);
		waitpid(target_pid, NULL, 0);
	}
	target_pid = 0;
}

/* The target execs into a fresh copy of itself (sessions end with EXEC). */
static void target_exec(void)
{
	if (target_pid > 0)
		kill(target_pid, SIGUSR1);
}

void target_on_usr1(int sig)
{
	char *argv[] = { "nlfuzz", "--target", NULL };

	execv("/proc/self/exe", argv);
	_exit(1);
}

/* ---- randomness ------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(int percent)
{
	return rnd_below(100) < (uint64_t)percent;
}

static uint32_t pick_u32(const uint32_t *v, size_t n)
{
	return v[rnd_below(n)];
}

/* A u32 from the interesting values around a range, or anything. */
static uint32_t rnd_u32_around(uint32_t lo, uint32_t hi)
{
	uint32_t v[] = { 0, 1, lo, lo - 1, lo + 1, hi, hi - 1, hi + 1,
			 UINT32_MAX, UINT32_MAX - 1, 0x80000000u, 0x7fffffffu };

	if (chance(30))
		return lo + (uint32_t)rnd_below((uint64_t)hi - lo + 1);
	if (chance(15))
		return (uint32_t)rnd();
	return pick_u32(v, sizeof(v) / sizeof(v[0]));
}

static uint64_t rnd_u64_edge(void)
{
	static const uint64_t v[] = {
		0, 1, 7, 8, 4095, 4096, 4097, 0xffffffffull, 0x100000000ull,
		0x7fffffffffffull, 0x800000000000ull, 0xffff800000000000ull,
		UINT64_MAX, UINT64_MAX - 7, 0x8000000000000000ull, 256 * 1024, 256 * 1024 + 1,
	};

	if (chance(20))
		return rnd();
	return v[rnd_below(sizeof(v) / sizeof(v[0]))];
}

/* ---- stats and output ------------------------------------------------ */

static struct {
	unsigned long sent, answered, acks, replies, dumps, notifications, ends;
	unsigned long attach_ok, detach_ok, enobufs, target_restarts, target_execs;
	unsigned long errno_hist[256];
} st;

static int verbose;
static int test_no;
static int failures;
static int skipped;

static void ktap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d ", ok ? "ok" : "not ok", ++test_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		failures++;
	fflush(stdout);
}

static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* ---- the netlink side ------------------------------------------------ */

static struct nl_sock *sk;
static int family;

#define MAX_IDS 64
static uint32_t live_ids[MAX_IDS];
static int nr_live;
static uint32_t max_id_seen;

static void id_add(uint32_t id)
{
	if (id > max_id_seen)
		max_id_seen = id;
	if (nr_live < MAX_IDS)
		live_ids[nr_live++] = id;
}

static void id_del(uint32_t id)
{
	int i;

	for (i = 0; i < nr_live; i++)
		if (live_ids[i] == id) {
			live_ids[i] = live_ids[--nr_live];
			return;
		}
}

static uint32_t rnd_session_id(void)
{
	if (nr_live && chance(60))
		return live_ids[rnd_below(nr_live)];
	if (chance(50))
		return (uint32_t)rnd_below(max_id_seen + 3);
	return rnd_u32_around(1, UINT32_MAX);
}

/* A thread of the target other than its leader, if there is one. */
static uint32_t target_tid(void)
{
	char path[64];
	struct dirent *d;
	uint32_t tid = target_pid;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", target_pid);
	dir = opendir(path);
	if (!dir)
		return tid;
	while ((d = readdir(dir)))
		if (atoi(d->d_name) > 0 && atoi(d->d_name) != target_pid)
			tid = atoi(d->d_name);
	closedir(dir);
	return tid;
}

static uint32_t rnd_pid(void)
{
	switch (rnd_below(10)) {
	case 0: case 1: case 2: case 3:
		return target_pid;
	case 4:
		return target_tid();
	case 5:
		return getpid();
	case 6:
		return 1;
	case 7:
		return rnd_u32_around(1, 4194304);	/* PID_MAX_LIMIT */
	default:
		return (uint32_t)rnd_below(400);	/* probably gone or a kernel thread */
	}
}

/*
 * Parse everything waiting on the socket. Returns 1 when the answer to
 * @seq arrived, 0 when not yet, -1 on a socket error.
 */
static int drain(uint32_t seq, int *err_out, uint32_t *new_id)
{
	static char buf[1 << 17];
	struct nlmsghdr *nlh;
	int len, done = 0;

	len = recv(nl_socket_get_fd(sk), buf, sizeof(buf), 0);
	if (len < 0) {
		if (errno == ENOBUFS) {
			st.enobufs++;
			return 0;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		return -1;
	}
	for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
		if (nlh->nlmsg_seq == 0 && nlh->nlmsg_type == family) {
			struct genlmsghdr *g = NLMSG_DATA(nlh);
			struct nlattr *tb[HK_A_MAX + 1];

			st.notifications++;
			if (g->cmd == HK_CMD_END) {
				st.ends++;
				if (!genlmsg_parse(nlh, 0, tb, HK_A_MAX, NULL) && tb[HK_A_SESSION_ID])
					id_del(nla_get_u32(tb[HK_A_SESSION_ID]));
			}
			continue;
		}
		if (nlh->nlmsg_seq != seq) {
			diag("stray message type %u seq %u (waiting for %u)",
			     nlh->nlmsg_type, nlh->nlmsg_seq, seq);
			continue;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nlh);

			*err_out = e->error;
			done = 1;
		} else if (nlh->nlmsg_type == NLMSG_DONE) {
			*err_out = 0;
			st.dumps++;
			done = 1;
		} else if (nlh->nlmsg_type == family) {
			struct genlmsghdr *g = NLMSG_DATA(nlh);
			struct nlattr *tb[HK_A_MAX + 1];

			st.replies++;
			if (g->cmd == HK_CMD_ATTACH &&
			    !genlmsg_parse(nlh, 0, tb, HK_A_MAX, NULL) && tb[HK_A_SESSION_ID])
				*new_id = nla_get_u32(tb[HK_A_SESSION_ID]);
		}
	}
	return done;
}

/*
 * Send @msg (its header is completed here: our port, the next sequence
 * number, NLM_F_REQUEST | NLM_F_ACK plus @flags) and wait for its answer.
 * Returns the error the kernel answered (0 = ACK/DONE), or 1 if no answer
 * came in time.
 */
static int transact(struct nl_msg *msg, uint32_t *new_id)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	time_t deadline;
	uint32_t seq;
	int err = 0, r;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq = nl_socket_use_seq(sk);
	nlh->nlmsg_pid = nl_socket_get_local_port(sk);
	if (nl_sendto(sk, nlh, nlh->nlmsg_len) < 0) {
		diag("send failed: %s", strerror(errno));
		return 1;
	}
	st.sent++;
	deadline = time(NULL) + ANSWER_TIMEOUT_S;
	*new_id = 0;
	while ((r = drain(seq, &err, new_id)) == 0 && time(NULL) < deadline)
		;
	if (r != 1) {
		diag("request seq %u (type %u cmd %u len %u) got no answer",
		     seq, nlh->nlmsg_type, ((struct genlmsghdr *)nlmsg_data(nlh))->cmd,
		     nlh->nlmsg_len);
		return 1;
	}
	st.answered++;
	if (err == 0)
		st.acks++;
	st.errno_hist[(-err) & 0xff]++;
	return err;
}

static struct nl_msg *new_req(uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc_size(1 << 16);

	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, cmd,
				 HAWKEYES_GENL_VERSION)) {
		fprintf(stderr, "nlfuzz: out of memory\n");
		exit(1);
	}
	return msg;
}

/* An attribute of @type whose payload has a random, often wrong, length. */
static void put_random_attr(struct nl_msg *msg, int type)
{
	static const size_t lens[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 64, 255, 256, 1000 };
	uint8_t payload[1000];
	size_t len = lens[rnd_below(sizeof(lens) / sizeof(lens[0]))], i;

	for (i = 0; i < len; i++)
		payload[i] = (uint8_t)rnd();
	if (len >= 4 && chance(50)) {
		uint32_t v = rnd_u32_around(0, 16);

		memcpy(payload, &v, 4);
	}
	nla_put(msg, type, len, payload);
}

static void put_u64_pad(struct nl_msg *msg, int type, uint64_t v)
{
	/* Sometimes as a u32 or with a wrong length: the policy must refuse. */
	if (chance(5)) {
		nla_put_u32(msg, type, (uint32_t)v);
		return;
	}
	nla_put_u64(msg, type, v);
}

static void put_region(struct nl_msg *msg)
{
	struct nlattr *one = nla_nest_start(msg, chance(95) ? HK_A_REGIONS_REGION : (int)rnd_below(8));
	uint64_t start, len;

	if (chance(60)) {
		start = (uintptr_t)&target_var[rnd_below(8)] + rnd_below(8) - (chance(5) ? 64 : 0);
		len = chance(70) ? 1 + rnd_below(64) : rnd_u64_edge();
	} else {
		start = rnd_u64_edge() + (chance(50) ? (uintptr_t)target_var : 0);
		len = rnd_u64_edge();
	}
	if (!chance(3))
		put_u64_pad(msg, HK_REGION_A_START, start);
	if (!chance(3))
		put_u64_pad(msg, HK_REGION_A_LEN, len);
	if (chance(3))
		put_random_attr(msg, (int)rnd_below(HK_REGION_A_MAX + 3));
	nla_nest_end(msg, one);
}

static void put_options(struct nl_msg *msg)
{
	struct nlattr *o = nla_nest_start(msg, HK_A_OPTIONS);

	if (chance(60))
		nla_put_u32(msg, HK_OPT_A_ACCESS, chance(80) ? 1 + rnd_below(2) :
			    rnd_u32_around(HK_ACCESS_W, HK_ACCESS_MAX));
	if (chance(60))
		nla_put_u32(msg, HK_OPT_A_ROTATE_MS, chance(70) ? rnd_below(200) :
			    rnd_u32_around(0, HK_MAX_ROTATE_MS));
	if (chance(60))
		nla_put_u32(msg, HK_OPT_A_BUDGET, chance(70) ? 1 + rnd_below(20000) :
			    rnd_u32_around(1, HK_MAX_BUDGET));
	if (chance(60))
		nla_put_u32(msg, HK_OPT_A_BUFFER, chance(70) ? HK_MIN_BUFFER + rnd_below(8192) :
			    rnd_u32_around(HK_MIN_BUFFER, 1u << 24));
	if (chance(60))
		nla_put_u32(msg, HK_OPT_A_SLOTS, chance(80) ? 1 + rnd_below(4) :
			    rnd_u32_around(1, HK_MAX_SLOTS));
	if (chance(5))
		put_random_attr(msg, (int)rnd_below(HK_OPT_A_MAX + 4));
	nla_nest_end(msg, o);
}

/* An ATTACH the module should accept: the live target, sane settings. */
static struct nl_msg *gen_valid_attach(void)
{
	struct nl_msg *msg = new_req(HK_CMD_ATTACH, 0);
	struct nlattr *regs, *one, *o;
	int i, n = 1 + (int)rnd_below(4);

	nla_put_u32(msg, HK_A_PID, chance(80) ? (uint32_t)target_pid : target_tid());
	regs = nla_nest_start(msg, HK_A_REGIONS);
	for (i = 0; i < n; i++) {
		uint64_t start = (uintptr_t)&target_var[rnd_below(8)];

		one = nla_nest_start(msg, HK_A_REGIONS_REGION);
		nla_put_u64(msg, HK_REGION_A_START, start + rnd_below(8));
		nla_put_u64(msg, HK_REGION_A_LEN, 1 + rnd_below(16));
		nla_nest_end(msg, one);
	}
	nla_nest_end(msg, regs);
	if (chance(70)) {
		o = nla_nest_start(msg, HK_A_OPTIONS);
		nla_put_u32(msg, HK_OPT_A_ACCESS, 1 + rnd_below(2));
		nla_put_u32(msg, HK_OPT_A_ROTATE_MS, rnd_below(100));
		nla_put_u32(msg, HK_OPT_A_BUDGET, 1 + rnd_below(100000));
		nla_put_u32(msg, HK_OPT_A_BUFFER, HK_MIN_BUFFER + rnd_below(4096));
		nla_put_u32(msg, HK_OPT_A_SLOTS, 1 + rnd_below(HK_MAX_SLOTS));
		nla_nest_end(msg, o);
	}
	return msg;
}

static struct nl_msg *gen_attach(void)
{
	struct nl_msg *msg = new_req(HK_CMD_ATTACH, 0);
	struct nlattr *regs;
	int i, n;

	if (!chance(3))
		nla_put_u32(msg, HK_A_PID, chance(3) ? rnd_u32_around(1, 4194304) : rnd_pid());
	if (chance(30))
		nla_put_u32(msg, HK_A_MODE, chance(70) ? HK_MODE_HWBP :
			    rnd_u32_around(HK_MODE_HWBP, HK_MODE_MAX));
	if (!chance(3)) {
		regs = nla_nest_start(msg, HK_A_REGIONS);
		n = chance(80) ? 1 + (int)rnd_below(4) : (int)rnd_below(40);
		for (i = 0; i < n; i++)
			put_region(msg);
		nla_nest_end(msg, regs);
	}
	if (chance(50))
		put_options(msg);
	if (chance(5))
		put_random_attr(msg, (int)rnd_below(HK_A_MAX + 4));
	return msg;
}

/* Flip, set or clear random bytes after the genetlink header. */
static void mutate(struct nl_msg *msg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN, len = nlh->nlmsg_len, n, i;
	uint8_t *p = (uint8_t *)nlh;

	if (len <= off)
		return;
	n = 1 + rnd_below(4);
	for (i = 0; i < n; i++) {
		size_t at = off + rnd_below(len - off);

		switch (rnd_below(4)) {
		case 0: p[at] ^= 1u << rnd_below(8); break;
		case 1: p[at] = 0; break;
		case 2: p[at] = 0xff; break;
		default: p[at] = (uint8_t)rnd(); break;
		}
	}
	/* Sometimes cut the message short (inside an attribute). */
	if (chance(10))
		nlh->nlmsg_len = off + rnd_below(len - off);
}

static struct nl_msg *gen_garbage(void)
{
	static const uint8_t cmds[] = { HK_CMD_UNSPEC, HK_CMD_GET_STATUS, HK_CMD_ATTACH,
					HK_CMD_DETACH, HK_CMD_GET_SESSION, HK_CMD_RECORDS,
					HK_CMD_END, 7, 8, 100, 255 };
	struct nl_msg *msg = new_req(cmds[rnd_below(sizeof(cmds))],
				     chance(20) ? NLM_F_DUMP : 0);
	int i, n = (int)rnd_below(6);

	for (i = 0; i < n; i++) {
		if (chance(20)) {
			struct nlattr *nest = nla_nest_start(msg, (int)rnd_below(HK_A_MAX + 3));

			put_random_attr(msg, (int)rnd_below(HK_SESSION_A_MAX + 2));
			nla_nest_end(msg, nest);
		} else {
			put_random_attr(msg, (int)rnd_below(HK_A_MAX + 3));
		}
	}
	if (chance(20)) {
		uint8_t raw[64];
		size_t k, len = rnd_below(sizeof(raw));

		for (k = 0; k < len; k++)
			raw[k] = (uint8_t)rnd();
		nlmsg_append(msg, raw, len, chance(50) ? NLMSG_ALIGNTO : 1);
	}
	return msg;
}

static void one_request(void)
{
	struct nl_msg *msg;
	uint32_t new_id = 0, id;
	int kind = (int)rnd_below(100), ret;
	bool is_attach = false, is_detach = false;

	if (kind < 15) {
		msg = gen_valid_attach();
		is_attach = true;
	} else if (kind < 35) {
		msg = gen_attach();
		is_attach = true;
	} else if (kind < 50) {
		msg = gen_attach();
		mutate(msg);
		is_attach = true;
	} else if (kind < 65) {
		msg = new_req(HK_CMD_DETACH, 0);
		id = rnd_session_id();
		if (!chance(3))
			nla_put_u32(msg, HK_A_SESSION_ID, id);
		if (chance(5))
			mutate(msg);
		is_detach = true;
	} else if (kind < 75) {
		msg = new_req(HK_CMD_GET_SESSION, chance(40) ? NLM_F_DUMP : 0);
		if (!chance(10))
			nla_put_u32(msg, HK_A_SESSION_ID, rnd_session_id());
	} else if (kind < 80) {
		msg = new_req(HK_CMD_GET_STATUS, chance(10) ? NLM_F_DUMP : 0);
		if (chance(20))
			put_random_attr(msg, (int)rnd_below(HK_A_MAX + 3));
	} else {
		msg = gen_garbage();
	}
	ret = transact(msg, &new_id);
	if (ret == 1) {
		/* counted: sent but not answered */
	} else if (is_attach && new_id) {
		st.attach_ok++;
		id_add(new_id);
	} else if (is_detach && ret == 0) {
		st.detach_ok++;
		id_del(id);
	}
	if (verbose)
		diag("request %lu: kind %d -> %d", st.sent, kind, ret);
	nlmsg_free(msg);
}

/* GET_STATUS, parsed: HK_A_SESSIONS, or -1. */
static long status_sessions(void)
{
	struct nl_msg *msg = new_req(HK_CMD_GET_STATUS, 0);
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	static char buf[1 << 16];
	struct nlattr *tb[HK_A_MAX + 1];
	long sessions = -1;
	time_t deadline = time(NULL) + ANSWER_TIMEOUT_S;
	uint32_t seq;
	int len;
	bool done = false;

	nlh->nlmsg_flags |= NLM_F_REQUEST;
	nlh->nlmsg_seq = seq = nl_socket_use_seq(sk);
	nl_sendto(sk, nlh, nlh->nlmsg_len);
	nlmsg_free(msg);
	while (!done && time(NULL) < deadline) {
		len = recv(nl_socket_get_fd(sk), buf, sizeof(buf), 0);
		if (len < 0)
			continue;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			done = true;
			if (nlh->nlmsg_type == family &&
			    !genlmsg_parse(nlh, 0, tb, HK_A_MAX, NULL) && tb[HK_A_SESSIONS])
				sessions = nla_get_u32(tb[HK_A_SESSIONS]);
		}
	}
	return sessions;
}

/* The first nonzero counter of the objects file, as "name=value", or "". */
static bool objects_zero(char *why, size_t len)
{
	char key[64];
	long v;
	int tries;
	FILE *f;

	for (tries = 0; tries < 150; tries++) {
		bool zero = true;

		f = fopen("/sys/kernel/debug/hawkeyes/objects", "r");
		if (!f) {
			snprintf(why, len, "no /sys/kernel/debug/hawkeyes/objects");
			return false;
		}
		while (fscanf(f, "%63s %ld", key, &v) == 2)
			if (v != 0 && strcmp(key, "buffer_bytes")) {
				zero = false;
				snprintf(why, len, "%s=%ld", key, v);
			}
		fclose(f);
		if (zero) {
			why[0] = 0;
			return true;
		}
		usleep(20000);
	}
	return false;
}

static void connect_family(void)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };

	sk = nl_socket_alloc();
	if (!sk || genl_connect(sk)) {
		printf("Bail out! cannot open a generic netlink socket\n");
		exit(1);
	}
	family = genl_ctrl_resolve(sk, HAWKEYES_GENL_NAME);
	if (family < 0) {
		printf("Bail out! family %s not registered (module not loaded?)\n",
		       HAWKEYES_GENL_NAME);
		exit(1);
	}
	nl_socket_set_buffer_size(sk, 4 << 20, 1 << 20);
	setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

int main(int argc, char **argv)
{
	unsigned long n = 10000, i;
	uint64_t seed = 0;
	struct timespec t0, t1;
	char why[128];
	long sessions;
	int c, e;

	if (argc == 2 && !strcmp(argv[1], "--target")) {
		target_main();
		return 0;
	}
	while ((c = getopt(argc, argv, "n:s:v")) != -1) {
		switch (c) {
		case 'n': n = strtoul(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: nlfuzz [-n REQUESTS] [-s SEED] [-v]\n");
			return 2;
		}
	}
	if (!seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	rng_state = seed | 1;
	signal(SIGPIPE, SIG_IGN);

	printf("TAP version 13\n1..4\n");
	diag("nlfuzz: %lu requests, seed 0x%" PRIx64 " (rerun with -s to repeat)", n, seed);
	connect_family();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	target_start();
	usleep(50000);

	for (i = 0; i < n; i++) {
		one_request();
		if (chance(1)) {	/* ~every 100 requests the target goes */
			if (chance(30)) {
				target_exec();
				st.target_execs++;
			} else {
				target_stop();
				target_start();
				st.target_restarts++;
			}
		}
		if ((i + 1) % 1000 == 0)
			diag("%lu requests, %lu answered, %lu sessions attached, %lu ended",
			     i + 1, st.answered, st.attach_ok, st.ends);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	ktap(st.answered == st.sent && st.sent == n,
	     "every request answered (%lu sent, %lu answered)", st.sent, st.answered);
	ktap(st.enobufs == 0, "no ENOBUFS on the socket (%lu)", st.enobufs);

	/* Detach what is left, then let the socket and the target go. */
	while (nr_live) {
		struct nl_msg *msg = new_req(HK_CMD_DETACH, 0);
		uint32_t id = live_ids[nr_live - 1], dummy;

		nla_put_u32(msg, HK_A_SESSION_ID, id);
		transact(msg, &dummy);
		nlmsg_free(msg);
		id_del(id);
	}
	sessions = status_sessions();
	ktap(sessions == 0, "GET_STATUS answers and reports 0 sessions after detach (%ld)",
	     sessions);
	target_stop();
	nl_socket_free(sk);

	why[0] = 0;
	if (geteuid() != 0) {
		printf("ok %d module objects back to zero # SKIP the objects file is root's\n",
		       ++test_no);
		skipped++;
	} else {
		ktap(objects_zero(why, sizeof(why)), "module objects back to zero %s", why);
	}

	diag("%.1f s; %lu requests: %lu acks (errno 0), %lu replies, %lu dump ends, "
	     "%lu attaches, %lu detaches, %lu notifications (%lu END), "
	     "%lu target restarts, %lu target execs",
	     (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, st.sent, st.acks,
	     st.replies, st.dumps, st.attach_ok, st.detach_ok, st.notifications, st.ends,
	     st.target_restarts, st.target_execs);
	for (e = 1; e < 256; e++)
		if (st.errno_hist[e])
			diag("  errno %d (%s): %lu", e, strerror(e), st.errno_hist[e]);
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
	       test_no - failures - skipped, failures, skipped);
	return failures ? 1 : 0;
}
