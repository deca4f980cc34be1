// SPDX-License-Identifier: GPL-2.0
/*
 * The "hawkeyes" generic netlink family: resolution, status, malformed
 * requests (each refused with an errno and an extack message, nothing in
 * the kernel log, nothing left behind) and the ptrace rule for attaching
 * (an unprivileged user cannot attach to a root process, can attach to
 * its own).
 */
#include <grp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#ifdef __aarch64__
#include <asm/ptrace.h>
#include <linux/elf.h>
#endif

#include "kselftest_harness.h"
#include "hk_test.h"

#define NOBODY 65534

static int write_param(const char *name, const char *val)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/module/hawkeyes/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ret = fputs(val, f) < 0 ? -EIO : 0;
	if (fclose(f))
		ret = -errno;
	return ret;
}

FIXTURE(nl) {
	struct hk_cl c;
	struct hk_target t;
	int kmsg;
};

FIXTURE_SETUP(nl)
{
	if (hk_cl_open(&self->c))
		SKIP(return, "hawkeyes family not registered");
	ASSERT_EQ(0, hk_target_start(&self->t, "writer", NULL));
	self->kmsg = hk_kmsg_lines();
}

FIXTURE_TEARDOWN(nl)
{
	char why[64];

	hk_target_stop(&self->t);
	/* the limits test changes these; put the defaults back whatever happened */
	write_param("max_sessions", "8");
	write_param("max_buffer_kb", "16384");
	EXPECT_EQ(0, hk_cl_wait_no_sessions(&self->c, 3000));
	EXPECT_TRUE(hk_objects_zero(why, sizeof(why))) TH_LOG("left: %s", why);
	hk_cl_close(&self->c);
}

TEST_F(nl, status)
{
	struct hk_region_arg r = { self->t.var, 8 };
	struct nl_msg *msg;
	uint32_t id;

	ASSERT_LT(0, self->c.family);
	ASSERT_EQ(0, hk_cl_sessions(&self->c));
	EXPECT_EQ(HAWKEYES_GENL_VERSION, self->c.reply_version);

	/* dump: no session, then exactly one */
	msg = hk_cl_msg(&self->c, HK_CMD_GET_SESSION, NLM_F_DUMP);
	ASSERT_EQ(0, hk_cl_request(&self->c, msg));
	EXPECT_EQ(0, self->c.ndump);

	if (1) {
		ASSERT_EQ(0, hk_cl_attach(&self->c, self->t.pid, &r, 1, NULL, &id));
		ASSERT_EQ(1, hk_cl_sessions(&self->c));
		msg = hk_cl_msg(&self->c, HK_CMD_GET_SESSION, NLM_F_DUMP);
		ASSERT_EQ(0, hk_cl_request(&self->c, msg));
		EXPECT_EQ(1, self->c.ndump);
		EXPECT_EQ(id, self->c.info.id);
		EXPECT_EQ((uint32_t)self->t.pid, self->c.info.pid);
		EXPECT_EQ(1, self->c.info.threads);
		EXPECT_EQ(1, self->c.info.watchpoints);
		EXPECT_EQ(8, self->c.info.coverage);
		EXPECT_EQ(8, self->c.info.region_bytes);
		EXPECT_EQ(0, self->c.info.rotate_ms);	/* one unit: nothing to rotate */
		ASSERT_EQ(0, hk_cl_detach(&self->c, id));
		hk_cl_poll_until(&self->c, 5000, hk_pred_ended, NULL);
		EXPECT_TRUE(self->c.ended);
		EXPECT_EQ(HK_END_DETACH, self->c.end_reason);
	}
	EXPECT_EQ(self->kmsg, hk_kmsg_lines());
}

/* One malformed ATTACH: expect errno @err and some extack text. */
static int bad_attach(struct hk_cl *c, struct nl_msg *msg)
{
	return hk_cl_request(c, msg);
}

