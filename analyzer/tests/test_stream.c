// SPDX-License-Identifier: GPL-2.0
/*
 * test_stream: the generic access-stream API (what trace files will use):
 * plain accesses, conflicts derived from shared locations, an
 * uninstrumented x86-64 binary, and the DWARF _Atomic rule.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "../hka_priv.h"

static char bin[PATH_MAX];

/* Offsets of the instructions of function fn that name global var. */
static int accesses_of(const char *fn_name, const char *var, uint64_t *out, int max)
{
	struct hka_symtab *st = hka_symtab_new();
	struct hka_error err = { "" };
	struct hka_symbol sym;
	struct hka_func fn = { .path = bin };
	int n = 0;
	uint32_t k;

	/* find the function by its symbol (the binary is small) */
	if (!st)
		return -1;
	for (k = 0x1000; k < 0x3000 && !fn.start; k++) {
		const char *name = hka_symtab_symbol_at(st, bin, k);

		if (name && !strcmp(name, fn_name) && !hka_symtab_lookup(st, bin, k, &sym, &err)) {
			fn.start = sym.func_start;
			fn.end = sym.func_end;
			fn.machine = sym.machine;
		}
	}
	if (fn.start && !hka_func_decode(&fn, st, &err)) {
		for (k = 0; k < fn.ninsn && n < max; k++) {
			const char *name;

			if (!fn.insns[k].data_addr || !fn.insns[k].mem)
				continue;
			name = hka_symtab_symbol_containing(st, bin, fn.insns[k].data_addr);
			if (name && !strcmp(name, var))
				out[n++] = fn.insns[k].addr;
		}
		hka_func_release(&fn);
	}
	hka_symtab_free(st);
	return n;
}

static void add(struct __test_metadata *_metadata, struct hka_stream *s, const char *thread,
		const char *fn, const char *var, uint64_t data_addr, enum hka_kind kind)
{
	struct hka_access a = {
		.thread = thread, .kind = kind, .size = 4, .addr = data_addr, .nframes = 1,
	};
	struct hka_error err = { "" };
	uint64_t off[4];

	ASSERT_EQ(1, accesses_of(fn, var, off, 4)) TH_LOG("%s: %s", fn, var);
	a.frames[0].module = "x86_atomic";
	a.frames[0].offset = off[0];
	ASSERT_EQ(0, hka_stream_add_access(s, &a, &err)) TH_LOG("%s", err.msg);
}

static struct hka_result *analyze(struct __test_metadata *_metadata, struct hka_stream *s)
{
	struct hka_config cfg;
	struct hka_error err = { "" };
	struct hka_result *res = NULL;

	hka_config_init(&cfg);
	cfg.jobs = 3;
	EXPECT_EQ(0, hka_stream_add_binary(s, bin, &err)) TH_LOG("%s", err.msg);
	EXPECT_EQ(0, hka_analyze(s, &cfg, &res, &err)) TH_LOG("%s", err.msg);
	return res;
}

FIXTURE(stream) {
	struct hka_stream *s;
};

FIXTURE_SETUP(stream)
{
	snprintf(bin, sizeof(bin), "%.1000s/x86_atomic", getenv("HK_TEST_BIN") ?: "tests/bin");
	if (access(bin, R_OK))
		SKIP(return, "x86_atomic not built");
	self->s = hka_stream_new();
	ASSERT_NE(NULL, self->s);
	hka_stream_begin_input(self->s, "synthetic");
}

FIXTURE_TEARDOWN(stream)
{
	hka_stream_free(self->s);
}

