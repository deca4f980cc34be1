// SPDX-License-Identifier: GPL-2.0
/*
 * hkctl watch: whole-system capture of a POSIX shm segment shared by two
 * separate programs (progs/shm_mp_writer.c, progs/shm_mp_reader.c).
 *
 *  - mp_plain: the writer maps the segment before the watch starts, the
 *    reader only after (it must still be captured): one MP finding whose
 *    store side is in the writer's source and load side in the reader's,
 *    each side named by process; exit status 1.
 *    Its confidence is "high": the accesses are to plain ints.
 *  - mp_fence: the same with seq_cst fences: no finding, exit status 0.
 *  - mp_relacq: the same with a C11 release store / acquire load of an
 *    _Atomic flag (struct shm_mp_ra): the same plain movs on x86, so the
 *    MP finding stays, and its confidence is "undecidable", naming the
 *    flag the analyzer typed through the pointer (m->flag). On arm64 the
 *    stlr/ldar are in the code: no finding.
 *  - unprivileged: hkctl watch as uid 1000 is refused with the module's
 *    CAP_SYS_ADMIN message.
 *  - kill_reader: the reader is SIGKILLed mid-capture; the writer keeps
 *    running and finishes, the watch runs to its duration and ends
 *    cleanly, every module object is gone afterwards.
 *  - unlink_ends: once the writer exited and the segment is shm_unlink()ed
 *    the watch ends on its own ("segment removed") long before --duration.
 *  - sysv_offsets, memfd_offsets: a System V segment, and a memfd handed
 *    to a second process over a Unix socket; the second process maps it
 *    after the watch began, at another address: both are captured and
 *    their records agree on the segment offsets (progs/shm_kinds.c).
 *    hkctl shm lists the SysV segment.
 *  - all_capped: --shm all with --max-bytes 8 watches 8 bytes and says so.
 *
 * Lines are taken from the "@marker" comments of the installed sources.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "hk_test.h"

#define SEG	"hk_shm_test"

/* Start argv with stdout/stderr to files; uid > 0: as that user. */
static pid_t start(const char *const argv[], const char *out, const char *err, uid_t uid)
{
	pid_t pid = fork();
	int fd;

	if (pid)
		return pid;
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 1);
	fd = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	if (uid && (setgid(uid) || setuid(uid)))
		_exit(126);
	execvp(argv[0], (char *const *)argv);
	_exit(127);
}

static int finish(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	return buf;
}

/* "FILE.c:LINE" of marker @name in progs/FILE.c. */
static void site(const char *file, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX + 32], needle[64];
	char *src, *hit, *p;
	unsigned int line = 1;

	snprintf(path, sizeof(path), "%s/%s", hk_progs_dir(), file);
	src = slurp(path);
	snprintf(needle, sizeof(needle), "@%s */", name);
	hit = strstr(src, needle);
	for (p = src; hit && p < hit; p++)
		line += *p == '\n';
	snprintf(buf, size, "%s:%u", file, hit ? line : 0);
	free(src);
}

/* Module objects still alive, after up to 3 s for the deferred frees. */
static unsigned long objects_left(void)
{
	unsigned long sum = 0;
	int tries;

	for (tries = 0; tries < 30; tries++) {
		char *s = slurp("/sys/kernel/debug/hawkeyes/objects"), *p = s;

		sum = 0;
		while (p && *p) {
			p = strchr(p, ' ');
			if (!p)
				break;
			sum += strtoul(p + 1, &p, 10);
		}
		free(s);
		if (!sum)
			break;
		usleep(100000);
	}
	return sum;
}

FIXTURE(shm) {
	char dir[64];
	char prog_w[PATH_MAX + 32], prog_r[PATH_MAX + 32];
	char out[8][PATH_MAX + 64];
};

