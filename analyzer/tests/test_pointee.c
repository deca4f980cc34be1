// SPDX-License-Identifier: GPL-2.0
/*
 * test_pointee: the type of an object reached through a pointer
 * (hka_symtab_pointee(), hka_analysis.c). tests/ptr_atomic.c built -O2 -g
 * for x86-64 and arm64: a release store / acquire load of an _Atomic
 * member is a plain mov on x86, so a capture finding over it must be
 * "undecidable", the same through a plain member "high"; each access
 * names its object ("m->flag"). On arm64 the type is named, and the
 * ordering stays what the instruction says.
 */
#include <elf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "../hka_priv.h"

static const char *src_path(void)
{
	static char src[PATH_MAX];
	const char *slash = strrchr(__FILE__, '/');

	snprintf(src, sizeof(src), "%.*sptr_atomic.c", slash ? (int)(slash - __FILE__ + 1) : 0,
		 __FILE__);
	return src;
}

static void bin_path(char *bin, size_t size, const char *name)
{
	const char *dir = getenv("HK_TEST_BIN");

	snprintf(bin, size, "%s/%s", dir && *dir ? dir : "tests/bin", name);
}

/* Line of the "@marker" comment in the source, 0 if absent. */
static unsigned int marker_line(const char *marker)
{
	char buf[512], pat[64];
	unsigned int n = 0;
	FILE *f = fopen(src_path(), "r");

	if (!f)
		return 0;
	snprintf(pat, sizeof(pat), "/* @%s */", marker);
	while (fgets(buf, sizeof(buf), f)) {
		n++;
		if (strstr(buf, pat)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	return 0;
}

/* The one instruction of the marked line that touches memory: its offset, 0 if none. */
static uint64_t access_at(const char *bin, const char *marker)
{
	struct hka_symtab *st = hka_symtab_new();
	struct hka_error err = { "" };
	unsigned int line = marker_line(marker);
	uint64_t addrs[16], found = 0;
	int n, i, hits = 0;

	if (!st || !line)
		goto out;
	n = hka_symtab_line_addrs(st, bin, "ptr_atomic.c", line, addrs, 16);
	for (i = 0; i < n; i++) {
		struct hka_func fn = { .path = bin };
		struct hka_symbol sym;
		uint32_t k;

		if (hka_symtab_lookup(st, bin, addrs[i], &sym, &err))
			continue;
		fn.start = sym.func_start;
		fn.end = sym.func_end;
		fn.machine = sym.machine;
		if (hka_func_decode(&fn, st, &err))
			continue;
		for (k = 0; k < fn.ninsn; k++) {
			struct hka_symbol s2;

			if (!fn.insns[k].mem || (fn.insns[k].flags & HKA_INSN_CALL) ||
			    hka_symtab_lookup(st, bin, fn.insns[k].addr, &s2, &err) ||
			    s2.line != line || fn.insns[k].addr == found)
				continue;
			found = fn.insns[k].addr;
			hits++;
		}
		hka_func_release(&fn);
	}
out:
	hka_symtab_free(st);
	return hits == 1 ? found : 0;
}

static void add(struct __test_metadata *_metadata, struct hka_stream *s, const char *bin,
		const char *thread, const char *marker, uint64_t data_addr, enum hka_kind kind)
{
	struct hka_access a = {
		.thread = thread, .kind = kind, .size = 4, .addr = data_addr, .nframes = 1,
	};
	struct hka_error err = { "" };
	const char *base = strrchr(bin, '/');

	a.frames[0].module = base ? base + 1 : bin;
	a.frames[0].offset = access_at(bin, marker);
	ASSERT_NE(0, a.frames[0].offset) TH_LOG("%s: no single access at @%s", bin, marker);
	ASSERT_EQ(0, hka_stream_add_access(s, &a, &err)) TH_LOG("%s", err.msg);
}

/* As hkctl analyzes a capture: _Atomic undecided, then the capture review. */
static struct hka_result *analyze(struct __test_metadata *_metadata, struct hka_stream *s,
				  const char *bin)
{
	struct hka_config cfg;
	struct hka_error err = { "" };
	struct hka_result *res = NULL;
	unsigned long dropped = 0;

	hka_config_init(&cfg);
	cfg.jobs = 2;
	cfg.atomic_undecided = true;
	EXPECT_EQ(0, hka_stream_add_binary(s, bin, &err)) TH_LOG("%s", err.msg);
	EXPECT_EQ(0, hka_analyze(s, &cfg, &res, &err)) TH_LOG("%s", err.msg);
	if (res)
		EXPECT_EQ(0, hka_result_review_capture(res, NULL, NULL, &dropped, &err));
	return res;
}

static const struct hka_site *site_at(const struct hka_stream *s, uint64_t offset)
{
	size_t i;

	for (i = 0; i < s->sites.n; i++) {
		const struct hka_site *site = HKA_VEC_AT(&s->sites, struct hka_site, i);

		if (site->info.access_ip == offset)
			return site;
	}
	return NULL;
}

FIXTURE(pointee) {
	struct hka_stream *s;
	char x86[PATH_MAX], a64[PATH_MAX];
};

/* A binary that is not built skips the test. */
#define NEED(bin)							\
	do {								\
		if (access(bin, R_OK))					\
			SKIP(return, "%.200s not built", bin);		\
	} while (0)

FIXTURE_SETUP(pointee)
{
	bin_path(self->x86, sizeof(self->x86), "ptr_atomic");
	bin_path(self->a64, sizeof(self->a64), "a64_ptr_atomic");
	self->s = hka_stream_new();
	ASSERT_NE(NULL, self->s);
	hka_stream_begin_input(self->s, "synthetic");
}

FIXTURE_TEARDOWN(pointee)
{
	hka_stream_free(self->s);
}

static const struct {
	const char *marker, *object;	/* NULL: no claim */
	bool atomic;
} objects[] = {
	{ "w_data", "m->data", false },
	{ "w_flag", "m->flag", true },
	{ "r_flag", "m->flag", true },		/* const msg_t *: typedef, const */
	{ "r_data", "m->data", false },
	{ "wp_flag", "m->pflag", false },
	{ "r_relaxed", "m->flag", true },
	{ "u_plain", NULL, false },		/* union members disagree */
	{ "ring_val", "r->slot[2].val", false },
	{ "ring_seq", "r->slot[2].seq", true },
	{ "scalar", "*p", true },
	{ "l_data", "m->data", false },
	{ "l_flag", "m->flag", true },		/* through a hoisted lea on x86 */
};

/* Each marked access, one thread each at its own address: every site named. */
static void check_objects(struct __test_metadata *_metadata, struct hka_stream *s,
			  const char *bin, bool x86)
{
	uint64_t off[ARRAY_SIZE(objects)];
	struct hka_result *res;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(objects); i++) {
		char thread[8];

		snprintf(thread, sizeof(thread), "T%zu", i);
		add(_metadata, s, bin, thread, objects[i].marker, 0x1000 + 0x10 * i,
		    objects[i].marker[0] == 'r' && objects[i].marker[1] != 'i' ?
		    HKA_READ : HKA_WRITE);
		off[i] = access_at(bin, objects[i].marker);
	}
	res = analyze(_metadata, s, bin);
	ASSERT_NE(NULL, res);
	EXPECT_EQ(0, hka_result_findings(res));
	for (i = 0; i < ARRAY_SIZE(objects); i++) {
		const struct hka_site *site = site_at(s, off[i]);

		ASSERT_NE(NULL, site) TH_LOG("@%s", objects[i].marker);
		TH_LOG("@%s: %s%s", objects[i].marker, site->info.object ?: "(none)",
		       site->info.atomic_type ? " _Atomic" : "");
		if (objects[i].object) {
			EXPECT_STREQ(objects[i].object, site->info.object ?: "(none)");
		} else {
			EXPECT_EQ(NULL, site->info.object);
		}
		EXPECT_EQ(objects[i].atomic, site->info.atomic_type) TH_LOG("@%s",
									    objects[i].marker);
		/* a capture never assumes an order from the type alone */
		if (x86)
			EXPECT_FALSE(site->info.acquire || site->info.release);
	}
	hka_result_free(res);
}

TEST_F(pointee, x86_objects_named)
{
	NEED(self->x86);
	check_objects(_metadata, self->s, self->x86, true);
}

static const struct hka_finding *mp(struct __test_metadata *_metadata, struct hka_stream *s,
				    const char *bin, const char *w1, const char *w2,
				    const char *r1, const char *r2, struct hka_result **res)
{
	add(_metadata, s, bin, "writer", w1, 0x100, HKA_WRITE);
	add(_metadata, s, bin, "writer", w2, 0x104, HKA_WRITE);
	add(_metadata, s, bin, "reader", r1, 0x104, HKA_READ);
	add(_metadata, s, bin, "reader", r2, 0x100, HKA_READ);
	*res = analyze(_metadata, s, bin);
	if (!*res || hka_result_findings(*res) != 1)
		return NULL;
	return (*res)->findings.data;
}

TEST_F(pointee, x86_relacq_through_pointer_undecidable)
{
	struct hka_result *res = NULL;
	const struct hka_finding *f;

	NEED(self->x86);
	f = mp(_metadata, self->s, self->x86, "w_data", "w_flag", "r_flag", "r_data", &res);

	ASSERT_NE(NULL, f) TH_LOG("%u findings", res ? hka_result_findings(res) : 0);
	EXPECT_STREQ("MP", f->pattern);
	EXPECT_STREQ("undecidable", f->confidence);
	TH_LOG("%s", f->confidence_reason);
	EXPECT_NE(NULL, strstr(f->confidence_reason, "'m->flag' has an _Atomic type"));
	hka_result_free(res);
}

TEST_F(pointee, x86_plain_through_pointer_high)
{
	struct hka_result *res = NULL;
	const struct hka_finding *f;

	NEED(self->x86);
	f = mp(_metadata, self->s, self->x86, "wp_data", "wp_flag", "rp_flag", "rp_data", &res);

	ASSERT_NE(NULL, f) TH_LOG("%u findings", res ? hka_result_findings(res) : 0);
	EXPECT_STREQ("MP", f->pattern);
	EXPECT_STREQ("high", f->confidence);
	TH_LOG("%s", f->confidence_reason);
	hka_result_free(res);
}

TEST_F(pointee, a64_objects_named_order_unchanged)
{
	struct hka_result *res;
	uint64_t w, r;
	const struct hka_site *sw, *sr;

	NEED(self->a64);
	check_objects(_metadata, self->s, self->a64, false);
	hka_stream_free(self->s);
	self->s = hka_stream_new();
	ASSERT_NE(NULL, self->s);
	hka_stream_begin_input(self->s, "synthetic");
	/* stlr stays a release; a relaxed ldr of an _Atomic member stays relaxed */
	add(_metadata, self->s, self->a64, "A", "w_flag", 0x100, HKA_WRITE);
	add(_metadata, self->s, self->a64, "B", "r_relaxed", 0x200, HKA_READ);
	w = access_at(self->a64, "w_flag");
	r = access_at(self->a64, "r_relaxed");
	res = analyze(_metadata, self->s, self->a64);
	ASSERT_NE(NULL, res);
	sw = site_at(self->s, w);
	sr = site_at(self->s, r);
	ASSERT_NE(NULL, sw);
	ASSERT_NE(NULL, sr);
	EXPECT_TRUE(sw->info.release);
	EXPECT_TRUE(sw->info.atomic_type);
	EXPECT_FALSE(sr->info.acquire);
	EXPECT_TRUE(sr->info.atomic_type);
	hka_result_free(res);
}

TEST_HARNESS_MAIN
