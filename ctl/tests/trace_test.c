// SPDX-License-Identifier: GPL-2.0
/*
 * Trace file round trip and damage: what the writer puts in comes back out
 * of the reader field by field; a file cut at any byte, garbage, or a
 * future major version is refused with a sentence saying so.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "hk_test.h"
#include "trace.h"

#define NRECS 300

static void make_rec(struct hk_trace_rec *r, unsigned int i)
{
	memset(r, 0, sizeof(*r));
	r->time_ns = 1000000000ull + i * 7;
	r->seq = i;
	r->ip = 0x401000 + i;
	r->addr = 0x404040 + (i % 8) * 8;
	r->value = 0xfedcba9876543210ull ^ i;
	r->pid = 4242;
	r->tid = 4242 + i % 3;
	r->cpu = i % 2;
	r->flags = HK_TRACE_REC_F_IP_AFTER | HK_TRACE_REC_F_VALUE_VALID;
	r->size = 8;
	r->kind = 1 + i % 3;
}

/* A complete trace with one chunk of each type; returns its size. */
static long write_sample(struct __test_metadata *_metadata, const char *path)
{
	struct hk_trace_meta meta = {
		.start_time_ns = 1000000000ull, .pid = 4242, .session_id = 7,
		.mode = HK_TRACE_MODE_HWBP, .access = HK_TRACE_ACCESS_RW, .slots = 4,
		.rotate_ns = 50000000, .budget = 10000, .buffer_records = 4096,
		.machine = "x86_64", .kernel = "6.1.0-test", .comm = "target",
	};
	struct hk_trace_map map = {
		.start = 0x400000, .end = 0x401000, .prot = 5, .flags = HK_TRACE_MAP_F_ELF,
		.build_id_len = 20, .build_id = { 0xde, 0xad, 0xbe, 0xef },
	};
	struct hk_trace_thread thr = { .tid = 4243, .flags = HK_TRACE_THREAD_F_LATER,
				       .comm = "worker", .records = 100 };
	struct hk_trace_lost lost = { .kernel_lost = 3, .throttled = 4, .seq_gaps = 3,
				      .socket_overruns = 1 };
	struct hk_trace_end end = { .end_time_ns = 2000000000ull, .records = NRECS,
				    .lost = lost, .reason = HK_TRACE_END_TARGET_EXIT };
	struct hk_trace_rec recs[NRECS];
	struct hk_trace *t;
	struct stat st;
	unsigned int i;

	for (i = 0; i < NRECS; i++)
		make_rec(&recs[i], i);
	ASSERT_EQ(0, hk_trace_create(path, &t));
	ASSERT_EQ(0, hk_trace_write_meta(t, &meta));
	ASSERT_EQ(0, hk_trace_write_region(t, 0x404040, 64, "hk_test_array+64"));
	ASSERT_EQ(0, hk_trace_write_map(t, &map, "/usr/bin/target"));
	ASSERT_EQ(0, hk_trace_write_map(t, &map, ""));
	ASSERT_EQ(0, hk_trace_write_thread(t, &thr));
	ASSERT_EQ(0, hk_trace_write_records(t, recs, 100));
	ASSERT_EQ(0, hk_trace_write_lost(t, &lost));
	ASSERT_EQ(0, hk_trace_write_records(t, recs + 100, NRECS - 100));
	ASSERT_EQ(0, hk_trace_write_end(t, &end));
	ASSERT_EQ(0, hk_trace_close(t));
	ASSERT_EQ(0, stat(path, &st));
	return st.st_size;
}

FIXTURE(file) {
	char path[64];
	long size;
};

FIXTURE_SETUP(file)
{
	int fd;

	strcpy(self->path, "/tmp/hk-trace-test-XXXXXX");
	fd = mkstemp(self->path);
	ASSERT_GE(fd, 0);
	close(fd);
	self->size = write_sample(_metadata, self->path);
}

FIXTURE_TEARDOWN(file)
{
	unlink(self->path);
}

