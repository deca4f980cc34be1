// SPDX-License-Identifier: GPL-2.0
/*
 * Cross-thread matching: only a cycle is a bug. Interval (x then y) of one
 * thread matches interval (y then x) of another thread when both crossing
 * pairs conflict (same location, one writes, and, for TSan input, reported
 * as a race: TSan only reports pairs not ordered by happens-before, so
 * mutex-protected pairs never match). Intervals join groups (one
 * instruction, many locations); two of them form a cycle when a location
 * witness exists (hka_witness()), found in time linear in the groups'
 * events instead of enumerating location pairs. The kinds of the two
 * intervals name the shape:
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

/* Record that groups a and b hold a conflicting pair (both directions). */
static int hka_adjacent_add(struct hka_map *adj, struct hka_vec *list, uint32_t a, uint32_t b)
{
	uint32_t *p;
	int k;

	for (k = 0; k < 2; k++) {
		uint32_t x = k ? b : a, y = k ? a : b;

		if (hka_map_get(adj, x, y) != HKA_NO_INDEX)
			continue;
		if (hka_map_put(adj, x, y, 1) == HKA_NO_INDEX)
			return -ENOMEM;
		p = hka_vec_push(list);
		if (!p)
			return -ENOMEM;
		p[0] = x;
		p[1] = y;
	}
	return 0;
}

static int hka_pair_cmp(const void *pa, const void *pb)
{
	const uint32_t *a = pa, *b = pb;

	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	return a[1] < b[1] ? -1 : a[1] > b[1];
}

