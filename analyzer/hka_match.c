// SPDX-License-Identifier: GPL-2.0
/*
 * Cross-thread matching: only a cycle is a bug. Interval (x then y) of one
 * thread matches interval (y then x) of another thread when both crossing
 * pairs conflict (same location, one writes, and, for TSan input, reported
 * as a race: TSan only reports pairs not ordered by happens-before, so
 * mutex-protected pairs never match). The kinds of the two intervals name
 * the shape:
 *
 *   W->W x R->R  MP     porting bug (TSO keeps both orders, Arm does not)
 *   R->W x R->W  LB     porting bug
 *   W->W x R->W  S      porting bug
 *   W->W x W->W  2+2W   porting bug
 *   W->R x W->R  SB     broken on x86 already (porting: false)
 *   W->W x W->R  R      broken on x86 already (porting: false)
 *
 * Each side's fix is the weakest barrier that orders its own pair. One
 * finding per static cycle, whatever the threads that showed it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hka_priv.h"

const char *hka_barrier_for(enum hka_kind first, enum hka_kind second)
{
	if (first == HKA_WRITE && second == HKA_READ)
		return "full";
	if (first == HKA_READ && second == HKA_READ)
		return "acquire";
	return "release";	/* W->W and R->W: release on the second store */
}

void hka_fix_spell(const char *barrier, enum hka_kind first, enum hka_kind second,
		   struct hka_fix *fix)
{
	if (!strcmp(barrier, "acquire")) {
		fix->c11 = "atomic_load_explicit(p, memory_order_acquire) for the first load";
		fix->kernel = "smp_load_acquire(p) for the first load, or smp_rmb() between the loads";
		fix->arm64 = "ldar for the first load (ldapr also suffices: RCpc, it may pass an "
			     "earlier stlr, which this pair does not need), or dmb ishld between";
	} else if (!strcmp(barrier, "full")) {
		fix->c11 = "atomic_thread_fence(memory_order_seq_cst) between the store and the load";
		fix->kernel = "smp_mb() between the store and the load";
		fix->arm64 = "dmb ish between the store and the load";
	} else if (first == HKA_READ) {
		fix->c11 = "atomic_store_explicit(p, v, memory_order_release) for the store";
		fix->kernel = "smp_store_release(p, v) for the store";
		fix->arm64 = "stlr for the store, or dmb ishld between the load and the store";
	} else {
		fix->c11 = "atomic_store_explicit(p, v, memory_order_release) for the second store";
		fix->kernel = "smp_store_release(p, v) for the second store, or smp_wmb() between "
			      "the stores";
		fix->arm64 = "stlr for the second store, or dmb ishst between the stores";
	}
}

struct hka_shape {
	uint8_t a1, a2, b1, b2;	/* kinds of side a and side b, in canonical order */
	const char *pattern;
	bool porting;
};

#define R HKA_READ
#define W HKA_WRITE
static const struct hka_shape hka_shapes[] = {
	{ W, W, R, R, "MP", true },
	{ R, W, R, W, "LB", true },
	{ W, W, R, W, "S", true },
	{ W, W, W, W, "2+2W", true },
	{ W, R, W, R, "SB", false },
	{ W, W, W, R, "R", false },
};
#undef R
#undef W

static const struct hka_event *hka_ev(const struct hka_stream *s, uint32_t e)
{
	return HKA_VEC_AT(&s->events, struct hka_event, e);
}

static const struct hka_site *hka_ev_site(const struct hka_stream *s, uint32_t e)
{
	return HKA_VEC_AT(&s->sites, struct hka_site, hka_ev(s, e)->site);
}

/* Total order of sides for stable output: file, line, ip of first, then second. */
static int hka_side_cmp(const struct hka_stream *s, const struct hka_side *x,
			const struct hka_side *y)
{
	const struct hka_site *a[2] = { hka_ev_site(s, x->first), hka_ev_site(s, x->second) };
	const struct hka_site *b[2] = { hka_ev_site(s, y->first), hka_ev_site(s, y->second) };
	int k, c;

	for (k = 0; k < 2; k++) {
		c = strcmp(a[k]->info.file ? a[k]->info.file : "",
			   b[k]->info.file ? b[k]->info.file : "");
		if (c)
			return c;
		if (a[k]->info.line != b[k]->info.line)
			return a[k]->info.line < b[k]->info.line ? -1 : 1;
		if (a[k]->info.access_ip != b[k]->info.access_ip)
			return a[k]->info.access_ip < b[k]->info.access_ip ? -1 : 1;
		if (a[k]->module != b[k]->module)
			return a[k]->module < b[k]->module ? -1 : 1;
	}
	return 0;
}

static int hka_finding_cmp(const void *pa, const void *pb, void *arg)
{
	const struct hka_finding *a = pa, *b = pb;
	int c = hka_side_cmp(arg, &a->sides[0], &b->sides[0]);

	if (c)
		return c;
	c = hka_side_cmp(arg, &a->sides[1], &b->sides[1]);
	if (c)
		return c;
	return strcmp(a->pattern, b->pattern);
}

