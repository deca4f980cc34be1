// SPDX-License-Identifier: GPL-2.0
/*
 * Write a few valid trace files with ctl/trace.c's writer, as the seed
 * corpus of fuzz_trace: mk_trace_seeds DIR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

static int write_seed(const char *dir, int n, int nrecs, int full)
{
	struct hk_trace_meta meta = { .pid = 42, .session_id = 1, .mode = 1, .access = 2,
				      .slots = 4, .budget = 10000, .buffer_records = 4096 };
	struct hk_trace_map map = { .start = 0x400000, .end = 0x401000, .prot = 5,
				    .flags = 3, .build_id_len = 20 };
	struct hk_trace_thread thr = { .tid = 43, .flags = 1, .records = 2 };
	struct hk_trace_lost lost = { .kernel_lost = 1, .seq_gaps = 1 };
	struct hk_trace_end end = { .records = nrecs, .reason = 3 };
	/* format 1.2 chunks: a late region (hkctl run), a PROC (hkctl watch) */
	struct hk_trace_region_late late = { .absent_ns = 100, .seen_ns = 200,
					     .watched_ns = 300, .rotate_ns = 10000000,
					     .slots = 4 };
	struct hk_trace_proc proc = { .pid = 44 };
	struct hk_trace_rec recs[8];
	struct hk_trace *t;
	char path[4096];
	int i, ret;

	memcpy(meta.machine, "x86_64", 6);
	memcpy(meta.kernel, "6.1.0-hk", 8);
	memcpy(meta.comm, "ring", 4);
	memcpy(thr.comm, "worker", 6);
	memcpy(proc.comm, "reader", 6);
	memset(recs, 0, sizeof(recs));
	for (i = 0; i < nrecs; i++) {
		recs[i].seq = i;
		recs[i].time_ns = 1000 + i;
		recs[i].ip = 0x401000 + 4 * i;
		recs[i].addr = 0x601040 + 8 * (i & 1);
		recs[i].size = 8;
		recs[i].kind = 1 + i % 3;
		recs[i].tid = 43 + (i & 1);
		recs[i].pid = 42;
	}
	snprintf(path, sizeof(path), "%s/seed-%d.hkt", dir, n);
	ret = hk_trace_create(path, &t);
	if (ret)
		return ret;
	hk_trace_write_meta(t, &meta);
	hk_trace_write_region(t, 0x601040, 16, "ring:head");
	hk_trace_write_map(t, &map, "/usr/bin/ring");
	if (n & 1) {
		hk_trace_write_region_late(t, 0x7f0000001000, 64, "/dev/shm/ring", &late);
		hk_trace_write_proc(t, &proc);
		hk_trace_write_map(t, &map, "/usr/bin/reader");
	}
	hk_trace_write_thread(t, &thr);
	hk_trace_write_records(t, recs, nrecs);
	if (full) {
		hk_trace_write_lost(t, &lost);
		hk_trace_write_end(t, &end);
	}
	return hk_trace_close(t);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mk_trace_seeds DIR\n");
		return 2;
	}
	if (write_seed(argv[1], 0, 8, 1) || write_seed(argv[1], 1, 1, 1) ||
	    write_seed(argv[1], 2, 3, 0) || write_seed(argv[1], 3, 0, 1)) {
		fprintf(stderr, "mk_trace_seeds: cannot write the seeds\n");
		return 1;
	}
	return 0;
}
