// SPDX-License-Identifier: GPL-2.0
/*
 * hkctl as a user meets it, without the kernel module: option errors
 * exit 2 with a sentence naming the problem, --help exits 0, dump prints
 * exactly the documented text and JSON, damaged traces are reported, and
 * region errors surface before any netlink is attempted.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "hk_test.h"
#include "calibrate.h"
#include "trace.h"

static char out[1 << 16], err[1 << 12];

#define RUN(...) hk_run_hkctl((const char *const[]){ __VA_ARGS__, NULL }, out, sizeof(out), \
			      err, sizeof(err))

#define EXPECT_ERR(_sub, ...) do {					\
	EXPECT_EQ(2, RUN(__VA_ARGS__));					\
	EXPECT_NE(NULL, strstr(err, _sub)) TH_LOG("stderr: %s", err);	\
} while (0)

TEST(no_command)
{
	EXPECT_EQ(2, hk_run_hkctl((const char *const[]){ NULL }, out, sizeof(out), err,
				  sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "Usage: hkctl <command>")) TH_LOG("stderr: %s", err);
	EXPECT_ERR("'frobnicate' is not a command", "frobnicate");
}

TEST(help_of_every_command)
{
	static const char *const cmds[] = { "attach", "run", "detach", "status", "dump" };
	char want[64];
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		EXPECT_EQ(0, RUN(cmds[i], "--help")) TH_LOG("%s --help", cmds[i]);
		snprintf(want, sizeof(want), "Usage: hkctl %s", cmds[i]);
		EXPECT_EQ(0, strncmp(out, want, strlen(want))) TH_LOG("%s", out);
		EXPECT_NE(NULL, strstr(out, "Exit status:"));
	}
	EXPECT_EQ(0, RUN("--help"));
	EXPECT_NE(NULL, strstr(out, "attach"));
}

TEST(attach_option_errors)
{
	EXPECT_ERR("expected one PID", "attach");
	EXPECT_ERR("'abc' is not a process id", "attach", "abc", "-r", "x");
	EXPECT_ERR("no --region given", "attach", "1");
	EXPECT_ERR("--duration '0'", "attach", "1", "-r", "x", "--duration", "0");
	EXPECT_ERR("--duration 'soon'", "attach", "1", "-r", "x", "-d", "soon");
	EXPECT_ERR("--rotate '99h'", "attach", "1", "-r", "x", "--rotate", "99h");
	EXPECT_ERR("--budget '0'", "attach", "1", "-r", "x", "--budget", "0");
	EXPECT_ERR("--buffer '8'", "attach", "1", "-r", "x", "--buffer", "8");
	EXPECT_ERR("--slots '5'", "attach", "1", "-r", "x", "--slots", "5");
	EXPECT_ERR("--access 'r'", "attach", "1", "-r", "x", "--access", "r");
	EXPECT_ERR("bad option '--bogus'", "attach", "1", "--bogus");
	EXPECT_ERR("bad option", "attach", "1", "-r");
}

TEST(mode_option_errors)
{
	EXPECT_ERR("--mode 'fast': expected hwbp, page or auto", "attach", "1", "-r", "x",
		   "--mode", "fast");
	EXPECT_ERR("--discover '0'", "attach", "1", "-r", "x", "--discover", "0");
	/* watch keeps watchpoints: auto is refused there, not its default */
	EXPECT_ERR("--mode page/auto is not available for watch", "watch", "--shm", "all",
		   "--mode", "auto");
}

/*
 * --mode auto is the default of run (and attach): regions whose units all
 * have a watchpoint at once skip the discovery and say so in one line,
 * larger ones go to the page-mode discovery (here the module is missing,
 * so the attach fails after that decision). hk_test_array is 4096 bytes,
 * 8-byte aligned: +32 is 4 units, +40 five.
 */