/* Put the two sides in the shape's order; NULL if not a known shape. */
static const struct hka_shape *hka_shape_of(const struct hka_stream *s, struct hka_side *x,
					    struct hka_side *y)
{
	unsigned int kx1 = hka_ev(s, x->first)->kind, kx2 = hka_ev(s, x->second)->kind;
	unsigned int ky1 = hka_ev(s, y->first)->kind, ky2 = hka_ev(s, y->second)->kind;
	size_t k;

	for (k = 0; k < ARRAY_SIZE(hka_shapes); k++) {
		const struct hka_shape *sh = &hka_shapes[k];
		bool fwd = sh->a1 == kx1 && sh->a2 == kx2 && sh->b1 == ky1 && sh->b2 == ky2;
		bool rev = sh->a1 == ky1 && sh->a2 == ky2 && sh->b1 == kx1 && sh->b2 == kx2;

		if (fwd && rev) {	/* symmetric shape: order by source position */
			if (hka_side_cmp(s, x, y) > 0) {
				struct hka_side t = *x;

				*x = *y;
				*y = t;
			}
			return sh;
		}
		if (rev) {
			struct hka_side t = *x;

			*x = *y;
			*y = t;
		}
		if (fwd || rev)
			return sh;
	}
	return NULL;
}

static uint64_t hka_side_key(const struct hka_stream *s, const struct hka_side *x)
{
	return (uint64_t)hka_ev(s, x->first)->site << 32 | hka_ev(s, x->second)->site;
}

int hka_match_intervals(struct hka_stream *s, struct hka_result *res,
			const struct hka_vec *intervals, struct hka_error *err)
{
	const struct hka_interval *iv = intervals->data;
	struct hka_map by_locs, seen;
	uint32_t *next = NULL, *head = NULL, i, groups = 0;
	int rc = 0;

	hka_map_init(&by_locs);
	hka_map_init(&seen);
	/* chain intervals by (first location, second location), in order */
	next = malloc((intervals->n + 1) * sizeof(*next));
	head = malloc((intervals->n + 1) * sizeof(*head));
	if (!next || !head)
		goto nomem;
	for (i = intervals->n; i-- > 0;) {
		uint64_t l1 = hka_ev(s, iv[i].first)->loc, l2 = hka_ev(s, iv[i].second)->loc;
		uint32_t g = hka_map_put(&by_locs, l1, l2, groups);

		if (g == HKA_NO_INDEX)
			goto nomem;
		if (g == groups)
			head[groups++] = HKA_NO_INDEX;
		next[i] = head[g];
		head[g] = i;
	}
	for (i = 0; i < intervals->n; i++) {
		uint64_t l1 = hka_ev(s, iv[i].first)->loc, l2 = hka_ev(s, iv[i].second)->loc;
		uint32_t j;

		uint32_t g = hka_map_get(&by_locs, l2, l1);

		for (j = g == HKA_NO_INDEX ? g : head[g]; j != HKA_NO_INDEX; j = next[j]) {
			struct hka_side x = { iv[i].thread, iv[i].first, iv[i].second, iv[i].distance,
					      NULL, { iv[i].via[0], iv[i].via[1] } };
			struct hka_side y = { iv[j].thread, iv[j].first, iv[j].second, iv[j].distance,
					      NULL, { iv[j].via[0], iv[j].via[1] } };
			const struct hka_shape *sh;
			struct hka_finding *f;
			uint64_t kx, ky;

			if (j <= i || iv[j].thread == iv[i].thread)
				continue;
			/* most candidates repeat a cycle already found: cheapest test first */
			kx = hka_side_key(s, &x);
			ky = hka_side_key(s, &y);
			if (hka_map_get(&seen, kx < ky ? kx : ky, kx < ky ? ky : kx) != HKA_NO_INDEX)
				continue;
			sh = hka_shape_of(s, &x, &y);
			if (!sh)
				continue;
			if (!hka_stream_conflicting(s, iv[i].second, iv[j].first) ||
			    !hka_stream_conflicting(s, iv[j].second, iv[i].first))
				continue;
			if (hka_map_put(&seen, kx < ky ? kx : ky, kx < ky ? ky : kx,
					res->findings.n) == HKA_NO_INDEX)
				goto nomem;
			f = hka_vec_push(&res->findings);
			if (!f)
				goto nomem;
			f->pattern = sh->pattern;
			f->porting = sh->porting;
			x.barrier = hka_barrier_for(hka_ev(s, x.first)->kind, hka_ev(s, x.second)->kind);
			y.barrier = hka_barrier_for(hka_ev(s, y.first)->kind, hka_ev(s, y.second)->kind);
			f->sides[0] = x;
			f->sides[1] = y;
		}
	}
	qsort_r(res->findings.data, res->findings.n, sizeof(struct hka_finding), hka_finding_cmp,
		(void *)s);
	goto out;
nomem:
	hka_error_set(err, "out of memory matching intervals");
	rc = -ENOMEM;
out:
	free(next);
	free(head);
	hka_map_free(&by_locs);
	hka_map_free(&seen);
	return rc;
}