FIXTURE_SETUP(shm)
{
	int i;

	snprintf(self->dir, sizeof(self->dir), "/tmp/hk_shm.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->prog_w, sizeof(self->prog_w), "%s/shm_mp_writer", hk_progs_dir());
	snprintf(self->prog_r, sizeof(self->prog_r), "%s/shm_mp_reader", hk_progs_dir());
	for (i = 0; i < 8; i++)
		snprintf(self->out[i], sizeof(self->out[i]), "%s/f%d", self->dir, i);
	shm_unlink("/" SEG);
}

FIXTURE_TEARDOWN(shm)
{
	char cmd[128];

	shm_unlink("/" SEG);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	system(cmd);
	EXPECT_OBJECTS_ZERO();
}

/*
 * Until hkctl's watch is armed (the module holds its session), up to 60 s:
 * a process started after this maps its segment while the watch runs. A
 * fixed sleep was not enough on the debug kernel and on a loaded arm64
 * host, where arming took seconds and the late process was gone (or
 * exiting) before the watch began.
 */
static void wait_watch(struct __test_metadata *_metadata)
{
	int i;

	for (i = 0; i < 6000 && hk_object("sessions") < 1; i++)
		usleep(10000);
	EXPECT_LE(1, hk_object("sessions"));
}

/* out: 0 writer, 1 reader, 2 report, 3 hkctl stderr, 4 trace */
static int mp(struct __test_metadata *_metadata, FIXTURE_DATA(shm) *self, const char *variant,
	      char **report, char **err)
{
	const char *w[] = { self->prog_w, "/" SEG, variant, "8", NULL };
	const char *r[] = { self->prog_r, "/" SEG, variant, "4", NULL };
	const char *h[] = { "hkctl", "watch", "--shm", "posix:" SEG, "--access", "rw",
			    "-d", "5s", "-o", self->out[4], "--no-status", NULL };
	pid_t pw, pr, ph;
	int rc, i;

	pw = start(w, self->out[0], NULL, 0);
	for (i = 0; i < 500 && access("/dev/shm/" SEG, F_OK); i++)
		usleep(10000);
	ph = start(h, self->out[2], self->out[3], 0);
	wait_watch(_metadata);	/* the reader maps the segment after the watch began */
	pr = start(r, self->out[1], NULL, 0);
	rc = finish(ph);
	EXPECT_EQ(0, finish(pr));
	EXPECT_EQ(0, finish(pw));
	*report = slurp(self->out[2]);
	*err = slurp(self->out[3]);
	return rc;
}

TEST_F_TIMEOUT(shm, mp_plain, 300)
{
	char wd[64], wf[64], rf[64], rd[64], line[160];
	char *report, *err;
	int rc = mp(_metadata, self, "plain", &report, &err);

	site("shm_mp_writer.c", "w_data", wd, sizeof(wd));
	site("shm_mp_writer.c", "w_flag", wf, sizeof(wf));
	site("shm_mp_reader.c", "r_flag", rf, sizeof(rf));
	site("shm_mp_reader.c", "r_data", rd, sizeof(rd));
	TH_LOG("%s%s", err, report);
	EXPECT_EQ(1, rc);
	EXPECT_NE(NULL, strstr(err, "2 processes took part"));
	EXPECT_NE(NULL, strstr(report, "1 finding(s), 1 porting"));
	EXPECT_NE(NULL, strstr(report, "] MP (message passing"));
	EXPECT_NE(NULL, strstr(report, "(shm_mp_writer) main thread: store then store"));
	EXPECT_NE(NULL, strstr(report, "(shm_mp_reader) main thread: load then load"));
	snprintf(line, sizeof(line), "first:  %s ", wd);
	EXPECT_NE(NULL, strstr(report, line));
	snprintf(line, sizeof(line), "second: %s ", wf);
	EXPECT_NE(NULL, strstr(report, line));
	snprintf(line, sizeof(line), "first:  %s ", rf);
	EXPECT_NE(NULL, strstr(report, line));
	snprintf(line, sizeof(line), "second: %s ", rd);
	EXPECT_NE(NULL, strstr(report, line));
#ifdef __aarch64__
	EXPECT_NE(NULL, strstr(report, "    confidence: high: arm64 code"));
#else
	EXPECT_NE(NULL, strstr(report, "    confidence: high: plain accesses to non-_Atomic"));
#endif
	EXPECT_EQ(NULL, strstr(report, "undecidable"));
	EXPECT_EQ(0, objects_left());
	free(report);
	free(err);
}

TEST_F_TIMEOUT(shm, mp_fence, 300)
{
	char *report, *err;
	int rc = mp(_metadata, self, "fence", &report, &err);

	TH_LOG("%s%s", err, report);
	EXPECT_EQ(0, rc);
	EXPECT_NE(NULL, strstr(err, "2 processes took part"));
	EXPECT_NE(NULL, strstr(report, "0 finding(s)"));
	EXPECT_EQ(NULL, strstr(report, "unresolved records"));
	EXPECT_EQ(0, objects_left());
	free(report);
	free(err);
}

TEST_F_TIMEOUT(shm, mp_relacq, 300)
{
	char wd[64], wf[64], rf[64], rd[64], line[160];
	char *report, *err, *p;
	int rc = mp(_metadata, self, "relacq", &report, &err), n = 0;

#ifdef __aarch64__
	TH_LOG("%s%s", err, report);
	EXPECT_EQ(0, rc);
	EXPECT_NE(NULL, strstr(err, "2 processes took part"));
	EXPECT_NE(NULL, strstr(report, "0 finding(s)"));
	EXPECT_EQ(NULL, strstr(report, "unresolved records"));
	EXPECT_EQ(0, objects_left());
	free(report);
	free(err);
	return;
#endif
	site("shm_mp_writer.c", "wr_data", wd, sizeof(wd));
	site("shm_mp_writer.c", "wr_flag", wf, sizeof(wf));
	site("shm_mp_reader.c", "rr_flag", rf, sizeof(rf));
	site("shm_mp_reader.c", "rr_data", rd, sizeof(rd));
	TH_LOG("%s%s", err, report);
	EXPECT_EQ(1, rc);
	EXPECT_NE(NULL, strstr(err, "2 processes took part"));
	EXPECT_NE(NULL, strstr(report, "1 finding(s), 1 porting"));
	EXPECT_NE(NULL, strstr(report, "] MP (message passing"));
	snprintf(line, sizeof(line), "first:  %s ", wd);
	EXPECT_NE(NULL, strstr(report, line));
	snprintf(line, sizeof(line), "second: %s ", wf);
	EXPECT_NE(NULL, strstr(report, line));
	snprintf(line, sizeof(line), "first:  %s ", rf);
	EXPECT_NE(NULL, strstr(report, line));
	snprintf(line, sizeof(line), "second: %s ", rd);
	EXPECT_NE(NULL, strstr(report, line));
	/* every finding: undecidable, for the flag typed through the pointer */
	for (p = strstr(report, "    confidence: "); p; p = strstr(p + 1, "    confidence: ")) {
		n++;
		EXPECT_EQ(0, strncmp(p, "    confidence: undecidable: 'm->flag' has an _Atomic type",
				     strlen("    confidence: undecidable: 'm->flag' has an _Atomic type")));
	}
	EXPECT_EQ(1, n);
	EXPECT_EQ(0, objects_left());
	free(report);
	free(err);
}

TEST_F_TIMEOUT(shm, unprivileged, 120)
{
	const char *w[] = { self->prog_w, "/" SEG, "plain", "3", NULL };
	const char *h[] = { "hkctl", "watch", "--shm", "posix:" SEG, "-d", "1s", "-o",
			    "/tmp/hk_shm_unpriv.trace", "--no-status", NULL };
	char *err;
	int i;
	pid_t pw = start(w, self->out[0], NULL, 0);

	for (i = 0; i < 500 && access("/dev/shm/" SEG, F_OK); i++)
		usleep(10000);
	EXPECT_EQ(2, finish(start(h, self->out[2], self->out[3], 1000)));
	err = slurp(self->out[3]);
	TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "needs CAP_SYS_ADMIN"));
	EXPECT_EQ(0, finish(pw));
	EXPECT_EQ(0, objects_left());
	free(err);
}