#define EXPECT_REFUSED(_c, _msg, _err) do {					\
	int __ret = bad_attach(_c, _msg);					\
	EXPECT_EQ(-(_err), __ret) TH_LOG("got %d (%s)", __ret, (_c)->extack);	\
	EXPECT_NE(0, (_c)->extack[0]) TH_LOG("no extack message");		\
	TH_LOG("%-40s -> %d \"%s\"", #_msg, __ret, (_c)->extack);		\
} while (0)

static struct nl_msg *attach_msg(struct hk_cl *c, int pid, uint64_t start,
				 uint64_t len, int with_len)
{
	struct nl_msg *msg = hk_cl_msg(c, HK_CMD_ATTACH, 0);
	struct nlattr *regs, *one;

	if (pid >= 0)
		nla_put_u32(msg, HK_A_PID, pid);
	if (start || len) {
		regs = nla_nest_start(msg, HK_A_REGIONS | NLA_F_NESTED);
		one = nla_nest_start(msg, HK_A_REGIONS_REGION | NLA_F_NESTED);
		nla_put_u64(msg, HK_REGION_A_START, start);
		if (with_len)
			nla_put_u64(msg, HK_REGION_A_LEN, len);
		nla_nest_end(msg, one);
		nla_nest_end(msg, regs);
	}
	return msg;
}

static struct nl_msg *attach_opt(struct hk_cl *c, int pid, uint64_t start,
				 uint64_t len, int opt, uint32_t val)
{
	struct nl_msg *msg = attach_msg(c, pid, start, len, 1);
	struct nlattr *o = nla_nest_start(msg, HK_A_OPTIONS | NLA_F_NESTED);

	nla_put_u32(msg, opt, val);
	nla_nest_end(msg, o);
	return msg;
}

