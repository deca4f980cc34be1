// SPDX-License-Identifier: GPL-2.0
/*
 * test_tsan: the ThreadSanitizer parser on hand-written logs in GCC and
 * clang formats: what it must take from a report, what it must skip, and
 * the error (with line number) each kind of broken log must get.
 */
#include <string.h>

#include "kselftest_harness.h"
#include "../hka_priv.h"

#define SEP "==================\n"

static const char gcc_report[] =
	"program says hello\n"
	SEP
	"WARNING: ThreadSanitizer: data race (pid=15857)\n"
	"  Read of size 4 at 0x56211c80305c by thread T2:\n"
	"    #0 t2 /tmp/t/mp.c:12 (mp+0x1218)\n"
	"    #1 <null> <null> (libc.so.6+0x89134)\n"
	"\n"
	"  Previous write of size 4 at 0x56211c80305c by thread T1 (mutexes: write M7):\n"
	"    #0 t1 /tmp/t/mp.c:7 (mp+0x11e8)\n"
	"\n"
	"  Location is global 'b' of size 4 at 0x56211c80305c (mp+0x405c)\n"
	"\n"
	"  Thread T2 (tid=15861, running) created by main thread at:\n"
	"    #0 pthread_create ../../../../src/libsanitizer/tsan/tsan_interceptors_posix.cpp:1001 (libtsan.so.2+0x5e686)\n"
	"    #1 main /tmp/t/mp.c:21 (mp+0x1299)\n"
	"\n"
	"SUMMARY: ThreadSanitizer: data race /tmp/t/mp.c:12 in t2\n"
	SEP;

static const char clang_report[] =
	SEP
	"WARNING: ThreadSanitizer: data race (pid=16755)\n"
	"  Atomic write of size 8 at 0x7b0400000010 by main thread:\n"
	"    #0 __tsan_atomic64_store <null> (mpc+0x9a1b6) (BuildId: 8075bd7dc3aa1954dc3d859d4f1c0d170d72d97f)\n"
	"    #1 publish /src/a b/mp.c:12:11 (mpc+0xd01b6) (BuildId: 8075bd7dc3aa1954dc3d859d4f1c0d170d72d97f)\n"
	"\n"
	"  Previous read of size 8 at 0x7b0400000010 by thread T1:\n"
	"    #0 poll(int) const /src/a b/mp.c:7:4 (mpc+0xd018c) (BuildId: 8075bd7dc3aa1954dc3d859d4f1c0d170d72d97f)\n"
	"\n"
	"SUMMARY: ThreadSanitizer: data race /src/a b/mp.c:12:11 in publish\n"
	SEP;

static int parse(struct hka_stream *s, const char *log, struct hka_error *err)
{
	struct hka_config cfg;

	hka_config_init(&cfg);
	memset(err, 0, sizeof(*err));
	return hka_tsan_parse_buf(s, "test.log", log, strlen(log), &cfg, err);
}

static const struct hka_site *site_of(struct hka_stream *s, size_t ev)
{
	return HKA_VEC_AT(&s->sites, struct hka_site,
			  HKA_VEC_AT(&s->events, struct hka_event, ev)->site);
}