TEST_F_TIMEOUT(shm, kill_reader, 300)
{
	const char *w[] = { self->prog_w, "/" SEG, "plain", "7", NULL };
	const char *r[] = { self->prog_r, "/" SEG, "plain", "7", NULL };
	const char *h[] = { "hkctl", "watch", "--shm", "posix:" SEG, "--access", "rw",
			    "-d", "5s", "-o", self->out[4], "--no-status", "--no-report", NULL };
	char *err, *wout;
	pid_t pw, pr, ph;
	int i;

	pw = start(w, self->out[0], NULL, 0);
	for (i = 0; i < 500 && access("/dev/shm/" SEG, F_OK); i++)
		usleep(10000);
	pr = start(r, self->out[1], NULL, 0);
	ph = start(h, self->out[2], self->out[3], 0);
	sleep(2);
	kill(pr, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, finish(pr));
	EXPECT_EQ(0, finish(ph));
	EXPECT_EQ(0, finish(pw));
	err = slurp(self->out[3]);
	wout = slurp(self->out[0]);
	TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "duration elapsed"));
	EXPECT_NE(NULL, strstr(wout, "rounds "));
	EXPECT_EQ(0, objects_left());
	free(err);
	free(wout);
}

TEST_F_TIMEOUT(shm, unlink_ends, 300)
{
	const char *w[] = { self->prog_w, "/" SEG, "plain", "2", NULL };
	const char *h[] = { "hkctl", "watch", "--shm", "posix:" SEG, "-d", "60s", "-o",
			    self->out[4], "--no-status", "--no-report", NULL };
	struct timespec t0, t1;
	pid_t pw, ph;
	char *err;
	int i;

	pw = start(w, self->out[0], NULL, 0);
	for (i = 0; i < 500 && access("/dev/shm/" SEG, F_OK); i++)
		usleep(10000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ph = start(h, self->out[2], self->out[3], 0);
	/* unlinked before hkctl found it, the segment would be no watch at all */
	wait_watch(_metadata);
	EXPECT_EQ(0, finish(pw));
	EXPECT_EQ(0, shm_unlink("/" SEG));
	EXPECT_EQ(0, finish(ph));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	err = slurp(self->out[3]);
	TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "segment removed"));
	EXPECT_LT(t1.tv_sec - t0.tv_sec, 30);
	EXPECT_EQ(0, objects_left());
	free(err);
}

