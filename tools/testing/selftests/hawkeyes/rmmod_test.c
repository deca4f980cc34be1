// SPDX-License-Identifier: GPL-2.0
/*
 * rmmod while a session captures a busy target: the client gets END
 * (reason rmmod), the target keeps running, and after insmod a new attach
 * works. Runs last (run_tests.sh order) and leaves the module loaded, also
 * when it fails.
 *
 * The client keeps reading while rmmod runs, as every client must until END
 * (Documentation/hawkeyes/netlink.rst): module exit ends the session
 * synchronously, and END waits at most HK_FINISH_MS for room in the
 * client's socket. A client blocked in system("rmmod") for that long with a
 * socket full of RECORDS loses END; that is how this test used to fail on
 * the debug kernel, where starting rmmod is slow.
 */
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "hk_test.h"

#define HK_KO "/opt/hawkeyes/hawkeyes.ko"

struct rmmod_child {
	pid_t pid;
	int status;
	bool reaped;
};

static bool ended_and_unloaded(struct hk_cl *c, void *arg)
{
	struct rmmod_child *r = arg;

	if (!r->reaped && waitpid(r->pid, &r->status, WNOHANG) == r->pid)
		r->reaped = true;
	return c->ended && r->reaped;
}

/*
 * Run rmmod while reading @c, until END has come and rmmod has exited (it
 * ends the session, up to 2 x HK_FINISH_MS, then unloads), at most 20 s:
 * on the debug kernel under load rmmod took 3.7 s with this reader, and
 * up to 7.5 s in system() without one.
 * Return: rmmod's exit status, or -1 if it did not exit in time.
 */
static int rmmod_reading(struct hk_cl *c, uint64_t *ms)
{
	struct rmmod_child rm = { 0 };
	uint64_t t0 = hk_now_ms();

	rm.pid = fork();
	if (rm.pid < 0)
		return -1;
	if (!rm.pid) {
		execlp("rmmod", "rmmod", "hawkeyes", (char *)NULL);
		_exit(127);
	}
	hk_cl_poll_until(c, 20000, ended_and_unloaded, &rm);
	*ms = hk_now_ms() - t0;
	if (!rm.reaped)
		return -1;
	return WIFEXITED(rm.status) ? WEXITSTATUS(rm.status) : 128 + WTERMSIG(rm.status);
}

FIXTURE(rmmod) {
};

FIXTURE_SETUP(rmmod)
{
}

FIXTURE_TEARDOWN(rmmod)
{
	struct stat st;

	/* later tests and the harness's final checks need the module */
	if (stat("/sys/module/hawkeyes", &st))
		EXPECT_EQ(0, system("insmod " HK_KO));
}

TEST_F(rmmod, attached)
{
	struct hk_region_arg r;
	struct hk_target t;
	struct hk_cl c;
	unsigned long long a, b;
	char reply[64], why[64];
	struct stat st;
	uint64_t ms;
	uint32_t id;

	if (stat(HK_KO, &st))
		SKIP(return, HK_KO " not present");
	ASSERT_EQ(0, hk_cl_open(&c));
	ASSERT_EQ(0, hk_target_start(&t, "writer", NULL));
	ASSERT_EQ(0, hk_target_cmd(&t, "loop 2", reply, sizeof(reply)));
	r.start = t.var;
	r.len = 8;
	ASSERT_EQ(0, hk_cl_attach(&c, t.pid, &r, 1, NULL, &id));
	hk_cl_poll_until(&c, 300, NULL, NULL);

	ASSERT_EQ(0, rmmod_reading(&c, &ms));
	TH_LOG("END and unload %llu ms after rmmod started", (unsigned long long)ms);
	ASSERT_TRUE(c.ended);
	EXPECT_EQ(HK_END_RMMOD, c.end_reason);
	EXPECT_LT(0, c.nrecs);
	hk_cl_close(&c);

	ASSERT_EQ(0, hk_target_cmd(&t, "ping", reply, sizeof(reply)));
	sscanf(reply, "pong %llu", &a);
	usleep(100000);
	ASSERT_EQ(0, hk_target_cmd(&t, "ping", reply, sizeof(reply)));
	sscanf(reply, "pong %llu", &b);
	EXPECT_LT(a, b);

	ASSERT_EQ(0, system("insmod " HK_KO));
	ASSERT_EQ(0, hk_cl_open(&c));
	ASSERT_EQ(0, hk_cl_attach(&c, t.pid, &r, 1, NULL, &id)) TH_LOG("%s", c.extack);
	ASSERT_EQ(0, hk_cl_detach(&c, id));
	hk_cl_poll_until(&c, 5000, hk_pred_ended, NULL);
	EXPECT_TRUE(c.ended);
	hk_target_stop(&t);
	EXPECT_EQ(0, hk_cl_wait_no_sessions(&c, 3000));
	EXPECT_TRUE(hk_objects_zero(why, sizeof(why))) TH_LOG("left: %s", why);
	hk_cl_close(&c);
}

/*
 * Page mode (x86-64): rmmod mid-capture restores every armed page before
 * the module goes; the target keeps its data and its speed.
 */
TEST(rmmod_page_mode)
{
	struct hk_opts_arg o = { .mode = HK_MODE_PGPROT, .access = HK_ACCESS_RW };
	struct hk_region_arg r;
	struct hk_target t;
	struct hk_cl c;
	char reply[512], why[64];
	unsigned long heap, ns0 = 0, ns1 = 0;
	struct stat st;
	uint64_t ms;
	uint32_t id;

#ifndef __x86_64__
	SKIP(return, "page mode is x86-64 only");
#endif
	if (stat(HK_KO, &st))
		SKIP(return, HK_KO " not present");
	ASSERT_EQ(0, hk_cl_open(&c));
	ASSERT_EQ(0, hk_target_start(&t, "pagetouch", NULL));
	heap = t.var;
	ASSERT_EQ(0, hk_target_cmd(&t, "speed 200", reply, sizeof(reply)));
	sscanf(reply, "ns %lu", &ns0);
	r.start = heap;
	r.len = 16 * 4096;
	ASSERT_EQ(0, hk_cl_attach(&c, t.pid, &r, 1, &o, &id)) TH_LOG("%s", c.extack);
	EXPECT_EQ(16, hk_object("armed_pages"));
	ASSERT_EQ(0, hk_target_cmd(&t, "touch 4 1 0 /tmp/pg_rmmod", reply, sizeof(reply)));

	ASSERT_EQ(0, rmmod_reading(&c, &ms));
	ASSERT_TRUE(c.ended);
	EXPECT_EQ(HK_END_RMMOD, c.end_reason);
	EXPECT_EQ(0, c.end_info.armed);
	EXPECT_LT(0, c.nrecs);
	hk_cl_close(&c);

	ASSERT_EQ(0, hk_target_cmd(&t, "mismatch", reply, sizeof(reply)));
	EXPECT_EQ(0, strcmp(reply, "mismatch 0\n")) TH_LOG("%s", reply);
	ASSERT_EQ(0, hk_target_cmd(&t, "speed 200", reply, sizeof(reply)));
	sscanf(reply, "ns %lu", &ns1);
	TH_LOG("ns per access before attach %lu, after rmmod %lu", ns0, ns1);
	EXPECT_LT(ns1, 3 * ns0 + 20);

	ASSERT_EQ(0, system("insmod " HK_KO));
	ASSERT_EQ(0, hk_cl_open(&c));
	hk_target_stop(&t);
	EXPECT_TRUE(hk_objects_zero(why, sizeof(why))) TH_LOG("left: %s", why);
	hk_cl_close(&c);
}

TEST_HARNESS_MAIN
