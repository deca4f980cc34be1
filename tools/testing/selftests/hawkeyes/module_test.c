// SPDX-License-Identifier: GPL-2.0
/*
 * The module loads, registers the "hawkeyes" generic netlink family, answers
 * a status request, and unloads leaving nothing behind. Runs in the test VM
 * where /init has loaded /opt/hawkeyes/hawkeyes.ko; the module is loaded
 * again at the end so that later tests find it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "kselftest_harness.h"
#include "hk_test.h"

#define HK_KO "/opt/hawkeyes/hawkeyes.ko"

static int hk_family_id(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int id;

	if (!sk)
		return -ENOMEM;
	if (genl_connect(sk)) {
		nl_socket_free(sk);
		return -ECONNREFUSED;
	}
	id = genl_ctrl_resolve(sk, HAWKEYES_GENL_NAME);
	nl_socket_free(sk);
	return id;
}

static bool hk_module_present(void)
{
	struct stat st;

	return stat("/sys/module/hawkeyes", &st) == 0;
}

static int hk_unload(void)
{
	return syscall(__NR_delete_module, "hawkeyes", O_NONBLOCK);
}

static int hk_load(void)
{
	int fd = open(HK_KO, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = syscall(__NR_finit_module, fd, "", 0);
	close(fd);
	return ret;
}

FIXTURE(module) {
};

FIXTURE_SETUP(module)
{
	if (getuid() != 0)
		SKIP(return, "needs root");
	if (!hk_module_present())
		ASSERT_EQ(0, hk_load());
}

FIXTURE_TEARDOWN(module)
{
	char why[64];

	if (!hk_module_present())
		ASSERT_EQ(0, hk_load());
	/* loaded, unloaded, loaded again: it holds nothing */
	EXPECT_TRUE(hk_objects_zero(why, sizeof(why))) TH_LOG("left: %s", why);
}

TEST_F(module, loaded)
{
	char state[32] = "";
	int fd = open("/sys/module/hawkeyes/initstate", O_RDONLY);

	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, state, sizeof(state) - 1));
	close(fd);
	EXPECT_STREQ("live\n", state);
}

TEST_F(module, family_registered)
{
	EXPECT_LT(0, hk_family_id());
}

TEST_F(module, unload_leaves_nothing)
{
	ASSERT_EQ(0, hk_unload());
	EXPECT_FALSE(hk_module_present());
	/* the family goes with the module */
	EXPECT_GT(0, hk_family_id());
	/* and it comes back whole */
	ASSERT_EQ(0, hk_load());
	EXPECT_LT(0, hk_family_id());
}

TEST_F(module, reload_cycles)
{
	int i;

	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, hk_unload());
		ASSERT_EQ(0, hk_load());
	}
	EXPECT_LT(0, hk_family_id());
}

TEST_HARNESS_MAIN