/*
 * From 'hkctl dump TRACE': the address each of the first two processes
 * had for segment offsets 0 and 8. Returns the number of processes seen
 * with seg records; addr[p][k] is 0 when process p had no record at 8k.
 */
static int seg_addrs(const char *trace, const char *tmp, unsigned int pid[2],
		     unsigned long long addr[2][2])
{
	const char *d[] = { "hkctl", "dump", trace, NULL };
	char line[512];
	int n = 0, i;
	FILE *f;

	memset(addr, 0, 2 * sizeof(addr[0]));
	if (finish(start(d, tmp, NULL, 0)))
		return -1;
	f = fopen(tmp, "r");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long a;
		unsigned int p, seg, off;

		if (line[0] == '#' ||
		    sscanf(line, "%*u %u %*u %*u %*x %llx %*u %*s %*x %*x seg %u+%x", &p, &a,
			   &seg, &off) != 4 || seg != 1 || (off != 0 && off != 8))
			continue;
		for (i = 0; i < n && pid[i] != p; i++)
			;
		if (i == n) {
			if (n == 2)
				continue;
			pid[n++] = p;
		}
		addr[i][off / 8] = a;
	}
	if (f)
		fclose(f);
	return n;
}

/* Both processes stored at offsets 0 and 8, each at its own address. */
static void expect_offsets_agree(struct __test_metadata *_metadata, const char *trace,
				 const char *tmp)
{
	unsigned long long addr[2][2];
	unsigned int pid[2];

	ASSERT_EQ(2, seg_addrs(trace, tmp, pid, addr));
	TH_LOG("pid %u: 0x%llx 0x%llx; pid %u: 0x%llx 0x%llx", pid[0], addr[0][0], addr[0][1],
	       pid[1], addr[1][0], addr[1][1]);
	EXPECT_NE(0, addr[0][0]);
	EXPECT_NE(0, addr[1][0]);
	EXPECT_EQ(addr[0][0] + 8, addr[0][1]);
	EXPECT_EQ(addr[1][0] + 8, addr[1][1]);
	EXPECT_NE(addr[0][0], addr[1][0]);
}

/* Wait until @path holds @prefix; its number after the prefix, or -1. */
static long wait_line(const char *path, const char *prefix)
{
	long v = -1;
	int i;

	for (i = 0; i < 1000 && v < 0; i++) {
		char *s = slurp(path), *p = strstr(s, prefix);

		if (p)
			v = atol(p + strlen(prefix));
		free(s);
		if (v < 0)
			usleep(10000);
	}
	return v;
}

#define SYSV_KEY	"0x4b1d0008"