TEST(run_default_mode_auto)
{
	static const char fit1[] = "hkctl run: auto: the regions fit in 1 watchpoint at once "
				   "(of 4): watchpoints, no discovery\n";
	static const char fit4[] = "hkctl run: auto: the regions fit in 4 watchpoints at once "
				   "(of 4): watchpoints, no discovery\n";
	const char *trace = "/tmp/hk-cli-auto.trace";
	char prog[512];

	snprintf(prog, sizeof(prog), "%s/region_target-pie", hk_test_env("PROGS", "tests/bin/progs"));
	EXPECT_EQ(2, RUN("run", "-r", "hk_test_var", "-o", trace, "--", prog, "/tmp"));
	EXPECT_NE(NULL, strstr(err, fit1)) TH_LOG("stderr: %s", err);
	EXPECT_NE(NULL, strstr(err, "module is not loaded")) TH_LOG("stderr: %s", err);

	EXPECT_EQ(2, RUN("run", "-r", "hk_test_array+32", "-o", trace, "--", prog, "/tmp"));
	EXPECT_NE(NULL, strstr(err, fit4)) TH_LOG("stderr: %s", err);

	EXPECT_EQ(2, RUN("run", "-r", "hk_test_array+40", "-o", trace, "--", prog, "/tmp"));
	EXPECT_EQ(NULL, strstr(err, "auto: the regions fit")) TH_LOG("stderr: %s", err);
	EXPECT_NE(NULL, strstr(err, "module is not loaded")) TH_LOG("stderr: %s", err);

	/* fewer slots, fewer units fit */
	EXPECT_EQ(2, RUN("run", "-r", "hk_test_array+16", "--slots", "1", "-o", trace, "--", prog,
			 "/tmp"));
	EXPECT_EQ(NULL, strstr(err, "auto: the regions fit")) TH_LOG("stderr: %s", err);

	/* an explicit mode is kept: no auto line at all */
	EXPECT_EQ(2, RUN("run", "-r", "hk_test_array+40", "--mode", "hwbp", "-o", trace, "--",
			 prog, "/tmp"));
	EXPECT_EQ(NULL, strstr(err, "auto:")) TH_LOG("stderr: %s", err);
	EXPECT_EQ(2, RUN("run", "-r", "hk_test_var", "--mode", "page", "-o", trace, "--", prog,
			 "/tmp"));
	EXPECT_EQ(NULL, strstr(err, "auto:")) TH_LOG("stderr: %s", err);
	EXPECT_NE(0, access(trace, F_OK));
	EXPECT_NE(0, access("/tmp/hk-cli-auto.trace.discovery", F_OK));
}

TEST(run_option_errors)
{
	EXPECT_ERR("no command given", "run", "-r", "x");
	EXPECT_ERR("no --region given", "run", "--", "/bin/true");
	EXPECT_ERR("cannot run /nonexistent/cmd", "run", "-r", "x", "--", "/nonexistent/cmd");
}

TEST(detach_status_errors)
{
	EXPECT_ERR("expected one session ID", "detach");
	EXPECT_ERR("'0' is not a session id", "detach", "0");
	EXPECT_ERR("'x' is not a session id", "detach", "x");
	EXPECT_ERR("expected at most one session ID", "status", "x");
}

TEST(attach_region_errors_name_the_spec)
{
	char pidbuf[16];
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (!pid) {
		pause();
		_exit(0);
	}
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	EXPECT_ERR("region 'no_such_thing': no symbol, mapping or address", "attach", pidbuf,
		   "-r", "[stack]", "-r", "no_such_thing", "-o", "/tmp/hk-cli-never.trace");
	EXPECT_ERR("region '[nope]': pid", "attach", pidbuf, "-r", "[nope]");
	EXPECT_NE(0, access("/tmp/hk-cli-never.trace", F_OK));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	EXPECT_ERR("no such process", "attach", pidbuf, "-r", "x");
}

/*
 * hkctl run resolves regions at main, after the loader mapped the
 * libraries: a libc symbol resolves (the next error is the missing module,
 * or nothing when it is loaded), an unknown one is named.
 */
TEST(run_resolves_at_main)
{
	char prog[512];

	snprintf(prog, sizeof(prog), "%s/region_target-pie", hk_test_env("PROGS", "tests/bin/progs"));
	RUN("run", "-r", "_IO_2_1_stdout_", "-o", "/tmp/hk-cli-run.trace", "--", prog, "/tmp");
	EXPECT_EQ(NULL, strstr(err, "region '")) TH_LOG("stderr: %s", err);
	unlink("/tmp/hk-cli-run.trace");
	EXPECT_ERR("region 'hk_no_such_var'", "run", "-r", "hk_no_such_var", "--", prog, "/tmp");
}

