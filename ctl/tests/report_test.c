// SPDX-License-Identifier: GPL-2.0
/*
 * hkctl report on the host, without the module: the trace is written here
 * with the trace writer, holding what an x86 capture of the litmus MP
 * program (tools/testing/selftests/hawkeyes/progs/litmus_mp.c, compiled
 * here -O1 -g -no-pie) would: read/write records whose ip is the
 * instruction *after* each access (as x86 reports it), the program's
 * mapping with its build-id, threads, regions, END. The instruction
 * addresses come from objdump, independently of the analyzer.
 *
 * Asserted: the accessing instruction and its kind are resolved (the MP
 * finding on the marker lines, exit 1); the mutex variant is dropped by the
 * lock rule; the release/acquire variant is undecidable on x86 and decided
 * (no finding) by its arm64 build; a binary whose build-id differs from
 * the trace's is refused record by record, with the reason.
 *
 * The same program cross-compiled for arm64 and captured as arm64 captures
 * are (ip is the access itself; accesses found through the DWARF lines of
 * the source's @markers): the plain MP is found with "high" confidence, the
 * release/acquire variant is ordered by its stlr/ldar, and the mutex and
 * spinlock variants are dropped by the lock rule, which has to name the
 * lock word through adrp/add/mov into x0 (pthread_mutex_lock) or x1
 * (__aarch64_swp4_acq) and the stlr's base register.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libgen.h>
#include <libelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "hk_test.h"
#include "maps.h"
#include "trace.h"

#define MAX_ACC		16
#define REPEAT		3

struct access {
	uint64_t ip_after, addr;
	int writer;
	uint64_t ip;		/* x86: the access instruction itself */
};

/*
 * A --mode auto phase: its META flag, whose accesses it holds (1 the
 * writer's, 0 the reader's, -1 both) and when its records start. The
 * discovery is page mode: exact ips, R or W.
 */
struct phase {
	uint32_t meta_flags;
	int side;
	uint64_t t0;
};

static char top[PATH_MAX];

static const char *top_dir(void)
{
	char self[PATH_MAX];
	ssize_t n;

	if (top[0])
		return top;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	/* ctl/tests/bin/report_test */
	snprintf(top, sizeof(top), "%s/../../..", n > 0 ? dirname(self) : ".");
	return top;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/*
 * Accesses to the globals a and b in functions fw (writer) and fr (reader),
 * from objdump: "  401189:\tmov    DWORD PTR [rip+0x2ecd],eax  # 40405c <data>".
 */
static int find_accesses(const char *bin, const char *fw, const char *fr, const char *a,
			 const char *b, struct access *acc, int max)
{
	char cmd[PATH_MAX + 64], line[512], fn[64] = "", want_a[64], want_b[64];
	uint64_t pending_addr = 0, pending_ip = 0;
	int pending = 0, pending_writer = 0, n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "objdump -d --no-show-raw-insn -M intel %s", bin);
	snprintf(want_a, sizeof(want_a), "<%s>", a);
	snprintf(want_b, sizeof(want_b), "<%s>", b);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (fgets(line, sizeof(line), p)) {
		char *lt = strchr(line, '<');
		uint64_t at;

		if (strstr(line, ">:\n") && lt) {	/* "0000000000401176 <writer>:" */
			snprintf(fn, sizeof(fn), "%.*s", (int)(strchr(lt, '>') - lt - 1), lt + 1);
			pending = 0;
			continue;
		}
		if (sscanf(line, " %" SCNx64 ":", &at) != 1)
			continue;
		if (pending && n < max) {	/* the instruction after the access */
			acc[n].ip_after = at;
			acc[n].ip = pending_ip;
			acc[n].addr = pending_addr;
			acc[n].writer = pending_writer;
			n++;
			pending = 0;
		}
		if ((strcmp(fn, fw) && strcmp(fn, fr)) ||
		    (!strstr(line, want_a) && !strstr(line, want_b)) || !strchr(line, '#'))
			continue;
		pending_addr = strtoull(strchr(line, '#') + 1, NULL, 16);
		pending_ip = at;
		pending_writer = !strcmp(fn, fw);
		pending = 1;
	}
	pclose(p);
	return n;
}

