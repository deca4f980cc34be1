// SPDX-License-Identifier: GPL-2.0
/*
 * The cost of a watchpoint hit, measured on this machine.
 *
 * A hit budget in hits per second bounds the slowdown only as well as the
 * cost of a hit is known: 5-20 us on hardware (the feasibility note),
 * 40-80 us under QEMU's TCG, where the module's default 10,000 hits/s is
 * most of a vCPU and a watched ring ran 6-18x slower (make bench). So
 * --mode auto, unless --budget is given, measures it before its
 * watchpoints go on and asks for the hits that cost HK_CAL_SHARE_PCT of
 * a CPU.
 *
 * The measurement is a hit like the target's: a child of hkctl stores to
 * a word of its own, HK_CAL_STORES times per round, with no watchpoint
 * and then under a write watchpoint of a session of its own (no
 * rotation, a budget nothing reaches). The difference of the least CPU
 * time of HK_CAL_ROUNDS rounds each, per store, is what the target's
 * thread pays: the trap, the module's handler, the return, and under TCG
 * QEMU's emulation of them (thread CPU time: the child may be preempted
 * by the target's threads without the measure growing). hkctl's own CPU
 * time to receive the records is added per record: on a machine with
 * fewer CPUs than busy threads the target pays for that too.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "calibrate.h"
#include "nl.h"
#include "util.h"

#define HK_CAL_STORES	64
#define HK_CAL_ROUNDS	3
#define HK_CAL_WAIT_MS	20000	/* arm64 TCG: 1-2 ms a hit */

/* The word the child stores to: its own cache line, nothing else on it. */
static volatile uint64_t hk_cal_word __attribute__((aligned(64)));

struct cal {
	uint64_t records;
};

static uint64_t cal_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* The least CPU time of HK_CAL_ROUNDS rounds of HK_CAL_STORES stores. */
static uint64_t cal_stores(void)
{
	uint64_t best = UINT64_MAX, t;
	int r, i;

	for (r = 0; r < HK_CAL_ROUNDS; r++) {
		t = cal_cpu_ns();
		for (i = 0; i < HK_CAL_STORES; i++)
			hk_cal_word = i;
		t = cal_cpu_ns() - t;
		if (t < best)
			best = t;
	}
	return best;
}

/* The child: unwatched rounds, "ready", wait for "go", watched rounds. */
static void __attribute__((noreturn)) cal_child(int go, int res)
{
	uint64_t t[2];
	char b;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(1);
	t[0] = cal_stores();
	if (write(res, "r", 1) != 1 || read(go, &b, 1) != 1)
		_exit(1);
	t[1] = cal_stores();
	_exit(write(res, t, sizeof(t)) == sizeof(t) ? 0 : 1);
}

static void cal_on_records(void *arg, uint32_t session, const struct hk_record *recs, size_t n,
			   uint64_t lost, uint64_t throttled)
{
	((struct cal *)arg)->records += n;
}

/*
 * Receive the session's records until the child's result (@t) has come
 * and every store was recorded, or HK_CAL_WAIT_MS passed. Adds hkctl's
 * CPU time in hk_nl_recv() to *@recv_ns.
 */
static int cal_collect(struct hk_nl *nl, const struct cal *cal, int res, uint64_t t[2],
		       uint64_t *recv_ns)
{
	uint64_t deadline = hk_now_ns() + HK_CAL_WAIT_MS * 1000000ull, now, c, overruns = 0;
	size_t got = 0;
	ssize_t n;
	int ret;

	while ((now = hk_now_ns()) < deadline) {
		struct pollfd p[2] = {
			{ .fd = hk_nl_fd(nl), .events = POLLIN },
			{ .fd = got < 2 * sizeof(uint64_t) ? res : -1, .events = POLLIN },
		};

		if (got == 2 * sizeof(uint64_t) &&
		    cal->records >= HK_CAL_ROUNDS * HK_CAL_STORES)
			return 0;
		if (poll(p, 2, (deadline - now) / 1000000 + 1) < 0 && errno != EINTR)
			return -errno;
		if (p[0].revents & POLLIN) {
			c = cal_cpu_ns();
			ret = hk_nl_recv(nl, &overruns);
			*recv_ns += cal_cpu_ns() - c;
			if (ret < 0)
				return ret;
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			n = read(res, (char *)t + got, 2 * sizeof(uint64_t) - got);
			if (n <= 0)
				return -EPIPE;	/* the child died */
			got += n;
		}
	}
	return -ETIMEDOUT;
}

