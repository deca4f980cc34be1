// SPDX-License-Identifier: GPL-2.0
/*
 * Session lifecycle: a session ends when the attaching process is killed
 * (its socket closes), when the target exits, when it execs and on
 * DETACH under load. Each time the target keeps running, no session and
 * no object is left, and a new attach works. Also: rotation covers a
 * region larger than the debug registers, and the hit budget throttles.
 */
#include "kselftest_harness.h"
#include "hk_test.h"

FIXTURE(life) {
	struct hk_cl c;
	struct hk_target t;
};

FIXTURE_SETUP(life)
{
	char reply[64];

	if (hk_cl_open(&self->c))
		SKIP(return, "hawkeyes family not registered");
	ASSERT_EQ(0, hk_target_start(&self->t, "writer", NULL));
	ASSERT_EQ(0, hk_target_cmd(&self->t, "loop 2", reply, sizeof(reply)));
}

FIXTURE_TEARDOWN(life)
{
	char why[64];

	hk_target_stop(&self->t);
	EXPECT_EQ(0, hk_cl_wait_no_sessions(&self->c, 3000));
	EXPECT_TRUE(hk_objects_zero(why, sizeof(why))) TH_LOG("left: %s", why);
	hk_cl_close(&self->c);
}

/* The target's loop threads still make progress. */
static bool target_alive(struct hk_target *t)
{
	unsigned long long a = 0, b = 0;
	char reply[64];

	if (hk_target_cmd(t, "ping", reply, sizeof(reply)) ||
	    sscanf(reply, "pong %llu", &a) != 1)
		return false;
	usleep(100000);
	if (hk_target_cmd(t, "ping", reply, sizeof(reply)) ||
	    sscanf(reply, "pong %llu", &b) != 1)
		return false;
	return b > a;
}

/* Attach, detach and see END: the module is usable. */
static bool attach_works(struct hk_cl *c, struct hk_target *t)
{
	struct hk_region_arg r = { t->var, 8 };
	uint32_t id;

	c->ended = false;
	if (hk_cl_attach(c, t->pid, &r, 1, NULL, &id) || hk_cl_detach(c, id))
		return false;
	hk_cl_poll_until(c, 5000, hk_pred_ended, NULL);
	return c->ended && c->end_session == id;
}

TEST_F_TIMEOUT(life, client_sigkill, 60)
{
	struct hk_region_arg r = { self->t.var, 8 };
	uint32_t id = 0;
	int pfd[2];
	pid_t child;

	ASSERT_EQ(0, pipe(pfd));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		struct hk_cl c2;

		if (hk_cl_open(&c2) || hk_cl_attach(&c2, self->t.pid, &r, 1, NULL, &id))
			_exit(1);
		if (write(pfd[1], &id, sizeof(id)) != sizeof(id))
			_exit(1);
		hk_cl_poll_until(&c2, 100000, NULL, NULL);
		_exit(0);
	}
	ASSERT_EQ(sizeof(id), read(pfd[0], &id, sizeof(id)));
	usleep(300000);
	ASSERT_EQ(0, hk_cl_get_session(&self->c, id));
	EXPECT_LT(0, self->c.info.records);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	EXPECT_EQ(0, hk_cl_wait_no_sessions(&self->c, 3000));
	EXPECT_TRUE(target_alive(&self->t));
	EXPECT_TRUE(attach_works(&self->c, &self->t));
}