TEST_F(file, round_trip)
{
	unsigned int types = 0, maps = 0, nrec = 0;
	struct hk_trace_item it;
	struct hk_trace_rec want;
	struct hk_trace *t;
	size_t i;
	int ret;

	ASSERT_EQ(0, hk_trace_open(self->path, &t)) TH_LOG("%s", hk_trace_errmsg(t));
	while ((ret = hk_trace_next(t, &it)) > 0) {
		types |= 1u << it.type;
		switch (it.type) {
		case HK_TRACE_META:
			EXPECT_EQ(4242, it.meta->pid);
			EXPECT_EQ(7, it.meta->session_id);
			EXPECT_EQ(50000000, it.meta->rotate_ns);
			EXPECT_STREQ("6.1.0-test", it.meta->kernel);
			break;
		case HK_TRACE_REGION:
			EXPECT_EQ(0x404040, it.region.hdr->start);
			EXPECT_EQ(64, it.region.hdr->len);
			EXPECT_STREQ("hk_test_array+64", it.region.spec);
			break;
		case HK_TRACE_MAP:
			EXPECT_EQ(20, it.map.hdr->build_id_len);
			EXPECT_EQ(0xef, it.map.hdr->build_id[3]);
			EXPECT_STREQ(maps ? "" : "/usr/bin/target", it.map.path);
			maps++;
			break;
		case HK_TRACE_THREAD:
			EXPECT_EQ(4243, it.thread->tid);
			EXPECT_STREQ("worker", it.thread->comm);
			break;
		case HK_TRACE_RECORDS:
			for (i = 0; i < it.records.count; i++, nrec++) {
				make_rec(&want, nrec);
				EXPECT_EQ(0, memcmp(&want, &it.records.recs[i], sizeof(want)))
					TH_LOG("record %u differs", nrec);
			}
			break;
		case HK_TRACE_LOST:
			EXPECT_EQ(3, it.lost->kernel_lost);
			break;
		case HK_TRACE_END:
			EXPECT_EQ(NRECS, it.end->records);
			EXPECT_EQ(HK_TRACE_END_TARGET_EXIT, it.end->reason);
			EXPECT_EQ(4, it.end->lost.throttled);
			break;
		}
	}
	EXPECT_EQ(0, ret) TH_LOG("%s", hk_trace_errmsg(t));
	EXPECT_EQ(2, maps);
	EXPECT_EQ(NRECS, nrec);
	EXPECT_EQ(0xfe, types);	/* types 1..7 all seen */
	hk_trace_close(t);
}

/* Read to the end; return the final status and leave the message in @msg. */
static int read_all(const char *path, char *msg, size_t size)
{
	struct hk_trace_item it;
	struct hk_trace *t;
	int ret;

	ret = hk_trace_open(path, &t);
	while (!ret && (ret = hk_trace_next(t, &it)) > 0)
		ret = 0;
	snprintf(msg, size, "%s", t ? hk_trace_errmsg(t) : "");
	hk_trace_close(t);
	return ret;
}

/*
 * Every byte of the headers, metadata and chunk boundaries; inside the
 * big record payloads every 61st byte (a prime, so that all offsets
 * modulo the record size are hit) keeps the test within its timeout.
 */
TEST_F(file, truncated_anywhere)
{
	char msg[512], *buf;
	long cut;
	int fd, ret;

	buf = malloc(self->size);
	ASSERT_NE(NULL, buf);
	fd = open(self->path, O_RDWR);
	ASSERT_EQ(self->size, pread(fd, buf, self->size, 0));
	for (cut = 0; cut < self->size; cut += (cut > 1024 && cut < self->size - 1024) ? 61 : 1) {
		ASSERT_EQ(0, ftruncate(fd, 0));
		ASSERT_EQ(cut, pwrite(fd, buf, cut, 0));
		ret = read_all(self->path, msg, sizeof(msg));
		ASSERT_EQ(-ENODATA, ret) TH_LOG("cut at %ld: %d %s", cut, ret, msg);
		ASSERT_NE(NULL, strstr(msg, "truncated")) TH_LOG("cut %ld: %s", cut, msg);
		ASSERT_NE(NULL, strstr(msg, self->path));
	}
	close(fd);
	free(buf);
}

TEST_F(file, no_end_chunk_is_interrupted)
{
	char msg[512];

	/* END is the last 16 + 64 bytes */
	ASSERT_EQ(0, truncate(self->path, self->size - 80));
	EXPECT_EQ(-ENODATA, read_all(self->path, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "no END chunk, the capture was interrupted (300 records read)"))
		TH_LOG("%s", msg);
}