/* Without a 'main' symbol, run stops at the ELF entry: libraries are mapped by then too. */
TEST(run_stripped_stops_at_entry)
{
	char prog[512], cmd[1200];
	const char *stripped = "/tmp/hk-cli-stripped";

	snprintf(prog, sizeof(prog), "%s/region_target-pie", hk_test_env("PROGS", "tests/bin/progs"));
	snprintf(cmd, sizeof(cmd), "strip -s -o %s %s", stripped, prog);
	ASSERT_EQ(0, system(cmd));
	/* really no .symtab, and main is not exported in .dynsym */
	snprintf(cmd, sizeof(cmd), "readelf -SW --dyn-syms %s | grep -qE '[.]symtab| main$'",
		 stripped);
	ASSERT_NE(0, system(cmd));
	RUN("run", "-r", "_IO_2_1_stdout_", "-o", "/tmp/hk-cli-run.trace", "--", stripped, "/tmp");
	EXPECT_EQ(NULL, strstr(err, "region '")) TH_LOG("stderr: %s", err);
	EXPECT_EQ(NULL, strstr(err, "cannot")) TH_LOG("stderr: %s", err);
	/* the executable's own symbols are gone with its symbol table */
	EXPECT_ERR("region 'hk_test_var'", "run", "-r", "hk_test_var", "--", stripped, "/tmp");
	unlink("/tmp/hk-cli-run.trace");
	unlink(stripped);
}

FIXTURE(trace) {
	char path[64];
};

FIXTURE_SETUP(trace)
{
	struct hk_trace_meta meta = { .pid = 77, .session_id = 3, .mode = HK_TRACE_MODE_HWBP,
				      .access = HK_TRACE_ACCESS_W, .comm = "prog" };
	struct hk_trace_rec recs[2] = {
		{ .time_ns = 123456789, .seq = 0, .ip = 0x401136, .addr = 0x404048,
		  .value = 42, .pid = 77, .tid = 78, .cpu = 1,
		  .flags = HK_TRACE_REC_F_IP_AFTER | HK_TRACE_REC_F_VALUE_VALID,
		  .size = 8, .kind = HK_TRACE_KIND_W },
		{ .time_ns = 123456999, .seq = 1, .ip = 0x7f0000001000, .addr = 0x404048,
		  .value = UINT64_MAX, .pid = 77, .tid = 79, .cpu = 0, .flags = 0,
		  .size = 4, .kind = HK_TRACE_KIND_RW },
	};
	struct hk_trace_end end = { .records = 2, .reason = HK_TRACE_END_SIGNAL };
	struct hk_trace *t;
	int fd;

	strcpy(self->path, "/tmp/hk-cli-trace-XXXXXX");
	fd = mkstemp(self->path);
	ASSERT_GE(fd, 0);
	close(fd);
	ASSERT_EQ(0, hk_trace_create(self->path, &t));
	ASSERT_EQ(0, hk_trace_write_meta(t, &meta));
	ASSERT_EQ(0, hk_trace_write_region(t, 0x404048, 8, "hk_counter"));
	ASSERT_EQ(0, hk_trace_write_records(t, recs, 2));
	ASSERT_EQ(0, hk_trace_write_end(t, &end));
	ASSERT_EQ(0, hk_trace_close(t));
}

FIXTURE_TEARDOWN(trace)
{
	unlink(self->path);
}

TEST_F(trace, dump_json_exact)
{
	ASSERT_EQ(0, RUN("dump", "--format", "json", self->path)) TH_LOG("%s", err);
	EXPECT_STREQ("{\"time_ns\":123456789,\"pid\":77,\"tid\":78,\"cpu\":1,\"ip\":4198710,"
		     "\"addr\":4210760,\"size\":8,\"kind\":\"W\",\"value\":42,\"flags\":3}\n"
		     "{\"time_ns\":123456999,\"pid\":77,\"tid\":79,\"cpu\":0,\"ip\":139637976731648,"
		     "\"addr\":4210760,\"size\":4,\"kind\":\"RW\",\"value\":18446744073709551615,"
		     "\"flags\":0}\n", out);
	EXPECT_STREQ("", err);
}

TEST_F(trace, dump_text)
{
	ASSERT_EQ(0, RUN("dump", self->path)) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(out, "# hawkeyes trace: pid 77 (prog), session 3, mode hwbp\n"));
	EXPECT_NE(NULL, strstr(out, "# region 0x404048+0x8 hk_counter\n"));
	EXPECT_NE(NULL, strstr(out, "\n123456789 77 78 1 0x401136 0x404048 8 W 0x2a 0x3\n"))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "# end: interrupted by a signal"));
}