TEST_F_TIMEOUT(shm, sysv_offsets, 300)
{
	char kinds[PATH_MAX + 32], spec[32], *list, *err;
	const char *c[] = { kinds, "sysv-create", SYSV_KEY, "8", NULL };
	const char *a[] = { kinds, "sysv-attach", SYSV_KEY, "4", NULL };
	const char *h[] = { "hkctl", "watch", "--shm", "sysv:" SYSV_KEY, "-d", "4s", "-o",
			    self->out[4], "--no-status", "--no-report", NULL };
	const char *l[] = { "hkctl", "shm", NULL };
	pid_t pc, pa, ph;
	long id;

	snprintf(kinds, sizeof(kinds), "%s/shm_kinds", hk_progs_dir());
	pc = start(c, self->out[0], NULL, 0);
	id = wait_line(self->out[0], "id ");
	ASSERT_LE(0, id);
	/* hkctl shm lists it with its creator */
	EXPECT_EQ(0, finish(start(l, self->out[5], NULL, 0)));
	list = slurp(self->out[5]);
	TH_LOG("%s", list);
	snprintf(spec, sizeof(spec), "sysv-id:%ld ", id);
	EXPECT_NE(NULL, strstr(list, spec));
	ph = start(h, self->out[2], self->out[3], 0);
	wait_watch(_metadata);
	pa = start(a, self->out[1], NULL, 0);
	EXPECT_EQ(0, finish(ph));
	EXPECT_EQ(0, finish(pa));
	EXPECT_EQ(0, finish(pc));
	err = slurp(self->out[3]);
	TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "2 processes took part"));
	expect_offsets_agree(_metadata, self->out[4], self->out[6]);
	EXPECT_EQ(0, shmctl(id, IPC_RMID, NULL));
	EXPECT_EQ(0, objects_left());
	free(list);
	free(err);
}

TEST_F_TIMEOUT(shm, memfd_offsets, 300)
{
	char kinds[PATH_MAX + 32], sock[PATH_MAX + 64], spec[64], *err;
	const char *sv[] = { kinds, "memfd-serve", sock, "8", NULL };
	const char *rc[] = { kinds, "memfd-recv", sock, "4", NULL };
	const char *h[] = { "hkctl", "watch", "--shm", spec, "-d", "4s", "-o", self->out[4],
			    "--no-status", "--no-report", NULL };
	pid_t ps, pr, ph;
	long fd;

	snprintf(kinds, sizeof(kinds), "%s/shm_kinds", hk_progs_dir());
	snprintf(sock, sizeof(sock), "%s/sock", self->dir);
	ps = start(sv, self->out[0], NULL, 0);
	fd = wait_line(self->out[0], "fd ");
	ASSERT_LE(0, fd);
	snprintf(spec, sizeof(spec), "memfd:%d:%ld", (int)ps, fd);
	ph = start(h, self->out[2], self->out[3], 0);
	wait_watch(_metadata);
	pr = start(rc, self->out[1], NULL, 0);	/* gets the memfd over the socket */
	EXPECT_EQ(0, finish(ph));
	EXPECT_EQ(0, finish(pr));
	EXPECT_EQ(0, finish(ps));
	err = slurp(self->out[3]);
	TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "2 processes took part"));
	expect_offsets_agree(_metadata, self->out[4], self->out[6]);
	EXPECT_EQ(0, objects_left());
	free(err);
}

/* --shm all with --max-bytes: the cap is applied and said. */
TEST_F_TIMEOUT(shm, all_capped, 300)
{
	char kinds[PATH_MAX + 32], *err, *dump;
	const char *c[] = { kinds, "sysv-create", SYSV_KEY, "4", NULL };
	const char *h[] = { "hkctl", "watch", "--shm", "all", "--max-bytes", "8", "-d", "2s",
			    "-o", self->out[4], "--no-status", "--no-report", NULL };
	const char *d[] = { "hkctl", "dump", self->out[4], NULL };
	pid_t pc;
	long id;

	snprintf(kinds, sizeof(kinds), "%s/shm_kinds", hk_progs_dir());
	pc = start(c, self->out[0], NULL, 0);
	id = wait_line(self->out[0], "id ");
	ASSERT_LE(0, id);
	EXPECT_EQ(0, finish(start(h, self->out[2], self->out[3], 0)));
	EXPECT_EQ(0, finish(pc));
	EXPECT_EQ(0, finish(start(d, self->out[5], NULL, 0)));
	err = slurp(self->out[3]);
	dump = slurp(self->out[5]);
	TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "watching 8 of 16 bytes (--max-bytes)"));
	EXPECT_NE(NULL, strstr(dump, " seg 1+0x0\n"));
	EXPECT_EQ(NULL, strstr(dump, " seg 1+0x8\n"));
	EXPECT_EQ(0, shmctl(id, IPC_RMID, NULL));
	EXPECT_EQ(0, objects_left());
	free(err);
	free(dump);
}

TEST_HARNESS_MAIN