TEST_F(nl, malformed)
{
	struct hk_cl *c = &self->c;
	uint64_t var = self->t.var;
	int pid = self->t.pid;
	struct nl_msg *msg;
	struct hk_region_arg r = { var, 8 };
	struct nlattr *n;
	uint32_t id;
	int i;

	EXPECT_REFUSED(c, attach_msg(c, -1, var, 8, 1), EINVAL);	/* no pid */
	EXPECT_REFUSED(c, attach_msg(c, pid, 0, 0, 1), EINVAL);		/* no regions */
	EXPECT_REFUSED(c, attach_msg(c, 0, var, 8, 1), ERANGE);		/* pid 0 */
	EXPECT_REFUSED(c, attach_msg(c, 4194000, var, 8, 1), ESRCH);	/* no such pid */
	EXPECT_REFUSED(c, attach_msg(c, 2, var, 8, 1), EINVAL);	/* kernel thread */
	EXPECT_REFUSED(c, attach_msg(c, pid, var, 0, 1), ERANGE);	/* zero length */
	EXPECT_REFUSED(c, attach_msg(c, pid, var, 8, 0), EINVAL);	/* no length */
	EXPECT_REFUSED(c, attach_msg(c, pid, ~0ull - 3, 8, 1), EINVAL);	/* wraps */
	EXPECT_REFUSED(c, attach_msg(c, pid, 0x1000, 8, 1), EFAULT);	/* unmapped */
	EXPECT_REFUSED(c, attach_msg(c, pid, var, 1 << 30, 1), E2BIG);	/* oversized */
	EXPECT_REFUSED(c, attach_opt(c, pid, var, 64, HK_OPT_A_ROTATE_MS, 0), E2BIG);
	EXPECT_REFUSED(c, attach_opt(c, pid, var, 8, HK_OPT_A_BUFFER, 1 << 24), ENOBUFS);
	EXPECT_REFUSED(c, attach_opt(c, pid, var, 8, HK_OPT_A_BUFFER, 1), ERANGE);
	EXPECT_REFUSED(c, attach_opt(c, pid, var, 8, HK_OPT_A_SLOTS, 5), ERANGE);
	EXPECT_REFUSED(c, attach_opt(c, pid, var, 8, HK_OPT_A_ACCESS, 7), ERANGE);
	EXPECT_REFUSED(c, attach_opt(c, pid, var, 8, HK_OPT_A_BUDGET, 0), ERANGE);
	EXPECT_REFUSED(c, attach_opt(c, pid, var, 8, 77, 1), EINVAL);	/* unknown option */

	EXPECT_REFUSED(c, attach_opt(c, pid, var, 8, HK_OPT_A_PAGE_BUDGET, 0), ERANGE);

#ifndef __x86_64__
	msg = attach_msg(c, pid, var, 8, 1);				/* page mode: x86 only */
	nla_put_u32(msg, HK_A_MODE, HK_MODE_PGPROT);
	EXPECT_REFUSED(c, msg, EOPNOTSUPP);
#endif
	msg = attach_msg(c, pid, var, 8, 1);				/* no such mode */
	nla_put_u32(msg, HK_A_MODE, HK_MODE_MAX + 1);
	EXPECT_REFUSED(c, msg, ERANGE);

	msg = attach_msg(c, pid, var, 8, 1);				/* unknown attribute */
	nla_put_u32(msg, 50, 1);
	EXPECT_REFUSED(c, msg, EINVAL);

	msg = attach_msg(c, pid, 0, 0, 1);				/* empty region list */
	n = nla_nest_start(msg, HK_A_REGIONS | NLA_F_NESTED);
	nla_nest_end(msg, n);
	EXPECT_REFUSED(c, msg, EINVAL);

	msg = attach_msg(c, pid, 0, 0, 1);				/* garbage region list */
	nla_put(msg, HK_A_REGIONS | NLA_F_NESTED, 11, "\x07garbage!!!");
	EXPECT_REFUSED(c, msg, EINVAL);

	msg = attach_msg(c, pid, 0, 0, 1);				/* too many regions */
	n = nla_nest_start(msg, HK_A_REGIONS | NLA_F_NESTED);
	for (i = 0; i < 100; i++) {
		struct nlattr *one = nla_nest_start(msg, HK_A_REGIONS_REGION | NLA_F_NESTED);

		nla_put_u64(msg, HK_REGION_A_START, var);
		nla_put_u64(msg, HK_REGION_A_LEN, 8);
		nla_nest_end(msg, one);
	}
	nla_nest_end(msg, n);
	EXPECT_REFUSED(c, msg, E2BIG);

	msg = hk_cl_msg(c, HK_CMD_DETACH, 0);				/* no id */
	EXPECT_REFUSED(c, msg, EINVAL);
	msg = hk_cl_msg(c, HK_CMD_DETACH, 0);				/* unknown id */
	nla_put_u32(msg, HK_A_SESSION_ID, 12345);
	EXPECT_REFUSED(c, msg, ENOENT);
	msg = hk_cl_msg(c, HK_CMD_GET_SESSION, 0);			/* unknown id */
	nla_put_u32(msg, HK_A_SESSION_ID, 12345);
	EXPECT_REFUSED(c, msg, ENOENT);
	msg = hk_cl_msg(c, HK_CMD_GET_STATUS, 0);			/* takes nothing */
	nla_put_u32(msg, HK_A_PID, 1);
	EXPECT_REFUSED(c, msg, EINVAL);

	/* A second session on one target is refused while the first lives. */
	if (1) {
		ASSERT_EQ(0, hk_cl_attach(c, pid, &r, 1, NULL, &id));
		EXPECT_REFUSED(c, attach_msg(c, pid, var, 8, 1), EBUSY);
		ASSERT_EQ(0, hk_cl_detach(c, id));
	}

	EXPECT_EQ(0, hk_cl_wait_no_sessions(c, 3000));
	EXPECT_EQ(self->kmsg, hk_kmsg_lines()) {
		system("dmesg | tail -5");
	}
}