TEST(gcc_report_gives_one_conflict)
{
	struct hka_stream *s = hka_stream_new();
	struct hka_error err;
	const struct hka_event *e0, *e1;

	ASSERT_EQ(0, parse(s, gcc_report, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(1, s->reports);
	ASSERT_EQ(2, s->events.n);
	ASSERT_EQ(1, s->conflicts.n);
	e0 = HKA_VEC_AT(&s->events, struct hka_event, 0);
	e1 = HKA_VEC_AT(&s->events, struct hka_event, 1);
	EXPECT_EQ(HKA_READ, e0->kind);
	EXPECT_EQ(HKA_WRITE, e1->kind);
	EXPECT_EQ(e0->loc, e1->loc);
	EXPECT_EQ(0x1218, site_of(s, 0)->offset);
	EXPECT_EQ(0x11e8, site_of(s, 1)->offset);
	EXPECT_STREQ("t2", site_of(s, 0)->in_function);
	EXPECT_STREQ("/tmp/t/mp.c", site_of(s, 0)->in_file);
	EXPECT_EQ(12, site_of(s, 0)->in_line);
	EXPECT_STREQ("T2", HKA_VEC_AT(&s->threads, struct hka_thread, e0->thread)->name);
	EXPECT_STREQ("T1", HKA_VEC_AT(&s->threads, struct hka_thread, e1->thread)->name);
	EXPECT_TRUE(hka_stream_conflicting(s, 0, 1));
	hka_stream_free(s);
}

TEST(clang_columns_buildid_runtime_frames)
{
	struct hka_stream *s = hka_stream_new();
	struct hka_error err;
	const struct hka_event *e0;

	ASSERT_EQ(0, parse(s, clang_report, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(2, s->events.n);
	e0 = HKA_VEC_AT(&s->events, struct hka_event, 0);
	EXPECT_TRUE(e0->atomic);
	EXPECT_EQ(HKA_WRITE, e0->kind);
	/* the __tsan_ runtime frame is skipped: the site is the caller */
	EXPECT_EQ(0xd01b6, site_of(s, 0)->offset);
	EXPECT_STREQ("/src/a b/mp.c", site_of(s, 0)->in_file);
	EXPECT_EQ(12, site_of(s, 0)->in_line);
	EXPECT_STREQ("poll(int) const", site_of(s, 1)->in_function);
	EXPECT_EQ(7, site_of(s, 1)->in_line);
	EXPECT_STREQ("main", HKA_VEC_AT(&s->threads, struct hka_thread, e0->thread)->name);
	hka_stream_free(s);
}

TEST(repeated_reports_fold_into_events)
{
	struct hka_stream *s = hka_stream_new();
	struct hka_error err;
	char log[8192];

	snprintf(log, sizeof(log), "%s%s%s", gcc_report, gcc_report, gcc_report);
	ASSERT_EQ(0, parse(s, log, &err)) TH_LOG("%s", err.msg);
	EXPECT_EQ(3, s->reports);
	EXPECT_EQ(6, s->accesses);
	EXPECT_EQ(2, s->events.n);
	EXPECT_EQ(1, s->conflicts.n);
	hka_stream_free(s);
}

/* found by fuzz_tsan: thread names must survive the report vector growing */
TEST(many_reports_keep_their_threads)
{
	struct hka_stream *s = hka_stream_new();
	struct hka_error err;
	char *log = malloc(64 * sizeof(gcc_report)), *p = log;
	int i;

	ASSERT_NE(NULL, log);
	for (i = 0; i < 40; i++) {
		const char *t = strstr(gcc_report, "by thread T2");
		size_t head = t - gcc_report;

		memcpy(p, gcc_report, head);
		p += head;
		p += sprintf(p, "by thread T%d", 100 + i);
		strcpy(p, t + strlen("by thread T2"));
		p += strlen(p);
	}
	ASSERT_EQ(0, parse(s, log, &err)) TH_LOG("%s", err.msg);
	EXPECT_EQ(40, s->reports);
	EXPECT_EQ(41, s->threads.n);	/* T1 and T100..T139 */
	for (i = 0; i < 40; i++) {
		char name[16];
		size_t k;
		bool found = false;

		snprintf(name, sizeof(name), "T%d", 100 + i);
		for (k = 0; k < s->threads.n; k++)
			found |= !strcmp(HKA_VEC_AT(&s->threads, struct hka_thread, k)->name, name);
		EXPECT_TRUE(found) TH_LOG("thread %s lost", name);
	}
	free(log);
	hka_stream_free(s);
}

TEST(other_reports_and_noise_are_skipped)
{
	struct hka_stream *s = hka_stream_new();
	struct hka_error err;

	ASSERT_EQ(0, parse(s, "hello\n" SEP "WARNING: ThreadSanitizer: thread leak (pid=1)\n"
			   "  Thread T1 (tid=2, finished) created by main thread at:\n"
			   "    #0 pthread_create x.c:1 (libtsan.so.2+0x1)\n\n"
			   "SUMMARY: ThreadSanitizer: thread leak x.c:1 in main\n" SEP
			   "# not a frame\n#0 not a frame either\n", &err)) TH_LOG("%s", err.msg);
	EXPECT_EQ(0, s->reports);
	EXPECT_EQ(0, s->events.n);
	ASSERT_EQ(0, parse(s, "", &err));
	hka_stream_free(s);
}

TEST(lost_previous_stack_is_counted_not_fatal)
{
	struct hka_stream *s = hka_stream_new();
	struct hka_error err;

	ASSERT_EQ(0, parse(s, SEP "WARNING: ThreadSanitizer: data race (pid=1)\n"
			   "  Write of size 4 at 0x10 by thread T1:\n"
			   "    #0 f a.c:3 (a+0x10)\n\n"
			   "  Previous read of size 4 at 0x10 by thread T2:\n"
			   "    [failed to restore the stack]\n\n"
			   "SUMMARY: ThreadSanitizer: data race a.c:3 in f\n" SEP, &err))
		TH_LOG("%s", err.msg);
	EXPECT_EQ(0, s->reports);
	EXPECT_EQ(1, s->reports_skipped);
	hka_stream_free(s);
}

struct bad_log {
	const char *log;
	const char *error;
};

static const struct bad_log bad_logs[] = {
	{ SEP "WARNING: ThreadSanitizer: data race (pid=1)\n"
	  "  Write of size four at 0x10 by thread T1:\n",
	  "test.log:3: malformed access line in the data race report at line 2" },
	{ SEP "WARNING: ThreadSanitizer: data race (pid=1)\n"
	  "  Write of size 4 at 0x10 by thread T1:\n"
	  "    #0 f a.c:3 (a+0x1",
	  "test.log:4: malformed stack frame" },
	{ SEP "WARNING: ThreadSanitizer: data race (pid=1)\n"
	  "  Write of size 4 at 0x10 by thread T1:\n"
	  "    #0 f a.c:3 (a+0x10)\n\n",
	  "test.log:5: log ends inside the data race report at line 2 (truncated?): no previous access" },
	{ SEP "WARNING: ThreadSanitizer: data race (pid=1)\n"
	  "  Write of size 4 at 0x10 by thread T1:\n"
	  "    #0 f a.c:3 (<unknown module>)\n",
	  "test.log:4: frame #0 of the access is in an unknown module" },
	{ SEP "WARNING: ThreadSanitizer: data race (pid=1)\n"
	  "  Write of size 4 at 0x10 by thread T1:\n"
	  "    #0 f a.c:3 (a+0x10)\n\n"
	  "  Read of size 4 at 0x10 by thread T2:\n",
	  "test.log:6: second current access in the data race report at line 2" },
	{ SEP "WARNING: ThreadSanitizer: data race (pid=1)\n"
	  "  Write of size 4 at 0x10 by thread T1:\n"
	  "    #0 f a.c:3 (a+0x10)\n\n"
	  "WARNING: ThreadSanitizer: data race (pid=1)\n",
	  "test.log:6: new report starts inside the data race report at line 2" },
	{ SEP "WARNING: ThreadSanitizer: data race (pid=1)\n"
	  "  Write of size 4 at 0x10 by a goblin:\n",
	  "test.log:3: malformed access line" },
};

TEST(broken_logs_name_their_line)
{
	size_t i;

	for (i = 0; i < sizeof(bad_logs) / sizeof(bad_logs[0]); i++) {
		struct hka_stream *s = hka_stream_new();
		struct hka_error err;

		EXPECT_NE(0, parse(s, bad_logs[i].log, &err));
		EXPECT_NE(NULL, strstr(err.msg, bad_logs[i].error))
			TH_LOG("log %zu: got '%s', want '%s'", i, err.msg, bad_logs[i].error);
		hka_stream_free(s);
	}
}

TEST(binary_data_is_refused)
{
	static const char junk[] = "text\nmore text\n\x7f" "ELF\0\0\x01";
	struct hka_stream *s = hka_stream_new();
	struct hka_config cfg;
	struct hka_error err = { "" };

	hka_config_init(&cfg);
	EXPECT_NE(0, hka_tsan_parse_buf(s, "a.out", junk, sizeof(junk) - 1, &cfg, &err));
	EXPECT_NE(NULL, strstr(err.msg, "a.out:3: binary data")) TH_LOG("%s", err.msg);
	hka_stream_free(s);
}

/* line numbers stay right when the log is split into parallel chunks */
TEST(error_line_in_a_late_chunk)
{
	struct hka_stream *s = hka_stream_new();
	struct hka_config cfg;
	struct hka_error err = { "" };
	size_t n = 0, cap = 3 << 20, lines = 0;
	char *log = malloc(cap), want[64];

	ASSERT_NE(NULL, log);
	while (n + sizeof(gcc_report) < cap - 256) {
		memcpy(log + n, gcc_report, sizeof(gcc_report) - 1);
		n += sizeof(gcc_report) - 1;
		lines += 18;	/* lines in gcc_report */
	}
	n += sprintf(log + n, SEP "WARNING: ThreadSanitizer: data race (pid=1)\n"
		     "  Read of size 4 at 0xzz by thread T2:\n");
	hka_config_init(&cfg);
	cfg.jobs = 4;
	EXPECT_NE(0, hka_tsan_parse_buf(s, "big.log", log, n, &cfg, &err));
	snprintf(want, sizeof(want), "big.log:%zu: malformed access line", lines + 3);
	EXPECT_NE(NULL, strstr(err.msg, want)) TH_LOG("got '%s', want '%s'", err.msg, want);
	free(log);
	hka_stream_free(s);
}

TEST_HARNESS_MAIN