TEST_F(stream, plain_mp_from_plain_accesses)
{
	struct hka_result *res;
	const struct hka_finding *f;

	add(_metadata, self->s, "A", "writer_plain", "data", 0x100, HKA_WRITE);
	add(_metadata, self->s, "A", "writer_plain", "pflag", 0x200, HKA_WRITE);
	add(_metadata, self->s, "B", "reader_plain", "pflag", 0x200, HKA_READ);
	add(_metadata, self->s, "B", "reader_plain", "data", 0x100, HKA_READ);
	/* a third thread touching an unshared location changes nothing */
	add(_metadata, self->s, "C", "reader_plain", "data", 0x900, HKA_READ);
	res = analyze(_metadata, self->s);
	ASSERT_NE(NULL, res);
	ASSERT_EQ(1, hka_result_findings(res));
	f = res->findings.data;
	EXPECT_STREQ("MP", f->pattern);
	EXPECT_STREQ("release", f->sides[0].barrier);
	EXPECT_STREQ("acquire", f->sides[1].barrier);
	EXPECT_EQ(1, hka_result_porting_findings(res));
	hka_result_free(res);
}

TEST_F(stream, atomic_type_orders_a_plain_load)
{
	struct hka_result *res;
	size_t i;
	int seen = 0;

	add(_metadata, self->s, "A", "writer_atomic", "data", 0x100, HKA_WRITE);
	add(_metadata, self->s, "A", "writer_atomic", "aflag", 0x200, HKA_WRITE);
	add(_metadata, self->s, "B", "reader_atomic", "aflag", 0x200, HKA_READ);
	add(_metadata, self->s, "B", "reader_atomic", "data", 0x100, HKA_READ);
	res = analyze(_metadata, self->s);
	ASSERT_NE(NULL, res);
	EXPECT_EQ(0, hka_result_findings(res));
	for (i = 0; i < self->s->sites.n; i++) {
		const struct hka_site *site = HKA_VEC_AT(&self->s->sites, struct hka_site, i);

		if (!site->info.object || strcmp(site->info.object, "aflag"))
			continue;
		seen++;
		EXPECT_TRUE(site->info.atomic_type);
		/* the load is a plain mov; the store is xchg (a full barrier) */
		EXPECT_TRUE(site->info.acquire);
	}
	EXPECT_EQ(2, seen);
	hka_result_free(res);
}

/* x86 ordering instructions without TSan: lock prefix, mfence */
TEST_F(stream, x86_lock_and_mfence)
{
	static const struct {
		const char *fn, *prefix;
		unsigned int mem;
	} want[] = {
		{ "rmw_add", "lock xadd", 3 },
		{ "fence_full", "lock or", 3 },
		{ "fence_mfence", "mfence", 0 },
	};
	struct hka_symtab *st = hka_symtab_new();
	struct hka_error err = { "" };
	size_t w;

	ASSERT_NE(NULL, st);
	for (w = 0; w < ARRAY_SIZE(want); w++) {
		struct hka_func fn = { .path = bin };
		struct hka_symbol sym;
		bool found = false;
		uint32_t k;

		for (k = 0x1000; k < 0x3000 && !fn.start; k++) {
			const char *name = hka_symtab_symbol_at(st, bin, k);

			if (name && !strcmp(name, want[w].fn) &&
			    !hka_symtab_lookup(st, bin, k, &sym, &err)) {
				fn.start = sym.func_start;
				fn.end = sym.func_end;
				fn.machine = sym.machine;
			}
		}
		ASSERT_NE(0, fn.start) TH_LOG("%s not found", want[w].fn);
		ASSERT_EQ(0, hka_func_decode(&fn, st, &err)) TH_LOG("%s", err.msg);
		for (k = 0; k < fn.ninsn; k++) {
			const struct hka_insn *in = &fn.insns[k];

			if (strncmp(in->text, want[w].prefix, strlen(want[w].prefix)))
				continue;
			found = true;
			EXPECT_EQ(HKA_ORD_ALL, in->order) TH_LOG("%s", in->text);
			EXPECT_EQ(want[w].mem, in->mem) TH_LOG("%s", in->text);
		}
		EXPECT_TRUE(found) TH_LOG("no '%s' in %s", want[w].prefix, want[w].fn);
		hka_func_release(&fn);
	}
	hka_symtab_free(st);
}

TEST_HARNESS_MAIN