static struct nl_msg *add_msg(struct hk_cl *c, uint32_t id, uint64_t start, uint64_t len)
{
	struct nl_msg *msg = hk_cl_msg(c, HK_CMD_ADD_REGIONS, 0);
	struct nlattr *regs, *one;

	if (id)
		nla_put_u32(msg, HK_A_SESSION_ID, id);
	if (len) {
		regs = nla_nest_start(msg, HK_A_REGIONS | NLA_F_NESTED);
		one = nla_nest_start(msg, HK_A_REGIONS_REGION | NLA_F_NESTED);
		nla_put_u64(msg, HK_REGION_A_START, start);
		nla_put_u64(msg, HK_REGION_A_LEN, len);
		nla_nest_end(msg, one);
		nla_nest_end(msg, regs);
	}
	return msg;
}

/*
 * ADD_REGIONS: a live session watches more; the refusals explain
 * themselves. The writer's 64-byte block holds var at +0 and nothing the
 * main thread writes at +8..+15, +24..+63.
 */
TEST_F(nl, add_regions)
{
	struct hk_opts_arg norot = { .rotate_set = true, .rotate_ms = 0 };
	struct hk_region_arg r = { self->t.var, 8 };
	struct hk_cl *c = &self->c;
	uint64_t var = self->t.var;
	uint32_t id;

	/* one unit, nothing to rotate; seven more start the rotation */
	ASSERT_EQ(0, hk_cl_attach(c, self->t.pid, &r, 1, NULL, &id));
	EXPECT_EQ(0, c->info.rotate_ms);
	EXPECT_EQ(1, c->info.slots);
	ASSERT_EQ(0, hk_cl_request(c, add_msg(c, id, var + 8, 56))) TH_LOG("%s", c->extack);
	EXPECT_EQ(id, c->reply_id);
	EXPECT_EQ(8, c->info.units);
	EXPECT_EQ(64, c->info.region_bytes);
	EXPECT_EQ(4, c->info.slots);
	EXPECT_EQ(4, c->info.watchpoints);
	EXPECT_EQ(HK_DEFAULT_ROTATE_MS, c->info.rotate_ms);
	/* the window jumped to the new units: var, then four new ones armed */
	EXPECT_LE(40, c->info.coverage);

	EXPECT_REFUSED(c, add_msg(c, id, var, 8), EEXIST);		/* overlaps */
	EXPECT_REFUSED(c, add_msg(c, 12345, var, 8), ENOENT);		/* no session */
	EXPECT_REFUSED(c, add_msg(c, 0, var, 8), EINVAL);		/* no id */
	EXPECT_REFUSED(c, add_msg(c, id, 0, 0), EINVAL);		/* no regions */
	EXPECT_REFUSED(c, add_msg(c, id, 0x1000, 8), EFAULT);		/* unmapped */
	EXPECT_REFUSED(c, add_msg(c, id, ~0ull - 3, 8), EINVAL);	/* wraps */
	EXPECT_REFUSED(c, add_msg(c, id, var + 64, 1 << 30), E2BIG);	/* oversized */
	ASSERT_EQ(0, hk_cl_detach(c, id));
	hk_cl_poll_until(c, 5000, hk_pred_ended, NULL);
	EXPECT_TRUE(c->ended);
	EXPECT_EQ(8, c->end_info.units);
	c->ended = false;

	/* no rotation: the regions must keep fitting the debug registers */
	r.len = 32;
	ASSERT_EQ(0, hk_cl_attach(c, self->t.pid, &r, 1, &norot, &id));
	EXPECT_REFUSED(c, add_msg(c, id, var + 32, 8), E2BIG);
	EXPECT_NE(NULL, strstr(c->extack, "without rotation")) TH_LOG("%s", c->extack);
	ASSERT_EQ(0, hk_cl_detach(c, id));
	hk_cl_poll_until(c, 5000, hk_pred_ended, NULL);
	EXPECT_EQ(0, hk_cl_wait_no_sessions(c, 3000));
	EXPECT_EQ(self->kmsg, hk_kmsg_lines());
}