static int build_id(const char *path, uint8_t *id, size_t size)
{
	int fd = open(path, O_RDONLY), len = 0;
	Elf *elf;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf)
		len = hk_maps_elf_build_id(elf, id, size);
	elf_end(elf);
	close(fd);
	return len;
}

/*
 * Accesses of an arm64 build at the source lines of four markers (writer
 * first, second; reader first, second): for each, the first load or store
 * objdump -l puts on that line. addr[k] is the address of object obj[k].
 */
static int find_a64_accesses(const char *bin, const char *src, const char *const marks[4],
			     const char *const obj[4], struct access *acc)
{
	char cmd[2 * PATH_MAX + 64], line[512];
	unsigned int cur = 0, at_line[4];
	int k, n = 0;
	FILE *p;

	for (k = 0; k < 4; k++) {
		FILE *f;
		char needle[64], buf[512];
		unsigned int l = 0;

		at_line[k] = 0;
		snprintf(needle, sizeof(needle), "@%s */", marks[k]);
		f = fopen(src, "r");
		while (f && fgets(buf, sizeof(buf), f))
			if (++l && strstr(buf, needle))
				at_line[k] = l;
		if (f)
			fclose(f);
		/* the object's address from the symbol table */
		snprintf(cmd, sizeof(cmd), "aarch64-linux-gnu-nm %s | awk '$3 == \"%s\" { print $1 }'",
			 bin, obj[k]);
		p = popen(cmd, "r");
		acc[k].addr = p && fgets(line, sizeof(line), p) ? strtoull(line, NULL, 16) : 0;
		if (p)
			pclose(p);
		acc[k].ip_after = 0;
		acc[k].writer = k < 2;
	}
	snprintf(cmd, sizeof(cmd), "aarch64-linux-gnu-objdump -d -l --no-show-raw-insn %s", bin);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (fgets(line, sizeof(line), p)) {
		char *c = strstr(line, ".c:");
		uint64_t ip;
		char mn[16];

		if (c && line[0] == '/') {	/* "/path/litmus_mp.c:99 (discriminator 1)" */
			cur = atoi(c + 3);
			continue;
		}
		if (sscanf(line, " %" SCNx64 ": %15s", &ip, mn) != 2 ||
		    (strncmp(mn, "ld", 2) && strncmp(mn, "st", 2)))
			continue;
		for (k = 0; k < 4; k++)
			if (at_line[k] && cur == at_line[k] && !acc[k].ip_after) {
				acc[k].ip_after = ip;	/* arm64: the access itself */
				n++;
			}
	}
	pclose(p);
	return n;
}

/*
 * A trace of the accesses, as an x86 read/write capture of bin would be, or
 * an arm64 one (a64: ip is the access itself, machine "aarch64"); with @ph,
 * one phase of an x86 --mode auto capture, holding one side's accesses.
 */
