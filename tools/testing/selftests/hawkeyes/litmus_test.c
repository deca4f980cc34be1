// SPDX-License-Identifier: GPL-2.0
/*
 * Litmus programs under 'hkctl run', end to end: capture with hawkeyes.ko,
 * resolve, analyse, report. Each variant asserts
 *
 *  - the exact set of findings: pattern, porting or not, confidence, the
 *    source line of both accesses of both sides and each side's barrier,
 *    with lines taken from the "@marker" comments of the program's source
 *    (installed beside the binary), never written here as numbers;
 *  - hkctl's exit status (1 with a porting finding, 0 without);
 *  - that the program's own outcome line is the same watched and unwatched.
 *
 * Fixed variants (seq_cst fences, seq_cst atomics, a pthread mutex, an xchg
 * spinlock, accesses 2000 instructions apart) must give no finding. The
 * C11 release/acquire variants of MP, LB, S and 2+2W differ by
 * architecture, since the capture is always of the binary built for the
 * machine the test runs on:
 *
 *  - x86-64: their finding, marked "undecidable": their code is the same
 *    plain mov as the broken one, only the _Atomic type of the objects tells;
 *  - arm64: no finding: the stlr / ldar of the real binary order the pair
 *    (.expect_arm64). The mutex variants there take glibc's lock through
 *    x0 and the spinlock variant GCC's outline atomic __aarch64_swp4_acq
 *    and an stlr; the lock rule must name the lock word through adrp/add.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "hk_test.h"

#define ITERS		"500"
#define MAX_FINDINGS	16
#define SIG_LEN		256

/* Start argv with stdout into out (stderr into err); returns its pid or -1. */
static pid_t spawn(const char *const argv[], const char *out, const char *err)
{
	pid_t pid = fork();
	int fd;

	if (!pid) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		fd = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Exit status of the spawned pid, or -1. */
static int reap(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Run argv with stdout into out (stderr into err); returns the exit status or -1. */
static int run(const char *const argv[], const char *out, const char *err)
{
	return reap(spawn(argv, out, err));
}

static char *slurp(const char *path);

/*
 * Has the module armed a session on target pid? "hkctl status" lists
 * "session N: pid P, ..." and, two lines on, "...; T threads, W watchpoints
 * armed".
 */
static bool session_armed(pid_t target, const char *tmp)
{
	const char *argv[] = { "hkctl", "status", NULL };
	char needle[32], *text, *p;
	unsigned int threads = 0, wps = 0;
	bool armed = false;

	if (run(argv, tmp, NULL) != 0)
		return false;
	text = slurp(tmp);
	snprintf(needle, sizeof(needle), ": pid %d,", (int)target);
	p = text ? strstr(text, needle) : NULL;
	p = p ? strstr(p, " threads, ") : NULL;
	if (p) {
		while (p > text && p[-1] != ' ')
			p--;
		armed = sscanf(p, "%u threads, %u watchpoints armed", &threads, &wps) == 2 &&
			wps > 0;
	}
	free(text);
	return armed;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* The "outcome ..." line of a program's output. */
static void outcome(const char *out, char *buf, size_t size)
{
	char *text = slurp(out), *p = text ? strstr(text, "outcome ") : NULL;

	snprintf(buf, size, "%.*s", p ? (int)strcspn(p, "\n") : 6, p ? p : "(none)");
	free(text);
}

/* Line number of the "@name" marker comment in the program's source, 0 if absent. */
static unsigned int marker_line(const char *src, const char *name, size_t len)
{
	char needle[64];
	const char *p = src, *hit;
	unsigned int line = 1;

	snprintf(needle, sizeof(needle), "@%.*s */", (int)len, name);
	hit = strstr(src, needle);
	if (!hit)
		return 0;
	for (; p < hit; p++)
		line += *p == '\n';
	return line;
}

/* Expectation with @markers replaced by their line numbers. */
static int expand(const char *src, const char *expect, char *out, size_t size)
{
	size_t o = 0;

	while (*expect && o + 16 < size) {
		if (*expect == '@') {
			size_t n = strspn(expect + 1, "abcdefghijklmnopqrstuvwxyz0123456789_");
			unsigned int line = marker_line(src, expect + 1, n);

			if (!line)
				return -ENOENT;
			o += snprintf(out + o, size - o, "%u", line);
			expect += n + 1;
		} else {
			out[o++] = *expect++;
		}
	}
	out[o] = '\0';
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Next "key": value (number or string) after p, before end; NULL if none. */
static const char *json_next(const char *p, const char *end, const char *key, char *val,
			     size_t size)
{
	char needle[32];
	const char *hit;

	snprintf(needle, sizeof(needle), "\"%s\": ", key);
	hit = strstr(p, needle);
	if (!hit || hit >= end)
		return NULL;
	hit += strlen(needle);
	if (*hit == '"')
		snprintf(val, size, "%.*s", (int)strcspn(hit + 1, "\""), hit + 1);
	else
		snprintf(val, size, "%.*s", (int)strcspn(hit, ",}\n"), hit);
	return hit;
}

/*
 * Findings of a JSON report as sorted signature lines:
 * "MP porting high 18>19 release ; 30>31 acquire".
 */
static int signatures(const char *json, char sigs[][SIG_LEN], int max)
{
	const char *p = strstr(json, "\"findings\": ["), *stats = strstr(json, "\"stats\"");
	int n = 0, k;

	if (!p || !stats)
		return -EINVAL;
	while ((p = strstr(p, "{\"pattern\": ")) && p < stats && n < max) {
		const char *next = strstr(p + 1, "{\"pattern\": "), *end, *q;
		char pat[16], porting[8], conf[16] = "-", l1[12], l2[12], bar[16];
		size_t o;

		end = next && next < stats ? next : stats;
		json_next(p, end, "pattern", pat, sizeof(pat));
		json_next(p, end, "porting", porting, sizeof(porting));
		json_next(p, end, "confidence", conf, sizeof(conf));
		o = snprintf(sigs[n], SIG_LEN, "%s %s %s", pat,
			     strcmp(porting, "true") ? "not-porting" : "porting", conf);
		q = p;
		for (k = 0; k < 2; k++) {
			if (!(q = json_next(q, end, "line", l1, sizeof(l1))) ||
			    !(q = json_next(q, end, "line", l2, sizeof(l2))) ||
			    !(q = json_next(q, end, "barrier", bar, sizeof(bar))))
				return -EINVAL;
			o += snprintf(sigs[n] + o, SIG_LEN - o, "%s%s>%s %s", k ? " ; " : " ", l1,
				      l2, bar);
		}
		n++;
		p = end;
	}
	qsort(sigs, n, SIG_LEN, cmp_str);
	return n;
}

/*
 * lines[0..n) joined by newlines into dst; false if they did not fit (the
 * comparison that follows then fails, as it should).
 */
static bool join_lines(char *dst, size_t size, char lines[][SIG_LEN], int n)
{
	size_t len = 0;
	int i, w;

	dst[0] = '\0';
	for (i = 0; i < n; i++) {
		w = snprintf(dst + len, size - len, "%s%s", i ? "\n" : "", lines[i]);
		if (w < 0 || (size_t)w >= size - len)
			return false;
		len += w;
	}
	return true;
}

/* Sort the lines of s in place (findings in a stable order). */
static void sort_lines(char *s, size_t size)
{
	char lines[MAX_FINDINGS][SIG_LEN], *p = s, *nl;
	int n = 0;

	while (*p && n < MAX_FINDINGS) {
		nl = strchr(p, '\n');
		snprintf(lines[n++], SIG_LEN, "%.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
		p = nl ? nl + 1 : p + strlen(p);
	}
	qsort(lines, n, SIG_LEN, cmp_str);
	join_lines(s, size, lines, n);	/* from s: it fits */
}

/*
 * The SPSC ring: exactly the three porting cycles of the article's
 * rte_ring case, and the two SB cycles across the polling loops' back
 * edges (each side publishes, then reads the other's index in its next
 * iteration; x86 has them too, and they only delay the ring).
 */
#define SPSC_EXPECT							\
	"LB porting high @tail_r>@slot_w release ; @slot_r>@tail_w release\n"	\
	"LB porting high @tail_r>@head_w release ; @head_r>@tail_w release\n"	\
	"MP porting high @slot_w>@head_w release ; @head_r>@slot_r acquire\n"	\
	"SB not-porting high @head_w>@tail_r full ; @tail_w>@head_r full\n"	\
	"SB not-porting high @slot_w>@tail_r full ; @tail_w>@slot_r full"

FIXTURE(litmus) {
	char dir[64];
};

FIXTURE_VARIANT(litmus) {
	const char *prog;
	const char *variant;
	const char *regions[4];
	/* findings, one per line, in sorted order after marker expansion; "" none */
	const char *expect;
	/* on arm64 when the verdict differs there (NULL: the same as expect) */
	const char *expect_arm64;
	/* both sides in one lock: "" because the lock rule dropped the cycle */
	int locked;
	const char *rotate;	/* --rotate; NULL: off */
	bool late;		/* a region appears after main: the report must say so */
};

#define MP_DATA_FLAG	{ "data", "flag" }
#define XY		{ "x", "y" }
#define AXY		{ "ax", "ay" }

FIXTURE_VARIANT_ADD(litmus, mp_plain) {
	.prog = "litmus_mp", .variant = "plain", .regions = MP_DATA_FLAG,
	.expect = "MP porting high @data_w>@flag_w release ; @flag_r>@data_r acquire",
};
FIXTURE_VARIANT_ADD(litmus, mp_fence) {
	.prog = "litmus_mp", .variant = "fence", .regions = MP_DATA_FLAG, .expect = "",
};
FIXTURE_VARIANT_ADD(litmus, mp_relacq) {
	.prog = "litmus_mp", .variant = "relacq", .regions = { "data", "aflag" },
	.expect = "MP porting undecidable @rdata_w>@aflag_w release ; @aflag_r>@rdata_r acquire",
	.expect_arm64 = "",	/* stlr aflag; ldar aflag */
};
FIXTURE_VARIANT_ADD(litmus, mp_mutex) {
	.prog = "litmus_mp", .variant = "mutex", .regions = MP_DATA_FLAG, .expect = "",
	.locked = 1,
};
FIXTURE_VARIANT_ADD(litmus, mp_spinlock) {
	.prog = "litmus_mp", .variant = "spin", .regions = MP_DATA_FLAG, .expect = "",
	.locked = 1,
};
FIXTURE_VARIANT_ADD(litmus, mp_far_apart) {
	.prog = "litmus_mp", .variant = "far", .regions = MP_DATA_FLAG, .expect = "",
};
FIXTURE_VARIANT_ADD(litmus, lb_plain) {
	.prog = "litmus_lb", .variant = "plain", .regions = XY,
	.expect = "LB porting high @x_r>@y_w release ; @y_r>@x_w release",
};
FIXTURE_VARIANT_ADD(litmus, lb_fence) {
	.prog = "litmus_lb", .variant = "fence", .regions = XY, .expect = "",
};
FIXTURE_VARIANT_ADD(litmus, s_plain) {
	.prog = "litmus_s", .variant = "plain", .regions = XY,
	.expect = "S porting high @x_w1>@y_w release ; @y_r>@x_w2 release",
};
FIXTURE_VARIANT_ADD(litmus, s_fence) {
	.prog = "litmus_s", .variant = "fence", .regions = XY, .expect = "",
};
FIXTURE_VARIANT_ADD(litmus, w2p2_plain) {
	.prog = "litmus_2p2w", .variant = "plain", .regions = XY,
	.expect = "2+2W porting high @x_w1>@y_w1 release ; @y_w2>@x_w2 release",
};
FIXTURE_VARIANT_ADD(litmus, w2p2_fence) {
	.prog = "litmus_2p2w", .variant = "fence", .regions = XY, .expect = "",
};
FIXTURE_VARIANT_ADD(litmus, sb_plain_not_porting) {
	.prog = "litmus_sb", .variant = "plain", .regions = XY,
	.expect = "SB not-porting high @x_w>@y_r full ; @y_w>@x_r full",
};
FIXTURE_VARIANT_ADD(litmus, sb_fence) {
	.prog = "litmus_sb", .variant = "fence", .regions = XY, .expect = "",
};
FIXTURE_VARIANT_ADD(litmus, lb_c11) {
	.prog = "litmus_lb", .variant = "c11", .regions = AXY,
	.expect = "LB porting undecidable @ax_r>@ay_w release ; @ay_r>@ax_w release",
	.expect_arm64 = "",	/* each side: ldr ax; stlr ay */
};
FIXTURE_VARIANT_ADD(litmus, lb_mutex) {
	.prog = "litmus_lb", .variant = "mutex", .regions = XY, .expect = "",
	.locked = 1,
};
FIXTURE_VARIANT_ADD(litmus, s_c11) {
	.prog = "litmus_s", .variant = "c11", .regions = AXY,
	.expect = "S porting undecidable @ax_w1>@ay_w release ; @ay_r>@ax_w2 release",
	.expect_arm64 = "",	/* str ax; stlr ay / ldar ay; str ax */
};
FIXTURE_VARIANT_ADD(litmus, s_mutex) {
	.prog = "litmus_s", .variant = "mutex", .regions = XY, .expect = "",
	.locked = 1,
};
FIXTURE_VARIANT_ADD(litmus, w2p2_c11) {
	.prog = "litmus_2p2w", .variant = "c11", .regions = AXY,
	.expect = "2+2W porting undecidable @ax_w1>@ay_w1 release ; @ay_w2>@ax_w2 release",
	.expect_arm64 = "",	/* each side: str; stlr */
};
FIXTURE_VARIANT_ADD(litmus, w2p2_mutex) {
	.prog = "litmus_2p2w", .variant = "mutex", .regions = XY, .expect = "",
	.locked = 1,
};
/* seq_cst stores are xchg on x86, stlr then ldar (RCsc) on arm64: nothing */
FIXTURE_VARIANT_ADD(litmus, sb_c11_seq_cst) {
	.prog = "litmus_sb", .variant = "c11", .regions = AXY, .expect = "",
};
FIXTURE_VARIANT_ADD(litmus, sb_mutex) {
	.prog = "litmus_sb", .variant = "mutex", .regions = XY, .expect = "",
	.locked = 1,
};
FIXTURE_VARIANT_ADD(litmus, spsc_ring) {
	.prog = "litmus_spsc", .variant = "plain",
	.regions = { "ring_head", "ring_tail", "ring_slot" },
	.expect = SPSC_EXPECT,
};

/*
 * Regions that appear after main (progs/litmus_late.c maps a file): with a
 * symbol that exists at main they are added to the live session
 * (HK_CMD_ADD_REGIONS); alone, hkctl attaches when the mapping appears. A
 * mapping is a page, 512 units: rotation must be on; the window jumps to
 * the new units, and 1 s keeps it on data and flag while the threads run.
 */
#define LATE_MAP	"/tmp/hk-litmus-late.map"
FIXTURE_VARIANT_ADD(litmus, mp_late_added) {
	.prog = "litmus_late", .variant = "plain", .regions = { "mapped", LATE_MAP },
	.expect = "MP porting high @data_w>@flag_w release ; @flag_r>@data_r acquire",
	.rotate = "1s", .late = true,
};
FIXTURE_VARIANT_ADD(litmus, mp_late_attach) {
	.prog = "litmus_late", .variant = "plain", .regions = { LATE_MAP },
	.expect = "MP porting high @data_w>@flag_w release ; @flag_r>@data_r acquire",
	.rotate = "1s", .late = true,
};
FIXTURE_VARIANT_ADD(litmus, mp_late_fence) {
	.prog = "litmus_late", .variant = "fence", .regions = { "mapped", LATE_MAP },
	.expect = "", .rotate = "1s", .late = true,
};

FIXTURE_SETUP(litmus)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/litmus.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
}

FIXTURE_TEARDOWN(litmus)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd))
		TH_LOG("cannot remove %s", self->dir);
	EXPECT_OBJECTS_ZERO();
}

TEST_F_TIMEOUT(litmus, findings, 120)
{
	char prog[PATH_MAX + 64], srcpath[PATH_MAX + 72], out[128], err[128], json[128], trace[128];
	char plain_out[128], watched_out[128], expect[2048], got[2048];
	char sigs[MAX_FINDINGS][SIG_LEN];
	const char *argv[32];
	char *src, *report, *line;
	const char *want = variant->expect;
	int argc = 0, rc, n, i, want_exit;

	snprintf(prog, sizeof(prog), "%s/%s", hk_progs_dir(), variant->prog);
	snprintf(srcpath, sizeof(srcpath), "%s.c", prog);
	snprintf(out, sizeof(out), "%s/out", self->dir);
	snprintf(err, sizeof(err), "%s/err", self->dir);
	snprintf(json, sizeof(json), "%s/report.json", self->dir);
	snprintf(trace, sizeof(trace), "%s/litmus.trace", self->dir);
#ifdef __aarch64__
	if (variant->expect_arm64)
		want = variant->expect_arm64;
#endif
	src = slurp(srcpath);
	ASSERT_NE(NULL, src) TH_LOG("no source %s beside the program", srcpath);
	ASSERT_EQ(0, expand(src, want, expect, sizeof(expect)))
		TH_LOG("a marker of '%s' is not in %s", want, srcpath);
	sort_lines(expect, sizeof(expect));
	free(src);

	/* unwatched */
	argv[0] = prog, argv[1] = variant->variant, argv[2] = ITERS, argv[3] = NULL;
	ASSERT_EQ(0, run(argv, out, NULL));
	outcome(out, plain_out, sizeof(plain_out));

	/* watched: every access of the regions, nothing rotated or throttled away */
	argv[argc++] = "hkctl";
	argv[argc++] = "run";
	for (i = 0; i < 4 && variant->regions[i]; i++) {
		argv[argc++] = "-r";
		argv[argc++] = variant->regions[i];
	}
	argv[argc++] = "--access";
	argv[argc++] = "rw";
	argv[argc++] = "--rotate";
	argv[argc++] = variant->rotate ? variant->rotate : "off";
	argv[argc++] = "--budget";
	argv[argc++] = "1000000";
	argv[argc++] = "--no-status";
	argv[argc++] = "--format";
	argv[argc++] = "json";
	argv[argc++] = "--report";
	argv[argc++] = json;
	argv[argc++] = "-o";
	argv[argc++] = trace;
	argv[argc++] = "--";
	argv[argc++] = prog;
	argv[argc++] = variant->variant;
	argv[argc++] = ITERS;
	argv[argc] = NULL;
	rc = run(argv, out, err);
	outcome(out, watched_out, sizeof(watched_out));
	report = slurp(json);
	if (!report) {
		char *e = slurp(err);

		TH_LOG("hkctl run exited %d without a report: %s", rc, e ? e : "");
		free(e);
	}
	ASSERT_NE(NULL, report);
	n = signatures(report, sigs, MAX_FINDINGS);
	ASSERT_LE(0, n) TH_LOG("unreadable report %s", json);
	EXPECT_TRUE(join_lines(got, sizeof(got), sigs, n));
	if (strcmp(expect, got))
		TH_LOG("findings differ\nexpected:\n%s\ngot:\n%s", expect[0] ? expect : "(none)",
		       got[0] ? got : "(none)");
	EXPECT_STREQ(expect, got);
	/* the exit status follows the porting findings */
	want_exit = 0;
	for (line = expect; (line = strstr(line, " porting ")); line++)
		want_exit = 1;
	EXPECT_EQ(want_exit, rc);
	EXPECT_STREQ(plain_out, watched_out);
	if (variant->locked) {
		char dropped[16] = "";

		json_next(report, report + strlen(report), "dropped_by_lock", dropped,
			  sizeof(dropped));
		EXPECT_LT(0, atoi(dropped)) TH_LOG("no cycle dropped by the lock rule");
	}
	/* a late region says how long it was mapped but not watched */
	if (variant->late) {
		char *e = slurp(err);

		EXPECT_NE(NULL, strstr(report, "\"late\": {\"unwatched_ms_at_most\": "));
		EXPECT_TRUE(e && strstr(e, "region '" LATE_MAP "' appeared in pid"))
			TH_LOG("%s", e ? e : "");
		free(e);
		unlink(LATE_MAP);
	}
	free(report);
}

/*
 * A mapping name that never appears is an error that names it: with
 * another region the capture still runs (and its trace is kept); alone,
 * nothing is attached and no trace is written.
 */
TEST(late_region_never_appears)
{
	char prog[PATH_MAX + 64], *e;
	const char *with_other[] = { "hkctl", "run", "-r", "mapped", "-r", "/tmp/hk-never.map",
				     "--no-status", "-o", "/tmp/hk-never.trace", "--", prog, "plain",
				     "10", NULL };
	const char *alone[] = { "hkctl", "run", "-r", "/tmp/hk-never.map", "--no-status", "-o",
				"/tmp/hk-never2.trace", "--", prog, "plain", "10", NULL };

	snprintf(prog, sizeof(prog), "%s/litmus_late", hk_progs_dir());
	setenv("LITMUS_LATE_PAUSE_MS", "0", 1);
	EXPECT_EQ(2, run(with_other, "/tmp/hk-never.out", "/tmp/hk-never.err"));
	e = slurp("/tmp/hk-never.err");
	ASSERT_NE(NULL, e);
	EXPECT_NE(NULL, strstr(e, "region '/tmp/hk-never.map': pid "));
	EXPECT_NE(NULL, strstr(e, "never mapped it (looked every 10 ms until the capture ended)"))
		TH_LOG("%s", e);
	/* the default mode (auto) cannot add a late region in page mode */
	EXPECT_NE(NULL, strstr(e, "hkctl run: auto: region '/tmp/hk-never.map' is not mapped yet "
			       "and page mode cannot add it later: watchpoints on the whole "
			       "regions, no discovery\n")) TH_LOG("%s", e);
	free(e);
	EXPECT_EQ(0, access("/tmp/hk-never.trace", F_OK));

	EXPECT_EQ(2, run(alone, "/tmp/hk-never.out", "/tmp/hk-never.err"));
	e = slurp("/tmp/hk-never.err");
	ASSERT_NE(NULL, e);
	EXPECT_NE(NULL, strstr(e, "never mapped it (looked every 10 ms until it exited)"))
		TH_LOG("%s", e);
	EXPECT_NE(NULL, strstr(e, "exited with status 0")) TH_LOG("%s", e);
	free(e);
	EXPECT_NE(0, access("/tmp/hk-never2.trace", F_OK));
	unsetenv("LITMUS_LATE_PAUSE_MS");
	unlink("/tmp/hk-never.trace");
	unlink(LATE_MAP);
	EXPECT_OBJECTS_ZERO();
}

/*
 * The attach path: the same MP program, already running (it waits before
 * starting its threads), attached by pid; the report comes when it exits.
 */
TEST(attach_mp_plain)
{
	char dir[] = "/tmp/litmus-attach.XXXXXX", prog[PATH_MAX + 64], srcpath[PATH_MAX + 72];
	char json[128], trace[128], out[128], err[128], pidstr[16], expect[256], got[2048];
	char exe[PATH_MAX], link[64], fdstr[16], tmp[128];
	char sigs[MAX_FINDINGS][SIG_LEN], *src, *report;
	const char *argv[32];
	int status, rc, n, i, fd, go[2];
	pid_t pid, hk;

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(prog, sizeof(prog), "%s/litmus_mp", hk_progs_dir());
	snprintf(srcpath, sizeof(srcpath), "%s.c", prog);
	snprintf(json, sizeof(json), "%s/report.json", dir);
	snprintf(trace, sizeof(trace), "%s/attach.trace", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	snprintf(tmp, sizeof(tmp), "%s/status", dir);
	src = slurp(srcpath);
	ASSERT_NE(NULL, src);
	ASSERT_EQ(0, expand(src, "MP porting high @data_w>@flag_w release ; "
			    "@flag_r>@data_r acquire", expect, sizeof(expect)));
	free(src);

	/*
	 * The program waits for a byte on a pipe before it starts its threads
	 * (LITMUS_GO_FD), sent once 'hkctl status' shows the session armed: a
	 * fixed delay was too short for hkctl's start and ATTACH in an arm64
	 * TCG VM on a loaded host ("target has no address space").
	 */
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		fcntl(go[0], F_SETFD, 0);
		snprintf(fdstr, sizeof(fdstr), "%d", go[0]);
		setenv("LITMUS_GO_FD", fdstr, 1);
		execl(prog, prog, "plain", ITERS, (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	/*
	 * Attach to the program, not to the fork before its exec: hkctl finds
	 * the regions' symbols through /proc/PID/exe (seen under a loaded
	 * arm64 TCG VM: the test's own binary, "no symbol data").
	 */
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	for (i = 0; i < 500; i++) {
		ssize_t n = readlink(link, exe, sizeof(exe) - 1);

		exe[n > 0 ? n : 0] = '\0';
		if (!strcmp(exe, prog))
			break;
		usleep(10000);
	}
	ASSERT_STREQ(prog, exe);
	i = 0;
	argv[i++] = "hkctl";
	argv[i++] = "attach";
	argv[i++] = pidstr;
	argv[i++] = "-r";
	argv[i++] = "data";
	argv[i++] = "-r";
	argv[i++] = "flag";
	argv[i++] = "--access";
	argv[i++] = "rw";
	argv[i++] = "--rotate";
	argv[i++] = "off";
	argv[i++] = "--budget";
	argv[i++] = "1000000";
	argv[i++] = "--no-status";
	argv[i++] = "--format";
	argv[i++] = "json";
	argv[i++] = "--report";
	argv[i++] = json;
	argv[i++] = "-o";
	argv[i++] = trace;
	argv[i] = NULL;
	hk = spawn(argv, out, err);
	ASSERT_LT(0, hk);
	for (i = 0; i < 600 && !session_armed(pid, tmp); i++) {
		if (waitpid(hk, &status, WNOHANG) == hk)
			break;	/* hkctl gave up: its stderr says why */
		usleep(100000);
	}
	EXPECT_GT(600, i) TH_LOG("no armed session on pid %d after 60 s", (int)pid);
	EXPECT_EQ(1, write(go[1], "g", 1));
	close(go[1]);
	if (i < 600 && waitpid(hk, &status, WNOHANG) == hk)
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	else
		rc = reap(hk);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	report = slurp(json);
	if (!report) {
		char *e = slurp(err);

		TH_LOG("hkctl attach exited %d without a report: %s", rc, e ? e : "");
		free(e);
	}
	ASSERT_NE(NULL, report);
	n = signatures(report, sigs, MAX_FINDINGS);
	EXPECT_TRUE(join_lines(got, sizeof(got), sigs, n));
	EXPECT_STREQ(expect, got);
	EXPECT_EQ(1, rc);
	free(report);
	snprintf(out, sizeof(out), "rm -rf %s", dir);
	EXPECT_EQ(0, system(out));
	EXPECT_OBJECTS_ZERO();
}

TEST_HARNESS_MAIN