/* Module-parameter limits are enforced with a clear message. */
TEST_F(nl, limits)
{
	struct hk_opts_arg big = { .buffer = 2048 };	/* 128 KiB */
	struct hk_region_arg r = { self->t.var, 8 };
	struct hk_target t2;
	uint32_t id;
	int ret;

	if (write_param("max_sessions", "1"))
		SKIP(return, "cannot set module parameters");
	ASSERT_EQ(0, hk_target_start(&t2, "writer", NULL));
	ASSERT_EQ(0, hk_cl_attach(&self->c, self->t.pid, &r, 1, NULL, &id));
	r.start = t2.var;
	ret = hk_cl_attach(&self->c, t2.pid, &r, 1, NULL, NULL);
	EXPECT_EQ(-EBUSY, ret);
	EXPECT_NE(NULL, strstr(self->c.extack, "max_sessions")) TH_LOG("%s", self->c.extack);
	ASSERT_EQ(0, hk_cl_detach(&self->c, id));
	hk_cl_poll_until(&self->c, 5000, hk_pred_ended, NULL);
	EXPECT_EQ(0, write_param("max_sessions", "8"));

	ASSERT_EQ(0, write_param("max_buffer_kb", "64"));
	ret = hk_cl_attach(&self->c, t2.pid, &r, 1, &big, NULL);
	EXPECT_EQ(-ENOBUFS, ret);
	EXPECT_NE(NULL, strstr(self->c.extack, "max_buffer_kb")) TH_LOG("%s", self->c.extack);
	EXPECT_EQ(0, write_param("max_buffer_kb", "16384"));
	hk_target_stop(&t2);
}

#ifdef __aarch64__
/* Take every watchpoint register of @pid (stopped) the way gdb does. */
static int debugger_fill(pid_t pid, uint64_t base)
{
	struct user_hwdebug_state st = {};
	struct iovec iov = { &st, sizeof(st) };
	int i, n;

	if (ptrace(PTRACE_GETREGSET, pid, NT_ARM_HW_WATCH, &iov))
		return -1;
	n = st.dbg_info & 0xff;
	for (i = 0; i < n; i++) {
		st.dbg_regs[i].addr = base + 8 * (i + 1);
		/* enable, EL0, store, byte 0 */
		st.dbg_regs[i].ctrl = 1 | 2 << 1 | 2 << 3 | 1 << 5;
	}
	iov.iov_len = offsetof(struct user_hwdebug_state, dbg_regs) +
		      n * sizeof(st.dbg_regs[0]);
	return ptrace(PTRACE_SETREGSET, pid, NT_ARM_HW_WATCH, &iov);
}
#else
static int debugger_fill(pid_t pid, uint64_t base)
{
	long dr7 = 0;
	int i;

	for (i = 0; i < 4; i++) {
		if (ptrace(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg[i]),
			   base + 8 * (i + 1)))
			return -1;
		dr7 |= 1L << (2 * i) | 1L << (16 + 4 * i);	/* local enable, W, len 1 */
	}
	return ptrace(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg[7]), dr7);
}
#endif

/* A debugger holding all the debug registers: ENOSPC, explained. */
TEST_F(nl, debugger_holds_registers)
{
	struct hk_region_arg r = { self->t.var, 8 };
	int status, ret;

	ASSERT_EQ(0, ptrace(PTRACE_ATTACH, self->t.pid, 0, 0));
	ASSERT_EQ(self->t.pid, waitpid(self->t.pid, &status, 0));
	ASSERT_EQ(0, debugger_fill(self->t.pid, self->t.var));
	ret = hk_cl_attach(&self->c, self->t.pid, &r, 1, NULL, NULL);
	EXPECT_EQ(-ENOSPC, ret);
	EXPECT_NE(NULL, strstr(self->c.extack, "debug register")) TH_LOG("%s", self->c.extack);
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, self->t.pid, 0, 0));
	EXPECT_EQ(0, hk_cl_wait_no_sessions(&self->c, 3000));
}