static int write_trace_arch(const char *trace, const char *bin, const char *mapped_as,
			    const struct access *acc, int n, uint64_t a, uint64_t b, uint64_t bias,
			    int stale_map, int a64, const struct phase *ph)
{
	bool page = ph && (ph->meta_flags & HK_TRACE_META_F_AUTO_DISCOVERY);
	struct hk_trace_meta meta = { 0 };
	struct hk_trace_map map = { 0 };
	struct hk_trace_thread th = { 0 };
	struct hk_trace_end end = { 0 };
	struct hk_trace_rec rec;
	struct hk_trace *t;
	uint64_t seq = 0;
	int i, k, ret;

	ret = hk_trace_create(trace, &t);
	if (ret)
		return ret;
	meta.pid = 100;
	meta.mode = page ? HK_TRACE_MODE_PGPROT : HK_TRACE_MODE_HWBP;
	meta.flags = ph ? ph->meta_flags : 0;
	meta.access = HK_TRACE_ACCESS_RW;
	meta.slots = 4;
	meta.start_time_ns = 1000;
	strcpy(meta.machine, a64 ? "aarch64" : "x86_64");
	strcpy(meta.comm, "litmus_mp");
	ret = hk_trace_write_meta(t, &meta);
	ret = ret ?: hk_trace_write_region(t, a + bias, 4, "a");
	ret = ret ?: hk_trace_write_region(t, b + bias, 4, "b");
	/* one mapping for the whole image: non-PIE at 0x400000, PIE at its bias */
	map.start = bias ? bias : 0x400000;
	map.end = map.start + 0x20000;
	map.bias = bias;
	map.prot = 7;
	map.flags = HK_TRACE_MAP_F_ELF;
	if (stale_map) {
		/* an earlier mapping of the same range, replaced during the capture */
		ret = ret ?: hk_trace_write_map(t, &map, "/gone/earlier.so");
	}
	map.build_id_len = build_id(bin, map.build_id, sizeof(map.build_id));
	ret = ret ?: hk_trace_write_map(t, &map, mapped_as);
	for (i = 0; i < 2 && !ret; i++) {
		th.tid = 101 + i;
		th.flags = HK_TRACE_THREAD_F_LATER;
		strcpy(th.comm, "litmus_mp");
		ret = hk_trace_write_thread(t, &th);
	}
	for (k = 0; k < REPEAT; k++)
		for (i = 0; i < n && !ret; i++) {
			if (ph && ph->side >= 0 && acc[i].writer != ph->side)
				continue;
			memset(&rec, 0, sizeof(rec));
			rec.time_ns = (ph ? ph->t0 : 2000) + seq;
			rec.seq = seq++;
			rec.ip = acc[i].ip_after + bias;
			rec.addr = acc[i].addr + bias;
			rec.pid = 100;
			rec.tid = acc[i].writer ? 101 : 102;
			rec.flags = a64 ? 0 : HK_TRACE_REC_F_IP_AFTER;
			rec.size = 4;
			rec.kind = HK_TRACE_KIND_RW;	/* the instruction must tell */
			if (page) {
				/* exact ip, width from the instruction, the CPU's R or W */
				rec.ip = acc[i].ip + bias;
				rec.flags = HK_TRACE_REC_F_PAGE;
				rec.size = 0;
				rec.kind = acc[i].writer ? HK_TRACE_KIND_W : HK_TRACE_KIND_R;
			}
			ret = hk_trace_write_records(t, &rec, 1);
		}
	end.end_time_ns = 5000 + seq;
	end.records = seq;
	end.reason = HK_TRACE_END_TARGET_EXIT;
	ret = ret ?: hk_trace_write_end(t, &end);
	k = hk_trace_close(t);
	return ret ?: k;
}

static int write_trace(const char *trace, const char *bin, const char *mapped_as,
		       const struct access *acc, int n, uint64_t a, uint64_t b, uint64_t bias,
		       int stale_map)
{
	return write_trace_arch(trace, bin, mapped_as, acc, n, a, b, bias, stale_map, 0, NULL);
}

static unsigned int marker(const char *src, const char *name)
{
	char needle[64], buf[512];
	unsigned int line = 0;
	FILE *f = fopen(src, "r");

	snprintf(needle, sizeof(needle), "@%s */", name);
	while (f && fgets(buf, sizeof(buf), f)) {
		line++;
		if (strstr(buf, needle)) {
			fclose(f);
			return line;
		}
	}
	if (f)
		fclose(f);
	return 0;
}

/* "l1 l2 l3 l4": the source lines of litmus_mp's plain MP, as a finding has them. */
static void plain_mp_lines(const char *src, char *buf, size_t size)
{
	snprintf(buf, size, "%u %u %u %u", marker(src, "data_w"), marker(src, "flag_w"),
		 marker(src, "flag_r"), marker(src, "data_r"));
}

/* "l1 l2 l3 l4" of the first finding's four "line" values, "" if none. */
static void finding_lines(const char *json, char *buf, size_t size)
{
	const char *p = strstr(json, "{\"pattern\": ");
	size_t o = 0;
	int k;

	buf[0] = '\0';
	for (k = 0; p && k < 4; k++) {
		p = strstr(p, "\"line\": ");
		if (!p)
			break;
		p += 8;
		o += snprintf(buf + o, size - o, "%s%d", k ? " " : "", atoi(p));
	}
}

FIXTURE(report) {
	char dir[64];
	char src[PATH_MAX], bin[PATH_MAX + 64], a64[PATH_MAX + 64], trace[PATH_MAX + 64];
	char pie[PATH_MAX + 64];
	char out[65536], err[8192];
	int have_a64;
};