static int hka_loc_event_cmp(const void *pa, const void *pb, void *arg)
{
	const struct hka_stream *s = arg;
	uint32_t ia = *(const uint32_t *)pa, ib = *(const uint32_t *)pb;
	const struct hka_event *a = HKA_VEC_AT(&s->events, struct hka_event, ia);
	const struct hka_event *b = HKA_VEC_AT(&s->events, struct hka_event, ib);

	if (a->loc != b->loc)
		return a->loc < b->loc ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

/*
 * Group adjacency: groups a and b are adjacent when an event of a and an
 * event of b conflict. Explicit conflicts give it directly; otherwise the
 * events of each location are paired.
 */
static int hka_adjacency(const struct hka_stream *s, const struct hka_groups *g,
			 struct hka_map *adj, struct hka_vec *list)
{
	const uint32_t *eg = g->event_group;
	size_t i, j, k;

	if (s->explicit_conflicts) {
		for (i = 0; i < s->conflicts.n; i++) {
			const struct hka_conflict *c = HKA_VEC_AT(&s->conflicts, struct hka_conflict, i);

			if (eg[c->a] != HKA_NO_INDEX && eg[c->b] != HKA_NO_INDEX &&
			    hka_adjacent_add(adj, list, eg[c->a], eg[c->b]))
				return -ENOMEM;
		}
	} else {
		uint32_t *byloc = malloc((s->events.n + 1) * sizeof(*byloc));
		size_t n = 0;

		if (!byloc)
			return -ENOMEM;
		for (i = 0; i < s->events.n; i++)
			if (eg[i] != HKA_NO_INDEX)
				byloc[n++] = i;
		qsort_r(byloc, n, sizeof(*byloc), hka_loc_event_cmp, (void *)s);
		for (i = 0; i < n; i = j) {
			uint32_t loc = HKA_VEC_AT(&s->events, struct hka_event, byloc[i])->loc;

			for (j = i; j < n && HKA_VEC_AT(&s->events, struct hka_event,
							 byloc[j])->loc == loc; j++)
				;
			for (k = i; k < j; k++) {
				size_t m;

				for (m = k + 1; m < j; m++)
					if (hka_stream_conflicting(s, byloc[k], byloc[m]) &&
					    hka_adjacent_add(adj, list, eg[byloc[k]], eg[byloc[m]])) {
						free(byloc);
						return -ENOMEM;
					}
			}
		}
		free(byloc);
	}
	qsort(list->data, list->n, 2 * sizeof(uint32_t), hka_pair_cmp);
	return 0;
}

/*
 * A location witness for two group intervals: A's first and B's second
 * access share a location L1, A's second and B's first a location L2,
 * L1 != L2, and both crossing pairs conflict. Linear in the groups' events:
 * collect the candidates for L1 and for L2, then pick two that differ.
 */
static bool hka_witness(const struct hka_stream *s, const struct hka_groups *g,
			const struct hka_map *at, const struct hka_interval *p,
			const struct hka_interval *q, uint32_t ev[4])
{
	const struct hka_group *gp1 = HKA_VEC_AT(&g->groups, struct hka_group, p->first);
	const struct hka_group *gp2 = HKA_VEC_AT(&g->groups, struct hka_group, p->second);
	uint32_t c1[2][2], c2[2][2], n1 = 0, n2 = 0, i, a, b;

	for (i = gp1->start; i < gp1->end && n1 < 2; i++) {
		uint32_t e1 = g->order[i], loc = HKA_VEC_AT(&s->events, struct hka_event, e1)->loc;
		uint32_t f2 = hka_map_get(at, q->second, loc);

		if (f2 != HKA_NO_INDEX && hka_stream_conflicting(s, f2, e1)) {
			c1[n1][0] = e1;
			c1[n1++][1] = f2;
		}
	}
	for (i = gp2->start; i < gp2->end && n2 < 2; i++) {
		uint32_t e2 = g->order[i], loc = HKA_VEC_AT(&s->events, struct hka_event, e2)->loc;
		uint32_t f1 = hka_map_get(at, q->first, loc);

		if (f1 != HKA_NO_INDEX && hka_stream_conflicting(s, e2, f1)) {
			c2[n2][0] = e2;
			c2[n2++][1] = f1;
		}
	}
	for (a = 0; a < n1; a++)
		for (b = 0; b < n2; b++) {
			if (HKA_VEC_AT(&s->events, struct hka_event, c1[a][0])->loc ==
			    HKA_VEC_AT(&s->events, struct hka_event, c2[b][0])->loc)
				continue;
			ev[0] = c1[a][0];	/* A first */
			ev[1] = c2[b][0];	/* A second */
			ev[2] = c2[b][1];	/* B first */
			ev[3] = c1[a][1];	/* B second */
			return true;
		}
	return false;
}

int hka_match_intervals(struct hka_stream *s, struct hka_result *res,
			const struct hka_groups *g, const struct hka_vec *intervals,
			struct hka_error *err)
{
	const struct hka_interval *iv = intervals->data;
	struct hka_map adj, seen, at;
	struct hka_vec list;
	uint32_t *next = NULL, *head = NULL, *adj_start = NULL, i, ngroups = g->groups.n;
	size_t k;
	int rc = 0;

	hka_map_init(&adj);
	hka_map_init(&seen);
	hka_map_init(&at);
	hka_vec_init(&list, 2 * sizeof(uint32_t));
	if (hka_adjacency(s, g, &adj, &list))
		goto nomem;
	/* adj_start[g]: first of g's neighbours in the sorted list */
	adj_start = malloc((ngroups + 2) * sizeof(*adj_start));
	head = malloc((ngroups + 1) * sizeof(*head));
	next = malloc((intervals->n + 1) * sizeof(*next));
	if (!adj_start || !head || !next)
		goto nomem;
	for (i = 0, k = 0; i <= ngroups; i++) {
		while (k < list.n && ((uint32_t *)list.data)[2 * k] < i)
			k++;
		adj_start[i] = k;
	}
	/* (group, location) -> event, for the witness search */
	for (k = 0; k < s->events.n; k++)
		if (g->event_group[k] != HKA_NO_INDEX &&
		    hka_map_put(&at, g->event_group[k],
				HKA_VEC_AT(&s->events, struct hka_event, k)->loc, k) == HKA_NO_INDEX)
			goto nomem;
	/* intervals chained by their first group, in order */
	for (i = 0; i < ngroups; i++)
		head[i] = HKA_NO_INDEX;
	for (i = intervals->n; i-- > 0;) {
		next[i] = head[iv[i].first];
		head[iv[i].first] = i;
	}
	for (i = 0; i < intervals->n; i++) {
		const struct hka_interval *p = &iv[i];

		/* Q must start at a group adjacent to P's second */
		for (k = adj_start[p->second]; k < adj_start[p->second + 1]; k++) {
			uint32_t u = ((uint32_t *)list.data)[2 * k + 1], j;

			for (j = head[u]; j != HKA_NO_INDEX; j = next[j]) {
				const struct hka_interval *q = &iv[j];
				const struct hka_shape *sh;
				struct hka_finding *f;
				struct hka_side x, y;
				uint32_t ev[4];
				uint64_t kx, ky;

				if (j <= i || q->thread == p->thread ||
				    hka_map_get(&adj, q->second, p->first) == HKA_NO_INDEX)
					continue;
				x = (struct hka_side){ p->thread, g->order[HKA_VEC_AT(&g->groups,
					struct hka_group, p->first)->start], g->order[HKA_VEC_AT(
					&g->groups, struct hka_group, p->second)->start],
					p->distance, NULL, { p->via[0], p->via[1] } };
				y = (struct hka_side){ q->thread, g->order[HKA_VEC_AT(&g->groups,
					struct hka_group, q->first)->start], g->order[HKA_VEC_AT(
					&g->groups, struct hka_group, q->second)->start],
					q->distance, NULL, { q->via[0], q->via[1] } };
				/* cheapest test first: most candidates repeat a cycle */
				kx = hka_side_key(s, &x);
				ky = hka_side_key(s, &y);
				if (hka_map_get(&seen, kx < ky ? kx : ky, kx < ky ? ky : kx) !=
				    HKA_NO_INDEX)
					continue;
				if (!hka_witness(s, g, &at, p, q, ev))
					continue;
				x.first = ev[0];
				x.second = ev[1];
				y.first = ev[2];
				y.second = ev[3];
				sh = hka_shape_of(s, &x, &y);
				if (!sh)
					continue;
				if (hka_map_put(&seen, kx < ky ? kx : ky, kx < ky ? ky : kx,
						res->findings.n) == HKA_NO_INDEX)
					goto nomem;
				f = hka_vec_push(&res->findings);
				if (!f)
					goto nomem;
				f->pattern = sh->pattern;
				f->porting = sh->porting;
				x.barrier = hka_barrier_for(hka_ev(s, x.first)->kind,
							    hka_ev(s, x.second)->kind);
				y.barrier = hka_barrier_for(hka_ev(s, y.first)->kind,
							    hka_ev(s, y.second)->kind);
				f->sides[0] = x;
				f->sides[1] = y;
			}
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
	free(adj_start);
	hka_vec_free(&list);
	hka_map_free(&adj);
	hka_map_free(&seen);
	hka_map_free(&at);
	return rc;
}