/* Run in a child as @uid; returns the child's exit status. */
static int as_user(uid_t uid, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int status;

	if (!pid) {
		if (setgroups(0, NULL) || setgid(uid) || setuid(uid))
			_exit(100);
		_exit(fn(arg));
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

struct unpriv_arg {
	pid_t root_pid;
	uint64_t var;
	uint32_t root_session;
};

/* 0: root target refused with EPERM + message, own target attached. */
static int unpriv_body(void *p)
{
	struct hk_opts_arg o = { .budget = HK_MAX_BUDGET };
	struct unpriv_arg *a = p;
	struct hk_region_arg r = { a->var, 8 };
	struct hk_target own;
	struct hk_cl c;
	uint32_t id;
	int ret;

	if (hk_cl_open(&c))
		return 1;
	/* root's session: invisible to the dump, not ours to inspect or end */
	if (hk_cl_request(&c, hk_cl_msg(&c, HK_CMD_GET_SESSION, NLM_F_DUMP)) ||
	    c.ndump != 0)
		return 10;
	ret = hk_cl_get_session(&c, a->root_session);
	fprintf(stderr, "# as uid %d, get root's session: %d \"%s\"\n", getuid(), ret,
		c.extack);
	if (ret != -EPERM)
		return 11;
	ret = hk_cl_detach(&c, a->root_session);
	fprintf(stderr, "# as uid %d, detach root's session: %d \"%s\"\n", getuid(), ret,
		c.extack);
	if (ret != -EPERM || !strstr(c.extack, "another user"))
		return 12;
	ret = hk_cl_attach(&c, a->root_pid, &r, 1, NULL, &id);
	fprintf(stderr, "# as uid %d, attach to root's %d: %d \"%s\"\n", getuid(),
		a->root_pid, ret, c.extack);
	if (ret != -EPERM || !strstr(c.extack, "permission"))
		return 2;
	if (hk_target_start(&own, "writer", NULL))
		return 3;
	r.start = own.var;
	/* no budget: 200 stores in a burst would exceed the default's 100/tick */
	ret = hk_cl_attach(&c, own.pid, &r, 1, &o, &id);
	fprintf(stderr, "# as uid %d, attach to own %d: %d \"%s\"\n", getuid(),
		own.pid, ret, c.extack);
	if (ret)
		return 4;
	if (hk_target_cmd(&own, "run 1 100", NULL, 0))
		return 5;
	if (hk_cl_detach(&c, id))
		return 6;
	hk_cl_poll_until(&c, 5000, hk_pred_ended, NULL);
	fprintf(stderr, "# own target: %zu records, end reason %u\n", c.nrecs, c.end_reason);
	if (!c.ended || c.nrecs != 200)
		return 7;
	hk_target_stop(&own);
	hk_cl_close(&c);
	return 0;
}

TEST_F(nl, unprivileged)
{
	struct unpriv_arg a = { self->t.pid, self->t.var };
	struct hk_region_arg r = { self->t.var, 8 };
	struct hk_target other;
	uint32_t id;

	if (getuid() != 0)
		SKIP(return, "needs root to switch to an unprivileged uid");
	/* a root session on another root process, for the child to poke at */
	ASSERT_EQ(0, hk_target_start(&other, "writer", NULL));
	r.start = other.var;
	ASSERT_EQ(0, hk_cl_attach(&self->c, other.pid, &r, 1, NULL, &id));
	a.root_session = id;
	EXPECT_EQ(0, as_user(NOBODY, unpriv_body, &a));
	EXPECT_EQ(0, hk_cl_get_session(&self->c, id));	/* still there */
	EXPECT_EQ(0, hk_cl_detach(&self->c, id));
	hk_target_stop(&other);
}

TEST_HARNESS_MAIN