TEST_F(file, future_major_version_refused)
{
	uint16_t v = HK_TRACE_VERSION_MAJOR + 1;
	char msg[512], want[64];
	int fd;

	fd = open(self->path, O_WRONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(2, pwrite(fd, &v, 2, 8));
	close(fd);
	EXPECT_EQ(-EPROTONOSUPPORT, read_all(self->path, msg, sizeof(msg)));
	snprintf(want, sizeof(want), "trace format version %u.%u", HK_TRACE_VERSION_MAJOR + 1,
		 HK_TRACE_VERSION_MINOR);
	EXPECT_NE(NULL, strstr(msg, want)) TH_LOG("%s", msg);
}

TEST_F(file, unknown_chunk_skipped)
{
	struct hk_trace_chunk ch = { .type = 99, .length = 3 };
	char msg[512], pad[8] = { 0 };
	char *buf;
	int fd;

	/* insert an unknown chunk after the file header + META */
	buf = malloc(self->size);
	fd = open(self->path, O_RDWR);
	ASSERT_EQ(self->size, pread(fd, buf, self->size, 0));
	ASSERT_EQ(0, ftruncate(fd, 32 + 16 + 192));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_END) == 32 + 16 + 192 ? 0 : -1);
	ASSERT_EQ(16, write(fd, &ch, 16));
	ASSERT_EQ(8, write(fd, pad, 8));
	ASSERT_EQ(self->size - 240, write(fd, buf + 240, self->size - 240));
	close(fd);
	free(buf);
	EXPECT_EQ(0, read_all(self->path, msg, sizeof(msg))) TH_LOG("%s", msg);
}

TEST_F(file, garbage_refused)
{
	char msg[512], junk[4096];
	unsigned int i;
	int fd;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 2654435761u >> 13);
	fd = open(self->path, O_WRONLY | O_TRUNC);
	ASSERT_EQ(sizeof(junk), write(fd, junk, sizeof(junk)));
	close(fd);
	EXPECT_EQ(-EINVAL, read_all(self->path, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "not a hawkeyes trace file")) TH_LOG("%s", msg);
}

TEST_F(file, corrupt_chunk_length_refused)
{
	uint64_t len = 1ull << 40;
	char msg[512];
	int fd;

	/* the length of the first chunk (META) */
	fd = open(self->path, O_WRONLY);
	ASSERT_EQ(8, pwrite(fd, &len, 8, 32 + 8));
	close(fd);
	EXPECT_EQ(-EINVAL, read_all(self->path, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "corrupt chunk at offset 32")) TH_LOG("%s", msg);
}

/* A full disk is an error of the writer, sticky, with the reason, not a short file. */
TEST(write_to_full_disk)
{
	struct hk_trace_rec rec[128] = { 0 };
	struct hk_trace_meta meta = { .pid = 1 };
	struct hk_trace *t;
	int i, ret = 0;

	if (access("/dev/full", W_OK))
		SKIP(return, "no /dev/full");
	ASSERT_EQ(0, hk_trace_create("/dev/full", &t));
	ASSERT_EQ(0, hk_trace_write_meta(t, &meta));
	/* more than the 1 MiB stdio buffer: the device must be written */
	for (i = 0; i < 200 && !ret; i++)
		ret = hk_trace_write_records(t, rec, 128);
	if (!ret)
		ret = hk_trace_flush(t);
	EXPECT_EQ(-ENOSPC, ret);
	EXPECT_NE(NULL, strstr(hk_trace_errmsg(t), "/dev/full: cannot write the trace file: No space left on device"))
		TH_LOG("%s", hk_trace_errmsg(t));
	EXPECT_EQ(-ENOSPC, hk_trace_write_records(t, rec, 1));	/* sticky */
	EXPECT_NE(0, hk_trace_close(t));
}

TEST(missing_file)
{
	char msg[512];

	EXPECT_EQ(-ENOENT, read_all("/nonexistent/hk.trace", msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "cannot open: No such file")) TH_LOG("%s", msg);
}

TEST_HARNESS_MAIN