/* Attach to the child @pid, let it store, measure. */
static int cal_measure(const char *cmd, pid_t pid, int go, int res, uint64_t *hit_ns)
{
	const uint64_t region[1][2] = { { (uintptr_t)&hk_cal_word, sizeof(hk_cal_word) } };
	const struct hk_nl_attach_req req = {
		.pid = pid,
		.mode = HK_MODE_HWBP,
		.access = HK_ACCESS_W,
		.rotate_set = 1,		/* rotate_ms 0: no rotation */
		.budget = HK_MAX_BUDGET,
		.nregions = 1,
		.regions = region,
	};
	struct cal cal = { 0 };
	const struct hk_nl_events ev = { cal_on_records, NULL, &cal };
	uint64_t t[2] = { 0 }, recv_ns = 0;
	struct hk_nl_session s;
	struct hk_nl *nl = NULL;
	char b;
	int ret;

	if (read(res, &b, 1) != 1) {
		hk_err(cmd, "hit calibration: the child died before it was ready");
		return -EPIPE;
	}
	ret = hk_nl_attach(&nl, &req, &ev, 1u << 20, &s);
	if (ret) {
		hk_err(cmd, "hit calibration: cannot attach to its child: %s%s%s", strerror(-ret),
		       nl && hk_nl_errmsg(nl) ? ": " : "", nl && hk_nl_errmsg(nl) ? hk_nl_errmsg(nl) : "");
		goto out;
	}
	if (write(go, "g", 1) != 1) {
		ret = -errno;
		hk_err(cmd, "hit calibration: %s", strerror(-ret));
		goto out;
	}
	ret = cal_collect(nl, &cal, res, t, &recv_ns);
	if (ret) {
		hk_err(cmd, "hit calibration: %s after %llu of %u hits", strerror(-ret),
		       (unsigned long long)cal.records, HK_CAL_ROUNDS * HK_CAL_STORES);
		goto out;
	}
	*hit_ns = (t[1] > t[0] ? (t[1] - t[0]) / HK_CAL_STORES : 0) + recv_ns / cal.records;
	if (!*hit_ns)
		*hit_ns = 1;
out:
	hk_nl_close(nl);
	return ret;
}

int hk_calibrate_hit(const char *cmd, uint64_t *hit_ns)
{
	int go[2], res[2], ret, st;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC)) {
		ret = -errno;
		goto err;
	}
	if (pipe2(res, O_CLOEXEC)) {
		ret = -errno;
		goto err_go;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto err_res;
	}
	if (!pid) {
		close(go[1]);
		close(res[0]);
		cal_child(go[0], res[1]);
	}
	close(go[0]);
	close(res[1]);
	ret = cal_measure(cmd, pid, go[1], res[0], hit_ns);
	close(go[1]);
	close(res[0]);
	if (ret)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return ret;

err_res:
	close(res[0]);
	close(res[1]);
err_go:
	close(go[0]);
	close(go[1]);
err:
	hk_err(cmd, "hit calibration: %s", strerror(-ret));
	return ret;
}

uint32_t hk_calibrated_budget(uint64_t hit_ns)
{
	uint64_t b = 1000000000ull * HK_CAL_SHARE_PCT / 100 / (hit_ns ? hit_ns : 1);

	if (b < HK_CAL_MIN_BUDGET)
		return HK_CAL_MIN_BUDGET;
	return b > HK_DEFAULT_BUDGET ? HK_DEFAULT_BUDGET : b;
}