/* A --mode auto trace names its phase in the header; others do not. */
TEST_F(trace, dump_auto_phase)
{
	static const struct {
		uint32_t flags;
		const char *line;
	} phases[] = {
		{ HK_TRACE_META_F_AUTO_DISCOVERY, "# phase: auto: discovery (page mode)\n" },
		{ HK_TRACE_META_F_AUTO_FOCUS,
		  "# phase: auto: watchpoints on the shared locations the discovery found\n" },
		{ HK_TRACE_META_F_AUTO_WHOLE,
		  "# phase: auto: watchpoints on the whole regions (no discovery)\n" },
		{ HK_TRACE_META_F_AUTO_PAGE,
		  "# phase: auto: page mode went on (the discovery found nothing shared)\n" },
	};
	struct hk_trace_meta meta = { .pid = 77, .mode = HK_TRACE_MODE_HWBP, .comm = "prog" };
	struct hk_trace_end end = { .reason = HK_TRACE_END_DURATION };
	struct hk_trace *t;
	size_t i;

	ASSERT_EQ(0, RUN("dump", self->path));
	EXPECT_EQ(NULL, strstr(out, "# phase:")) TH_LOG("%s", out);
	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		meta.flags = phases[i].flags | HK_TRACE_META_F_RUN;
		ASSERT_EQ(0, hk_trace_create(self->path, &t));
		ASSERT_EQ(0, hk_trace_write_meta(t, &meta));
		ASSERT_EQ(0, hk_trace_write_end(t, &end));
		ASSERT_EQ(0, hk_trace_close(t));
		ASSERT_EQ(0, RUN("dump", self->path)) TH_LOG("%s", err);
		EXPECT_NE(NULL, strstr(out, ", started by hkctl run\n")) TH_LOG("%s", out);
		EXPECT_NE(NULL, strstr(out, phases[i].line)) TH_LOG("%s", out);
	}
}

TEST_F(trace, dump_truncated_prints_then_fails)
{
	struct stat st;

	ASSERT_EQ(0, stat(self->path, &st));
	ASSERT_EQ(0, truncate(self->path, st.st_size - 80));	/* drop END */
	EXPECT_EQ(2, RUN("dump", "-f", "json", self->path));
	EXPECT_NE(NULL, strstr(err, "no END chunk, the capture was interrupted")) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(out, "\"tid\":79"));	/* records before the damage */
}

TEST_F(trace, dump_errors)
{
	EXPECT_ERR("unknown format 'xml'", "dump", "--format", "xml", self->path);
	EXPECT_ERR("expected exactly one trace FILE", "dump");
	EXPECT_ERR("/nonexistent.trace: cannot open", "dump", "/nonexistent.trace");
	EXPECT_ERR("not a hawkeyes trace file", "dump", "/etc/passwd");
}

/*
 * --mode auto's hit budget from a measured hit cost: the hits that take
 * HK_CAL_SHARE_PCT of a CPU, never above the module's default (a cheap
 * hit on hardware must not raise the rate past what the module is sized
 * for) nor below HK_CAL_MIN_BUDGET (too few records to analyse).
 */
TEST(calibrated_budget)
{
	const uint64_t share_ns = 10000000ull * HK_CAL_SHARE_PCT;	/* per second */

	EXPECT_EQ(1000, hk_calibrated_budget(share_ns / 1000));
	EXPECT_EQ(1500, hk_calibrated_budget(share_ns / 1500));
	EXPECT_EQ(HK_DEFAULT_BUDGET, hk_calibrated_budget(share_ns / HK_DEFAULT_BUDGET));
	EXPECT_GT(HK_DEFAULT_BUDGET, hk_calibrated_budget(share_ns / HK_DEFAULT_BUDGET + 1));
	EXPECT_LT(HK_DEFAULT_BUDGET - 10, hk_calibrated_budget(share_ns / HK_DEFAULT_BUDGET + 1));
	EXPECT_EQ(HK_DEFAULT_BUDGET, hk_calibrated_budget(1));		/* 1 ns: capped */
	EXPECT_EQ(HK_DEFAULT_BUDGET, hk_calibrated_budget(0));
	EXPECT_EQ(HK_CAL_MIN_BUDGET, hk_calibrated_budget(share_ns / HK_CAL_MIN_BUDGET + 1));
	EXPECT_EQ(HK_CAL_MIN_BUDGET, hk_calibrated_budget(1000000000ull));	/* 1 s a hit */
}

TEST_HARNESS_MAIN