FIXTURE_SETUP(report)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/hk-report.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->src, sizeof(self->src),
		 "%s/tools/testing/selftests/hawkeyes/progs/litmus_mp.c", top_dir());
	snprintf(self->bin, sizeof(self->bin), "%s/litmus_mp", self->dir);
	snprintf(self->a64, sizeof(self->a64), "%s/litmus_mp.a64", self->dir);
	snprintf(self->trace, sizeof(self->trace), "%s/mp.trace", self->dir);
	snprintf(self->pie, sizeof(self->pie), "%s/litmus_mp_pie", self->dir);
	ASSERT_EQ(0, sh("gcc -O1 -g -no-pie -pthread -o %s %s", self->bin, self->src));
	self->have_a64 = !sh("aarch64-linux-gnu-gcc -O1 -g -no-pie -pthread -o %s %s 2>/dev/null",
			     self->a64, self->src);
}

FIXTURE_TEARDOWN(report)
{
	sh("rm -rf %s", self->dir);
}

/* Trace of variant (fw, fr over a, b); returns the number of accesses found. */
static int make_trace_of(struct __test_metadata *_metadata, FIXTURE_DATA(report) *self,
			 const char *bin, uint64_t bias, const char *fw, const char *fr,
			 const char *a, const char *b, const char *mapped_as, int stale_map)
{
	struct access acc[MAX_ACC];
	uint64_t addr[2] = { 0, 0 };
	int n, i;

	n = find_accesses(bin, fw, fr, a, b, acc, MAX_ACC);
	EXPECT_EQ(4, n) TH_LOG("objdump found %d accesses of %s/%s in %s/%s", n, a, b, fw, fr);
	for (i = 0; i < n; i++)
		if (!addr[0] || acc[i].addr == addr[0])
			addr[0] = acc[i].addr;
		else
			addr[1] = acc[i].addr;
	EXPECT_EQ(0, write_trace(self->trace, bin, mapped_as ? mapped_as : bin, acc, n, addr[0],
				 addr[1], bias, stale_map));
	return n;
}

static int make_trace(struct __test_metadata *_metadata, FIXTURE_DATA(report) *self,
		      const char *fw, const char *fr, const char *a, const char *b,
		      const char *mapped_as)
{
	return make_trace_of(_metadata, self, self->bin, 0, fw, fr, a, b, mapped_as, 0);
}

TEST_F(report, plain_mp_resolved_from_ip_after)
{
	const char *args[] = { "report", self->trace, "--format", "json", NULL };
	char lines[64], want[64];

	make_trace(_metadata, self, "plain_w", "plain_r", "data", "flag", NULL);
	ASSERT_EQ(1, hk_run_hkctl(args, self->out, sizeof(self->out), self->err,
				  sizeof(self->err))) TH_LOG("%s", self->err);
	finding_lines(self->out, lines, sizeof(lines));
	plain_mp_lines(self->src, want, sizeof(want));
	EXPECT_STREQ(want, lines);
	EXPECT_NE(NULL, strstr(self->out, "\"pattern\": \"MP\""));
	EXPECT_NE(NULL, strstr(self->out, "\"confidence\": \"high\""));
	/* 12 records: 2 writes and 2 reads resolved from RW, 3 times each */
	EXPECT_NE(NULL, strstr(self->out, "\"records\": 12,"));
	EXPECT_NE(NULL, strstr(self->out, "\"reads\": 6, \"writes\": 6,"));
	EXPECT_NE(NULL, strstr(self->out, "\"no_instruction\": 0,"));
}

/* PIE: the mapping's load bias is taken off ips and data addresses alike. */
TEST_F(report, pie_mp_with_load_bias)
{
	const char *args[] = { "report", self->trace, "--format", "json", NULL };
	char lines[64], want[64];

	ASSERT_EQ(0, sh("gcc -O1 -g -fPIE -pie -pthread -o %s %s", self->pie, self->src));
	make_trace_of(_metadata, self, self->pie, 0x555555554000ull, "plain_w", "plain_r",
		      "data", "flag", NULL, 0);
	ASSERT_EQ(1, hk_run_hkctl(args, self->out, sizeof(self->out), self->err,
				  sizeof(self->err))) TH_LOG("%s", self->err);
	finding_lines(self->out, lines, sizeof(lines));
	plain_mp_lines(self->src, want, sizeof(want));
	EXPECT_STREQ(want, lines);
	EXPECT_NE(NULL, strstr(self->out, "\"object\": \"flag\""));
}

