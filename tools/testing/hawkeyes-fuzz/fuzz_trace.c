// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the trace-file reader (ctl/trace.c).
 *
 * Each input is written to a memfd and read through the public API, the
 * way hkctl dump and analyze read a file: hk_trace_open(), hk_trace_next()
 * until it returns 0 or an error, hk_trace_close(). Every byte an item
 * points to is read (so ASan sees any overrun), strings must end within
 * their declared length, and an error must come with a message that names
 * the file. Anything else aborts, which libFuzzer reports as a crash.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "trace.h"

static int memfd = -1;
static char path[64];

static volatile uint64_t sink;

static void touch(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += c[i];
	sink += s;
}

#define require(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_trace: %s:%d: %s\n", __FILE__, __LINE__, #cond); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hk_trace_item it;
	struct hk_trace *t;
	const char *msg;
	int ret, items = 0;

	if (memfd < 0) {
		memfd = memfd_create("fuzz-trace", 0);
		require(memfd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	require(ftruncate(memfd, 0) == 0);
	require(pwrite(memfd, data, size, 0) == (ssize_t)size);

	ret = hk_trace_open(path, &t);
	if (ret == 0) {
		while ((ret = hk_trace_next(t, &it)) > 0) {
			items++;
			switch (it.type) {
			case HK_TRACE_META:
				touch(it.meta, sizeof(*it.meta));
				break;
			case HK_TRACE_REGION:
				touch(it.region.hdr, sizeof(*it.region.hdr));
				require(it.region.hdr->spec_len >= 1);
				touch(it.region.spec, it.region.hdr->spec_len);
				require(strlen(it.region.spec) + 1 <= it.region.hdr->spec_len);
				if (it.region.is_late)
					touch(&it.region.late, sizeof(it.region.late));
				break;
			case HK_TRACE_MAP:
				touch(it.map.hdr, sizeof(*it.map.hdr));
				require(it.map.hdr->build_id_len <= sizeof(it.map.hdr->build_id));
				touch(it.map.path, it.map.hdr->path_len);
				require(strlen(it.map.path) + 1 <= it.map.hdr->path_len);
				break;
			case HK_TRACE_THREAD:
				touch(it.thread, sizeof(*it.thread));
				break;
			case HK_TRACE_PROC:
				touch(it.proc, sizeof(*it.proc));
				break;
			case HK_TRACE_RECORDS:
				touch(it.records.recs, it.records.count * sizeof(*it.records.recs));
				break;
			case HK_TRACE_LOST:
				touch(it.lost, sizeof(*it.lost));
				break;
			case HK_TRACE_END:
				touch(it.end, sizeof(*it.end));
				sink += strlen(hk_trace_end_reason_name(it.end->reason));
				break;
			default:
				/* the reader skips unknown chunks; it must not return them */
				require(0);
			}
		}
	}
	if (ret < 0) {
		require(t);
		msg = hk_trace_errmsg(t);
		/* "PATH: a sentence" */
		require(strncmp(msg, path, strlen(path)) == 0);
		require(strlen(msg) > strlen(path) + 2);
	}
	sink += items;
	require(hk_trace_close(t) == 0);
	return 0;
}