TEST_F_TIMEOUT(life, target_exit, 60)
{
	struct hk_region_arg r = { self->t.var, 8 };
	int status;
	uint32_t id;

	ASSERT_EQ(0, hk_cl_attach(&self->c, self->t.pid, &r, 1, NULL, &id));
	usleep(200000);
	fprintf(self->t.in, "exit\n");
	hk_cl_poll_until(&self->c, 5000, hk_pred_ended, NULL);
	ASSERT_TRUE(self->c.ended);
	EXPECT_EQ(HK_END_TARGET_EXIT, self->c.end_reason);
	EXPECT_EQ(id, self->c.end_session);
	EXPECT_LT(0, self->c.nrecs);
	EXPECT_EQ(self->c.end_info.records, self->c.nrecs);
	ASSERT_EQ(self->t.pid, waitpid(self->t.pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	self->t.pid = 0;
	EXPECT_EQ(0, hk_cl_wait_no_sessions(&self->c, 3000));
}

TEST_F_TIMEOUT(life, target_exec, 60)
{
	struct hk_region_arg r = { self->t.var, 8 };
	struct hk_opts_arg o = { .budget = HK_MAX_BUDGET, .buffer = 4096 };
	char hello[256], reply[256];
	size_t want = 200;
	uint32_t id;

	ASSERT_EQ(0, hk_cl_attach(&self->c, self->t.pid, &r, 1, NULL, &id));
	usleep(200000);
	/* the new image answers with its hello line */
	ASSERT_EQ(0, hk_target_cmd(&self->t, "exec", hello, sizeof(hello)));
	ASSERT_EQ(0, strncmp(hello, "hello", 5)) TH_LOG("%s", hello);
	hk_cl_poll_until(&self->c, 5000, hk_pred_ended, NULL);
	ASSERT_TRUE(self->c.ended);
	EXPECT_EQ(HK_END_TARGET_EXEC, self->c.end_reason);
	EXPECT_EQ(0, hk_cl_wait_no_sessions(&self->c, 3000));

	/* The new image runs and can be watched afresh, exactly. */
	ASSERT_EQ(0, hk_target_cmd(&self->t, "ping", reply, sizeof(reply)));
	EXPECT_EQ(0, strncmp(reply, "pong", 4));
	hk_cl_close(&self->c);
	ASSERT_EQ(0, hk_cl_open(&self->c));
	ASSERT_EQ(0, hk_cl_attach(&self->c, self->t.pid, &r, 1, &o, &id))
		TH_LOG("%s", self->c.extack);
	ASSERT_EQ(0, hk_target_cmd(&self->t, "run 1 100", reply, sizeof(reply)));
	hk_cl_poll_until(&self->c, 10000, hk_pred_nrecs, &want);
	ASSERT_EQ(0, hk_cl_detach(&self->c, id));
	hk_cl_poll_until(&self->c, 5000, hk_pred_ended, NULL);
	EXPECT_EQ(200, self->c.nrecs);
	EXPECT_EQ(0, self->c.lost);
}

/* Many threads already running at attach: every one gets its watchpoint. */
TEST_F_TIMEOUT(life, many_threads_at_attach, 120)
{
	struct hk_region_arg r = { self->t.var, 8 };
	char reply[64];
	uint32_t id;

	/* 2 loop threads from the fixture + 40 more + the main thread */
	uint64_t t0;

	ASSERT_EQ(0, hk_target_cmd(&self->t, "loop 40", reply, sizeof(reply)));
	t0 = hk_now_ms();
	ASSERT_EQ(0, hk_cl_attach(&self->c, self->t.pid, &r, 1, NULL, &id));
	TH_LOG("attach to 43 busy threads took %llu ms",
	       (unsigned long long)(hk_now_ms() - t0));
	EXPECT_EQ(43, self->c.info.threads);
	EXPECT_EQ(43, self->c.info.watchpoints);
	EXPECT_EQ(43, hk_object("watchpoints"));
	hk_cl_poll_until(&self->c, 200, NULL, NULL);
	ASSERT_EQ(0, hk_cl_detach(&self->c, id));
	/*
	 * END comes after the last records of 42 trapping threads: under arm64
	 * TCG (two exceptions per hit) that took over 5 s once.
	 */
	t0 = hk_now_ms();
	hk_cl_poll_until(&self->c, 20000, hk_pred_ended, NULL);
	TH_LOG("END %llu ms after DETACH", (unsigned long long)(hk_now_ms() - t0));
	EXPECT_TRUE(self->c.ended);
	EXPECT_LT(0, self->c.nrecs);
	EXPECT_EQ(0, hk_object("watchpoints"));
}

/* exec from a non-leader thread: de_thread() kills the others, renames it */
TEST_F_TIMEOUT(life, thread_exec, 60)
{
	struct hk_region_arg r = { self->t.var, 8 };
	char hello[256], reply[64], why[64];
	uint32_t id;

	ASSERT_EQ(0, hk_cl_attach(&self->c, self->t.pid, &r, 1, NULL, &id));
	usleep(200000);
	ASSERT_EQ(0, hk_target_cmd(&self->t, "texec", hello, sizeof(hello)));
	ASSERT_EQ(0, strncmp(hello, "hello", 5)) TH_LOG("%s", hello);
	hk_cl_poll_until(&self->c, 5000, hk_pred_ended, NULL);
	ASSERT_TRUE(self->c.ended);
	EXPECT_EQ(HK_END_TARGET_EXEC, self->c.end_reason);
	EXPECT_EQ(0, hk_cl_wait_no_sessions(&self->c, 3000));
	EXPECT_TRUE(hk_objects_zero(why, sizeof(why))) TH_LOG("left: %s", why);
	ASSERT_EQ(0, hk_target_cmd(&self->t, "ping", reply, sizeof(reply)));
	EXPECT_EQ(0, strncmp(reply, "pong", 4));
}

/* A stopped target: detach must not wait for it, nor leave anything. */
TEST_F_TIMEOUT(life, stopped_target, 60)
{
	struct hk_region_arg r = { self->t.var, 8 };
	char why[64];
	uint32_t id;

	ASSERT_EQ(0, hk_cl_attach(&self->c, self->t.pid, &r, 1, NULL, &id));
	usleep(100000);
	ASSERT_EQ(0, kill(self->t.pid, SIGSTOP));
	usleep(100000);
	ASSERT_EQ(0, hk_cl_detach(&self->c, id));
	hk_cl_poll_until(&self->c, 5000, hk_pred_ended, NULL);
	ASSERT_TRUE(self->c.ended);
	EXPECT_EQ(0, hk_cl_wait_no_sessions(&self->c, 3000));
	EXPECT_TRUE(hk_objects_zero(why, sizeof(why))) TH_LOG("left: %s", why);
	ASSERT_EQ(0, kill(self->t.pid, SIGCONT));
	EXPECT_TRUE(target_alive(&self->t));
}

TEST_F_TIMEOUT(life, detach_under_load, 60)
{
	struct hk_region_arg r = { self->t.var, 8 };
	uint32_t id;
	size_t i;

	ASSERT_EQ(0, hk_cl_attach(&self->c, self->t.pid, &r, 1, NULL, &id));
	hk_cl_poll_until(&self->c, 300, NULL, NULL);
	ASSERT_EQ(0, hk_cl_detach(&self->c, id));
	hk_cl_poll_until(&self->c, 5000, hk_pred_ended, NULL);
	ASSERT_TRUE(self->c.ended);
	EXPECT_EQ(HK_END_DETACH, self->c.end_reason);
	EXPECT_LT(0, self->c.nrecs);
	/* nothing delivered twice, nothing after END: records == status */
	EXPECT_EQ(self->c.end_info.records, self->c.nrecs);
	for (i = 1; i < self->c.nrecs; i++)
		ASSERT_LT(self->c.recs[i - 1].seq, self->c.recs[i].seq);
	EXPECT_TRUE(target_alive(&self->t));
	EXPECT_EQ(0, hk_object("watchpoints"));
}

TEST_F_TIMEOUT(life, rotation, 60)
{
	/* 64 bytes = 8 units of 8 bytes, 4 debug registers: must rotate */
	struct hk_region_arg r = { self->t.var, 64 };
	struct hk_opts_arg o = { .rotate_set = true, .rotate_ms = 10 };
	size_t i, on_var = 0;
	uint32_t id;

	ASSERT_EQ(0, hk_cl_attach(&self->c, self->t.pid, &r, 1, &o, &id))
		TH_LOG("%s", self->c.extack);
	EXPECT_EQ(8, self->c.info.units);
	EXPECT_EQ(4, self->c.info.slots);
	/* 4 units armed at attach; a rotation may already have happened */
	EXPECT_LE(32, self->c.info.coverage);
	hk_cl_poll_until(&self->c, 500, NULL, NULL);
	ASSERT_EQ(0, hk_cl_get_session(&self->c, id));
	EXPECT_LT(2, self->c.info.rotations);
	EXPECT_EQ(64, self->c.info.coverage);
	EXPECT_EQ(12, self->c.info.watchpoints);	/* 3 threads x 4 slots */
	ASSERT_EQ(0, hk_cl_detach(&self->c, id));
	hk_cl_poll_until(&self->c, 5000, hk_pred_ended, NULL);
	/*
	 * The loop threads write hk_var (unit 0) and the loop counter 16
	 * bytes further (unit 2); both are caught while the window covers
	 * them, nothing else in the region is written.
	 */
	EXPECT_LT(0, self->c.nrecs);
	for (i = 0; i < self->c.nrecs; i++) {
		uint64_t a = self->c.recs[i].addr;

		ASSERT_TRUE(a == self->t.var || a == self->t.var + 16)
			TH_LOG("record at var+%llu", (unsigned long long)(a - self->t.var));
		on_var += a == self->t.var;
	}
	EXPECT_LT(0, on_var);
	/*
	 * Under TCG the locked add on the counter produced no record at all
	 * in about half of the runs (see capture.rst, known limits), so
	 * this is logged, not asserted.
	 */
	TH_LOG("%zu records on hk_var, %zu on the counter", on_var,
	       self->c.nrecs - on_var);
	TH_LOG("%zu records over %llu rotations", self->c.nrecs,
	       (unsigned long long)self->c.end_info.rotations);
}

TEST_F_TIMEOUT(life, budget, 60)
{
	struct hk_region_arg r = { self->t.var, 8 };
	struct hk_opts_arg o = { .budget = 2000 };	/* 20 per 10 ms tick */
	uint64_t t0, ms, allowed;
	uint32_t id;

	t0 = hk_now_ms();
	ASSERT_EQ(0, hk_cl_attach(&self->c, self->t.pid, &r, 1, &o, &id));
	hk_cl_poll_until(&self->c, 1000, NULL, NULL);
	ASSERT_EQ(0, hk_cl_detach(&self->c, id));
	ms = hk_now_ms() - t0;
	hk_cl_poll_until(&self->c, 5000, hk_pred_ended, NULL);
	ASSERT_TRUE(self->c.ended);
	allowed = 20 * (ms / 10 + 2);
	EXPECT_GE(allowed, self->c.nrecs);
	EXPECT_LT(0, self->c.end_info.throttled);
	/*
	 * An over-budget hit pauses every thread of the session until the
	 * next tick: at most one throttled hit per thread paused (+1 per
	 * thread for a pause still pending at detach), not a stream of
	 * dropped traps.
	 */
	EXPECT_GE(self->c.end_info.disables + 3, self->c.end_info.throttled);
	EXPECT_EQ(self->c.end_info.hits, self->c.nrecs + self->c.end_info.throttled +
		  self->c.lost);
	EXPECT_TRUE(target_alive(&self->t));
	TH_LOG("%zu records in %llu ms (allowed %llu), %llu throttled, %llu disables",
	       self->c.nrecs, (unsigned long long)ms, (unsigned long long)allowed,
	       (unsigned long long)self->c.end_info.throttled,
	       (unsigned long long)self->c.end_info.disables);
}

/*
 * Threads born and dying all the time while sessions come and go: every
 * attach/detach cycle must leave no thread object, watchpoint or task work
 * behind and the target must keep going.
 */
TEST_F_TIMEOUT(life, churn, 120)
{
	struct hk_region_arg r = { self->t.var, 8 };
	struct hk_opts_arg o = { .budget = HK_MAX_BUDGET, .buffer = 1 << 14 };
	char reply[64], why[64];
	uint32_t id;
	int i;

	ASSERT_EQ(0, hk_target_cmd(&self->t, "churn 8", reply, sizeof(reply)));
	for (i = 0; i < 20; i++) {
		self->c.ended = false;
		ASSERT_EQ(0, hk_cl_attach(&self->c, self->t.pid, &r, 1, &o, &id))
			TH_LOG("cycle %d: %s", i, self->c.extack);
		hk_cl_poll_until(&self->c, 20 + 10 * (i % 5), NULL, NULL);
		ASSERT_EQ(0, hk_cl_detach(&self->c, id));
		hk_cl_poll_until(&self->c, 5000, hk_pred_ended, NULL);
		ASSERT_TRUE(self->c.ended);
		EXPECT_EQ(self->c.end_info.hits,
			  self->c.end_info.records + self->c.end_info.lost +
			  self->c.end_info.throttled);
	}
	TH_LOG("last cycle: %u threads watched at end, %zu records in all",
	       self->c.end_info.threads, self->c.nrecs);
	EXPECT_EQ(0, hk_cl_wait_no_sessions(&self->c, 3000));
	EXPECT_TRUE(hk_objects_zero(why, sizeof(why))) TH_LOG("left: %s", why);
	EXPECT_TRUE(target_alive(&self->t));

	/* and a churning target that dies while watched */
	ASSERT_EQ(0, hk_cl_attach(&self->c, self->t.pid, &r, 1, &o, &id));
	self->c.ended = false;
	hk_cl_poll_until(&self->c, 200, NULL, NULL);
	kill(self->t.pid, SIGKILL);
	hk_cl_poll_until(&self->c, 5000, hk_pred_ended, NULL);
	ASSERT_TRUE(self->c.ended);
	EXPECT_EQ(HK_END_TARGET_EXIT, self->c.end_reason);
}

TEST_HARNESS_MAIN
