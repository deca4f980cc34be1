// SPDX-License-Identifier: GPL-2.0
/*
 * test_code: decode real binaries (arm64 cross builds and x86-64 TSan
 * builds of the corpus) through libhka and assert what it recognises at
 * marked source lines: acquire/release accesses, barriers and their kinds,
 * LSE and outline atomics, TSan atomic calls with their memory order.
 *
 * Binaries: $HK_TEST_BIN (analyzer/tests/bin) and $HK_CORPUS_OUT
 * (the corpus build of tools/testing/hawkeyes-corpus/run.sh).
 */
#include <elf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "../hka_priv.h"

struct line_class {
	int ninsn;
	bool acq, rel, tsan_access;
	unsigned int order, mem;
	char text[1024];
};

static const char *env_dir(const char *var, const char *def)
{
	const char *d = getenv(var);

	return d && *d ? d : def;
}

/* Line of the "/ * @marker * /" comment in src, 0 if absent. */
static unsigned int marker_line(const char *src, const char *marker)
{
	char buf[512], pat[64];
	unsigned int n = 0;
	FILE *f = fopen(src, "r");

	if (!f)
		return 0;
	snprintf(pat, sizeof(pat), "/* %s */", marker);
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

/* OR together what hka_code recognises in every instruction of src:line. */
static int classify(const char *bin, const char *src, const char *marker,
		    struct line_class *lc)
{
	struct hka_symtab *st = hka_symtab_new();
	struct hka_error err = { "" };
	unsigned int line = marker_line(src, marker);
	uint64_t addrs[64];
	int n, i, rc = -1;

	memset(lc, 0, sizeof(*lc));
	if (!st || !line)
		goto out;
	n = hka_symtab_line_addrs(st, bin, src, line, addrs, 64);
	for (i = 0; i < n; i++) {
		struct hka_symbol sym;
		struct hka_func fn = { .path = bin };
		uint32_t k;

		if (hka_symtab_lookup(st, bin, addrs[i], &sym, &err))
			continue;
		fn.start = sym.func_start;
		fn.end = sym.func_end;
		fn.machine = sym.machine;
		if (hka_func_decode(&fn, st, &err))
			continue;
		for (k = 0; k < fn.ninsn; k++) {
			struct hka_insn *in = &fn.insns[k];
			struct hka_symbol s2;

			if (hka_symtab_lookup(st, bin, in->addr, &s2, &err) || s2.line != line)
				continue;
			lc->ninsn++;
			lc->acq |= in->acq;
			lc->rel |= in->rel;
			lc->tsan_access |= !!in->tsan_access;
			lc->order |= in->order;
			lc->mem |= in->mem;
			if (!strstr(lc->text, in->text) &&
			    strlen(lc->text) + strlen(in->text) + 3 < sizeof(lc->text)) {
				strcat(lc->text, in->text);
				strcat(lc->text, "; ");
			}
		}
		hka_func_release(&fn);
		rc = 0;
	}
out:
	if (rc)
		fprintf(stderr, "# %s: %s: no code found for %s:%u (%s)\n", bin, marker, src,
			line, err.msg);
	hka_symtab_free(st);
	return rc;
}

#define A64(name)	env_dir("HK_TEST_BIN", "bin"), name
#define CORPUS(name)	env_dir("HK_CORPUS_OUT", "../../.build/hawkeyes-corpus"), name
#define SRC_A64		env_dir("HK_TEST_SRC", "tests/a64_ordering.c")

static const char *corpus_src(char *buf, size_t n, const char *prog)
{
	snprintf(buf, n, "%s/%s.c", env_dir("HK_CORPUS_DIR", "../../tools/testing/hawkeyes-corpus"),
		 prog);
	return buf;
}

static int check(struct __test_metadata *_metadata, const char *dir, const char *bin,
		 const char *src, const char *marker, struct line_class *lc)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, bin);
	if (access(path, R_OK))
		return 1;	/* not built: skip */
	return classify(path, src, marker, lc);
}