/* MAP chunks of one range twice (the address space changed): the later wins. */
TEST_F(report, later_map_chunk_wins)
{
	const char *args[] = { "report", self->trace, "--format", "json", NULL };

	make_trace_of(_metadata, self, self->bin, 0, "plain_w", "plain_r", "data", "flag", NULL,
		      1);
	ASSERT_EQ(1, hk_run_hkctl(args, self->out, sizeof(self->out), self->err,
				  sizeof(self->err))) TH_LOG("%s", self->err);
	EXPECT_NE(NULL, strstr(self->out, "\"no_binary\": 0,"));
	EXPECT_NE(NULL, strstr(self->out, "\"pattern\": \"MP\""));
}

TEST_F(report, mutex_pairs_dropped)
{
	const char *args[] = { "report", self->trace, "--format", "json", NULL };

	make_trace(_metadata, self, "mutex_w", "mutex_r", "data", "flag", NULL);
	ASSERT_EQ(0, hk_run_hkctl(args, self->out, sizeof(self->out), self->err,
				  sizeof(self->err))) TH_LOG("%s", self->err);
	EXPECT_EQ(NULL, strstr(self->out, "\"pattern\""));
	EXPECT_NE(NULL, strstr(self->out, "\"dropped_by_lock\": 1,"));
}

TEST_F(report, relacq_undecidable_then_decided_on_arm64)
{
	const char *args[] = { "report", self->trace, "--format", "json", NULL };
	const char *a64[] = { "report", self->trace, "--format", "json", "--arm64-binary",
			      self->a64, NULL };

	make_trace(_metadata, self, "relacq_w", "relacq_r", "data", "aflag", NULL);
	ASSERT_EQ(1, hk_run_hkctl(args, self->out, sizeof(self->out), self->err,
				  sizeof(self->err))) TH_LOG("%s", self->err);
	EXPECT_NE(NULL, strstr(self->out, "\"confidence\": \"undecidable\""));
	EXPECT_NE(NULL, strstr(self->out, "'aflag' has an _Atomic type"));
	if (!self->have_a64)
		SKIP(return, "no aarch64-linux-gnu-gcc");
	ASSERT_EQ(0, hk_run_hkctl(a64, self->out, sizeof(self->out), self->err,
				  sizeof(self->err))) TH_LOG("%s", self->err);
	EXPECT_EQ(NULL, strstr(self->out, "\"pattern\""));
	EXPECT_NE(NULL, strstr(self->out, "\"dropped_by_arm64\": 1,"));
}

TEST_F(report, plain_stays_on_arm64)
{
	const char *a64[] = { "report", self->trace, "--format", "json", "--arm64-binary",
			      self->a64, NULL };

	if (!self->have_a64)
		SKIP(return, "no aarch64-linux-gnu-gcc");
	make_trace(_metadata, self, "plain_w", "plain_r", "data", "flag", NULL);
	ASSERT_EQ(1, hk_run_hkctl(a64, self->out, sizeof(self->out), self->err,
				  sizeof(self->err))) TH_LOG("%s", self->err);
	EXPECT_NE(NULL, strstr(self->out, "the arm64 build leaves it unordered"));
	EXPECT_NE(NULL, strstr(self->out, "\"dropped_by_arm64\": 0,"));
}

