// SPDX-License-Identifier: GPL-2.0
/*
 * rmmod while a session captures a busy target: the client gets END
 * (reason rmmod), the target keeps running, and after insmod a new attach
 * works. Runs last (run_tests.sh order) and leaves the module loaded.
 */
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "hk_test.h"

#define HK_KO "/opt/hawkeyes/hawkeyes.ko"

TEST(rmmod_attached)
{
	struct hk_region_arg r;
	struct hk_target t;
	struct hk_cl c;
	unsigned long long a, b;
	char reply[64], why[64];
	struct stat st;
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

	ASSERT_EQ(0, system("rmmod hawkeyes"));
	hk_cl_poll_until(&c, 5000, hk_pred_ended, NULL);
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

	ASSERT_EQ(0, system("rmmod hawkeyes"));
	hk_cl_poll_until(&c, 5000, hk_pred_ended, NULL);
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