/* A binary that is not built skips; a marker without code fails. */
#define CLASSIFY(where, src, marker)						\
	do {									\
		int _rc = check(_metadata, where, src, marker, &lc);		\
		if (_rc > 0)							\
			SKIP(return, "binary for %s not built", marker);	\
		ASSERT_EQ(0, _rc);						\
		ASSERT_LT(0, lc.ninsn);						\
		TH_LOG("%s: %s", marker, lc.text);				\
	} while (0)

TEST(a64_exclusives_and_barriers)
{
	struct line_class lc;

	CLASSIFY(A64("a64_excl"), SRC_A64, "@ldar");
	ASSERT_TRUE(lc.acq);
	EXPECT_FALSE(lc.rel);
	EXPECT_NE(NULL, strstr(lc.text, "ldar"));
	CLASSIFY(A64("a64_excl"), SRC_A64, "@stlr");
	ASSERT_TRUE(lc.rel);
	EXPECT_FALSE(lc.acq);
	CLASSIFY(A64("a64_excl"), SRC_A64, "@xchg");
	EXPECT_NE(NULL, strstr(lc.text, "ldaxr"));
	EXPECT_NE(NULL, strstr(lc.text, "stlxr"));
	EXPECT_TRUE(lc.acq && lc.rel);
	CLASSIFY(A64("a64_excl"), SRC_A64, "@add_relaxed");
	EXPECT_NE(NULL, strstr(lc.text, "ldxr"));
	EXPECT_FALSE(lc.acq || lc.rel);
	EXPECT_EQ(3, lc.mem);
	CLASSIFY(A64("a64_excl"), SRC_A64, "@dmb_ishst");
	EXPECT_EQ(HKA_ORD_WW, lc.order);
	CLASSIFY(A64("a64_excl"), SRC_A64, "@dmb_ishld");
	EXPECT_EQ(HKA_ORD_RR | HKA_ORD_RW, lc.order);
	CLASSIFY(A64("a64_excl"), SRC_A64, "@dmb_ish");
	EXPECT_EQ(HKA_ORD_ALL, lc.order);
	/* -fPIC: the line also loads the GOT entry, so mem may include R */
	CLASSIFY(A64("a64_excl"), SRC_A64, "@plain_w");
	EXPECT_TRUE(lc.mem & 2);
	EXPECT_FALSE(lc.rel || lc.acq || lc.order);
	CLASSIFY(A64("a64_excl"), SRC_A64, "@plain_r");
	EXPECT_TRUE(lc.mem & 1);
	EXPECT_FALSE(lc.acq || lc.rel || lc.order);
}

TEST(a64_outline_atomics)
{
	struct line_class lc;

	CLASSIFY(A64("a64_outline"), SRC_A64, "@xchg");
	EXPECT_NE(NULL, strstr(lc.text, "__aarch64_swp4_acq_rel"));
	EXPECT_TRUE(lc.acq && lc.rel);
	CLASSIFY(A64("a64_outline"), SRC_A64, "@cas");
	EXPECT_NE(NULL, strstr(lc.text, "__aarch64_cas4_acq_rel"));
	EXPECT_TRUE(lc.acq && lc.rel);
	CLASSIFY(A64("a64_outline"), SRC_A64, "@add_relaxed");
	EXPECT_NE(NULL, strstr(lc.text, "__aarch64_ldadd4_relax"));
	EXPECT_FALSE(lc.acq || lc.rel);
}

/* LSE and RCpc encodings Capstone 4 cannot decode: the fallback must see them */
TEST(a64_lse_rcpc)
{
	struct line_class lc;

	CLASSIFY(A64("a64_lse"), SRC_A64, "@xchg");
	EXPECT_NE(NULL, strstr(lc.text, "swpal"));
	EXPECT_TRUE(lc.acq && lc.rel);
	CLASSIFY(A64("a64_lse"), SRC_A64, "@cas");
	EXPECT_NE(NULL, strstr(lc.text, "casal"));
	EXPECT_TRUE(lc.acq && lc.rel);
	CLASSIFY(A64("a64_lse"), SRC_A64, "@add_relaxed");
	EXPECT_NE(NULL, strstr(lc.text, "ldadd (lse)"));
	EXPECT_FALSE(lc.acq || lc.rel);
	EXPECT_EQ(3, lc.mem);
	CLASSIFY(A64("a64_lse"), SRC_A64, "@ldapr");
	EXPECT_NE(NULL, strstr(lc.text, "ldapr"));
	EXPECT_TRUE(lc.acq);
	EXPECT_FALSE(lc.rel);
}