TEST_F(report, rebuilt_binary_refused)
{
	char other[PATH_MAX + 64];
	const char *args[] = { "report", self->trace, "--format", "json", "--binary", other,
			       NULL };

	/* the trace says the program was mapped from a path that is gone */
	make_trace(_metadata, self, "plain_w", "plain_r", "data", "flag", "/gone/litmus_mp");
	snprintf(other, sizeof(other), "%s/other/litmus_mp", self->dir);
	ASSERT_EQ(0, sh("mkdir -p %s/other && gcc -O2 -g -no-pie -pthread -o %s %s", self->dir,
			other, self->src));
	/* nothing could be resolved: an error, not "no finding" */
	ASSERT_EQ(2, hk_run_hkctl(args, self->out, sizeof(self->out), self->err,
				  sizeof(self->err))) TH_LOG("%s", self->err);
	EXPECT_EQ(NULL, strstr(self->out, "\"pattern\""));
	EXPECT_NE(NULL, strstr(self->out, "\"no_binary\": 12,"));
	EXPECT_NE(NULL, strstr(self->err, "none of the 12 records could be resolved"));
	args[3] = "text";	/* the reason is spelled out */
	hk_run_hkctl(args, self->out, sizeof(self->out), self->err, sizeof(self->err));
	EXPECT_NE(NULL, strstr(self->out, "build-id differs from the one that ran"));
}

TEST_F(report, missing_trace_is_an_error)
{
	char path[PATH_MAX + 64];
	const char *args[] = { "report", path, NULL };

	snprintf(path, sizeof(path), "%s/none.trace", self->dir);
	EXPECT_EQ(2, hk_run_hkctl(args, self->out, sizeof(self->out), self->err,
				  sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "hkctl report: "));
}

/*
 * --mode auto: the discovery (page records, exact ips: here the writer's
 * stores) and the watchpoint phase a second later (the reader's loads)
 * are one run of one process. The report of the second reads
 * FILE.discovery too, as one input, and finds the MP that neither phase
 * shows alone; without the file it says so and finds none.
 */
TEST_F(report, auto_phase_with_discovery)
{
	static const struct phase disc = { HK_TRACE_META_F_AUTO_DISCOVERY, 1, 2000 };
	static const struct phase focus = { HK_TRACE_META_F_AUTO_FOCUS, 0, 1000002000 };
	const char *json[] = { "report", self->trace, "--format", "json", NULL };
	const char *text[] = { "report", self->trace, NULL };
	char dpath[PATH_MAX + 80], lines[64], want[64];
	struct access acc[MAX_ACC];
	int n;

	n = find_accesses(self->bin, "plain_w", "plain_r", "data", "flag", acc, MAX_ACC);
	ASSERT_EQ(4, n);
	snprintf(dpath, sizeof(dpath), "%s.discovery", self->trace);
	ASSERT_EQ(0, write_trace_arch(dpath, self->bin, self->bin, acc, n, acc[0].addr,
				      acc[1].addr, 0, 0, 0, &disc));
	ASSERT_EQ(0, write_trace_arch(self->trace, self->bin, self->bin, acc, n, acc[0].addr,
				      acc[1].addr, 0, 0, 0, &focus));

	ASSERT_EQ(1, hk_run_hkctl(json, self->out, sizeof(self->out), self->err,
				  sizeof(self->err))) TH_LOG("%s", self->err);
	finding_lines(self->out, lines, sizeof(lines));
	plain_mp_lines(self->src, want, sizeof(want));
	EXPECT_STREQ(want, lines);
	/* FILE's 6 loads, the discovery's 6 stores, all resolved */
	EXPECT_NE(NULL, strstr(self->out, "\"records\": 6}, \"pid\": 100,")) TH_LOG("%s",
											 self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"records\": 6, \"threads\": 2,"));
	EXPECT_NE(NULL, strstr(self->out, "\"reads\": 6, \"writes\": 6,"));
	EXPECT_NE(NULL, strstr(self->out, "\"auto_phase\": \"focus\""));
	ASSERT_EQ(1, hk_run_hkctl(text, self->out, sizeof(self->out), self->err,
				  sizeof(self->err))) TH_LOG("%s", self->err);
	snprintf(want, sizeof(want), "analysed with the discovery's 6 records (%.20s", dpath);
	EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s", self->out);

	/* the reader alone: no finding, and the report says why */
	ASSERT_EQ(0, unlink(dpath));
	ASSERT_EQ(0, hk_run_hkctl(text, self->out, sizeof(self->out), self->err,
				  sizeof(self->err))) TH_LOG("%s", self->err);
	EXPECT_NE(NULL, strstr(self->out, "0 finding(s)")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "analysed alone: no discovery trace")) TH_LOG("%s",
											self->out);
}

/* An arm64 capture of a variant of the cross-built litmus_mp; its report in out. */
static int a64_report(struct __test_metadata *_metadata, FIXTURE_DATA(report) *self,
		      const char *const marks[4])
{
	static const char *const obj[4] = { "data", "flag", "flag", "data" };
	const char *args[] = { "report", self->trace, "--format", "json", NULL };
	struct access acc[4];

	EXPECT_EQ(4, find_a64_accesses(self->a64, self->src, marks, obj, acc))
		TH_LOG("objdump -l found no load/store on a marker line of %s", marks[0]);
	EXPECT_NE(0, acc[0].addr);
	EXPECT_NE(0, acc[1].addr);
	EXPECT_EQ(0, write_trace_arch(self->trace, self->a64, self->a64, acc, 4, acc[0].addr,
				      acc[1].addr, 0, 0, 1, NULL));
	return hk_run_hkctl(args, self->out, sizeof(self->out), self->err, sizeof(self->err));
}

TEST_F(report, a64_capture_plain_mp_found)
{
	static const char *const m[4] = { "data_w", "flag_w", "flag_r", "data_r" };
	char lines[64], want[64];

	if (!self->have_a64)
		SKIP(return, "no aarch64-linux-gnu-gcc");
	ASSERT_EQ(1, a64_report(_metadata, self, m)) TH_LOG("%s", self->err);
	finding_lines(self->out, lines, sizeof(lines));
	plain_mp_lines(self->src, want, sizeof(want));
	EXPECT_STREQ(want, lines);
	EXPECT_NE(NULL, strstr(self->out, "\"confidence\": \"high\""));
	EXPECT_NE(NULL, strstr(self->out, "arm64 code: the ordering instructions are visible"));
	EXPECT_NE(NULL, strstr(self->out, "\"machine\": \"aarch64\""));
}

TEST_F(report, a64_capture_relacq_ordered)
{
	static const char *const m[4] = { "rdata_w", "aflag_w", "aflag_r", "rdata_r" };
	static const char *const obj[4] = { "data", "aflag", "aflag", "data" };
	const char *args[] = { "report", self->trace, "--format", "json", NULL };
	struct access acc[4];

	if (!self->have_a64)
		SKIP(return, "no aarch64-linux-gnu-gcc");
	ASSERT_EQ(4, find_a64_accesses(self->a64, self->src, m, obj, acc));
	ASSERT_EQ(0, write_trace_arch(self->trace, self->a64, self->a64, acc, 4, acc[0].addr,
				      acc[1].addr, 0, 0, 1, NULL));
	ASSERT_EQ(0, hk_run_hkctl(args, self->out, sizeof(self->out), self->err,
				  sizeof(self->err))) TH_LOG("%s", self->err);
	EXPECT_EQ(NULL, strstr(self->out, "\"pattern\""));
	EXPECT_NE(NULL, strstr(self->out, "\"dropped_by_lock\": 0,"));
	EXPECT_NE(NULL, strstr(self->out, "\"no_instruction\": 0,"));
}

TEST_F(report, a64_capture_mutex_dropped)
{
	static const char *const m[4] = { "mdata_w", "mflag_w", "mflag_r", "mdata_r" };

	if (!self->have_a64)
		SKIP(return, "no aarch64-linux-gnu-gcc");
	ASSERT_EQ(0, a64_report(_metadata, self, m)) TH_LOG("%s", self->err);
	EXPECT_EQ(NULL, strstr(self->out, "\"pattern\""));
	EXPECT_NE(NULL, strstr(self->out, "\"dropped_by_lock\": 1,"));
}

TEST_F(report, a64_capture_spinlock_dropped)
{
	static const char *const m[4] = { "sdata_w", "sflag_w", "sflag_r", "sdata_r" };

	if (!self->have_a64)
		SKIP(return, "no aarch64-linux-gnu-gcc");
	ASSERT_EQ(0, a64_report(_metadata, self, m)) TH_LOG("%s", self->err);
	EXPECT_EQ(NULL, strstr(self->out, "\"pattern\""));
	EXPECT_NE(NULL, strstr(self->out, "\"dropped_by_lock\": 1,"));
}

TEST_HARNESS_MAIN