/* the corpus programs built for arm64: the fixes are there, the bugs are not */
TEST(a64_corpus)
{
	struct line_class lc;
	char src[PATH_MAX];

	CLASSIFY(CORPUS("mp_relacq.arm64"), corpus_src(src, sizeof(src), "mp_relacq"), "@flag_w");
	EXPECT_NE(NULL, strstr(lc.text, "stlr"));
	EXPECT_TRUE(lc.rel);
	CLASSIFY(CORPUS("mp_relacq.arm64"), src, "@flag_r");
	EXPECT_NE(NULL, strstr(lc.text, "ldar"));
	EXPECT_TRUE(lc.acq);
	/* GCC emits dmb ish for a release fence, dmb ishld for an acquire fence */
	CLASSIFY(CORPUS("mp_fence_relacq.arm64"), corpus_src(src, sizeof(src), "mp_fence_relacq"),
		 "@fence_w");
	EXPECT_EQ(HKA_ORD_ALL, lc.order);
	CLASSIFY(CORPUS("mp_fence_relacq.arm64"), src, "@fence_r");
	EXPECT_EQ(HKA_ORD_RR | HKA_ORD_RW, lc.order);
	CLASSIFY(CORPUS("mp.arm64"), corpus_src(src, sizeof(src), "mp"), "@flag_w");
	EXPECT_EQ(2, lc.mem);
	EXPECT_FALSE(lc.rel || lc.order);
	CLASSIFY(CORPUS("mp_rmw.arm64-lse"), corpus_src(src, sizeof(src), "mp_rmw"), "@flag_w");
	EXPECT_NE(NULL, strstr(lc.text, "ldaddal"));
	EXPECT_TRUE(lc.acq && lc.rel);
	CLASSIFY(CORPUS("mp_rmw.arm64"), src, "@flag_w");
	EXPECT_NE(NULL, strstr(lc.text, "__aarch64_ldadd4_acq_rel"));
}

/* x86-64 TSan builds: memory orders read from the __tsan_* calls */
TEST(x86_tsan_calls)
{
	struct line_class lc;
	char src[PATH_MAX];

	CLASSIFY(CORPUS("mp"), corpus_src(src, sizeof(src), "mp"), "@flag_w");
	EXPECT_TRUE(lc.tsan_access);
	EXPECT_NE(NULL, strstr(lc.text, "__tsan_write4"));
	EXPECT_FALSE(lc.rel || lc.order);
	CLASSIFY(CORPUS("mp_relaxed"), corpus_src(src, sizeof(src), "mp_relaxed"), "@flag_w");
	EXPECT_NE(NULL, strstr(lc.text, "__tsan_atomic32_store"));
	EXPECT_FALSE(lc.rel);
	CLASSIFY(CORPUS("mp_release_only"), corpus_src(src, sizeof(src), "mp_release_only"),
		 "@flag_w");
	EXPECT_NE(NULL, strstr(lc.text, "__tsan_atomic32_store"));
	EXPECT_TRUE(lc.rel);
	CLASSIFY(CORPUS("mp_fence_relacq"), corpus_src(src, sizeof(src), "mp_fence_relacq"),
		 "@fence_w");
	EXPECT_EQ(HKA_ORD_RW | HKA_ORD_WW, lc.order);
	CLASSIFY(CORPUS("mp_fence_relacq"), src, "@fence_r");
	EXPECT_EQ(HKA_ORD_RR | HKA_ORD_RW, lc.order);
	CLASSIFY(CORPUS("mp_fence"), corpus_src(src, sizeof(src), "mp_fence"), "@fence_w");
	EXPECT_EQ(HKA_ORD_ALL, lc.order);
	CLASSIFY(CORPUS("mp_rmw"), corpus_src(src, sizeof(src), "mp_rmw"), "@flag_w");
	EXPECT_NE(NULL, strstr(lc.text, "__tsan_atomic32_fetch_add"));
	EXPECT_EQ(HKA_ORD_ALL, lc.order);
}

TEST_HARNESS_MAIN
