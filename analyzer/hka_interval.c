// SPDX-License-Identifier: GPL-2.0
/*
 * Intervals: per thread, ordered pairs (first, second) of its event groups
 * (one instruction, one kind, one call stack, any number of locations) such
 * that second is reachable from first inside the window and nothing on that
 * path, nor the accesses themselves, already orders that kind of pair
 * (W->W, R->R, R->W, W->R). Which locations pair up is left to the
 * matching: enumerating them here made one instruction over N addresses
 * cost N^2 intervals (20 000 ring slots: 22 GB, killed). One task per
 * thread; each writes its own slot, merged in thread order.
 *
 * Only events of locations that really conflict count. Accesses in one
 * function (inlined code is one function) are measured in its CFG; accesses
 * in different functions through the call stacks the input gave
 * (hka_cross_distance()); calls the stacks do not show are not followed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hka_priv.h"

struct hka_interval_ctx {
	struct hka_stream *s;
	struct hka_result *res;
	struct hka_groups *g;
	uint32_t *thread_groups;	/* per thread: first group; [nthreads] = end */
	struct hka_vec *out;		/* per thread */
	unsigned long *dropped;		/* per thread */
	uint8_t *shared;		/* per location: conflicting accesses exist */
};

/* Does the pair already have an order from the accesses themselves? */
static bool hka_access_orders(const struct hka_site_info *a, enum hka_kind ka,
			      const struct hka_site_info *b, enum hka_kind kb)
{
	if (a->full || b->full)
		return true;
	if (ka == HKA_READ && a->acquire)	/* acquire: later accesses stay after */
		return true;
	if (kb == HKA_WRITE && b->release)	/* release: earlier accesses stay before */
		return true;
	/* RCsc: a release store is not reordered with a later acquire load */
	return ka == HKA_WRITE && kb == HKA_READ && a->seq_cst && b->seq_cst;
}

/* Per-task buffers for shortest paths, grown to the largest function seen. */
struct hka_scratch {
	uint32_t *dist, *heap, cap;
};

static int hka_scratch_fit(struct hka_scratch *sc, uint32_t n)
{
	uint32_t *d, *h;

	if (n <= sc->cap)
		return 0;
	d = realloc(sc->dist, n * sizeof(*d));
	if (d)
		sc->dist = d;
	h = realloc(sc->heap, (2 * n + 2) * sizeof(*h));
	if (h)
		sc->heap = h;
	if (!d || !h)
		return -ENOMEM;
	sc->cap = n;
	return 0;
}

static uint32_t hka_sat_add(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/* uops from instruction a to leaving its function through a ret */
static uint32_t hka_to_return(const struct hka_func *fn, uint32_t a, unsigned int block,
			      struct hka_scratch *sc)
{
	uint32_t best = UINT32_MAX, k;

	hka_window_distances(fn, a, block, UINT32_MAX / 2, sc->dist, sc->heap);
	for (k = 0; k < fn->ninsn; k++)
		if ((fn->insns[k].flags & HKA_INSN_RET) && !(fn->insns[k].flags & HKA_INSN_CALL) &&
		    sc->dist[k] != UINT32_MAX && sc->dist[k] + fn->insns[k].uops < best)
			best = sc->dist[k] + fn->insns[k].uops;
	return best;
}

static uint32_t hka_between(const struct hka_func *fn, uint32_t a, uint32_t b,
			    unsigned int block, struct hka_scratch *sc)
{
	hka_window_distances(fn, a, block, UINT32_MAX / 2, sc->dist, sc->heap);
	return sc->dist[b];
}

/*
 * Accesses in different functions (or one helper reached through two
 * calls): find the closest frames of the two stacks that are in one
 * function under the same caller, then add the uops from the first access
 * out to that frame, across it, and down to the second access.
 */
static uint32_t hka_cross_distance(const struct hka_interval_ctx *c, const struct hka_event *e1,
				   const struct hka_event *e2, unsigned int block,
				   struct hka_scratch *sc, uint32_t via[2])
{
	const struct hka_stream *s = c->s;
	const uint32_t *stk = s->stacks.data;
	uint32_t st1[HKA_MAX_FRAMES + 1], st2[HKA_MAX_FRAMES + 1];
	unsigned int n1 = 0, n2 = 0, i, j, k;

	st1[n1++] = e1->site;
	for (k = 0; k < e1->nstack; k++)
		st1[n1++] = stk[e1->stack + k];
	st2[n2++] = e2->site;
	for (k = 0; k < e2->nstack; k++)
		st2[n2++] = stk[e2->stack + k];
	for (i = 0; i < n1; i++) {
		for (j = 0; j < n2; j++) {
			const struct hka_site *a = HKA_VEC_AT(&s->sites, struct hka_site, st1[i]);
			const struct hka_site *b = HKA_VEC_AT(&s->sites, struct hka_site, st2[j]);
			const struct hka_func *fn;
			uint32_t d = 0, part;

			if (!a->info.resolved || !b->info.resolved || a->info.func != b->info.func ||
			    a->info.insn == b->info.insn || (i == 0 && j == 0))
				continue;
			if (i + 1 < n1 && j + 1 < n2 && st1[i + 1] != st2[j + 1])
				continue;	/* same function, different invocations */
			for (k = 0; k < i && d != UINT32_MAX; k++) {
				const struct hka_site *f = HKA_VEC_AT(&s->sites, struct hka_site, st1[k]);

				fn = &c->res->funcs[f->info.func];
				if (!f->info.resolved || hka_scratch_fit(sc, fn->ninsn))
					return UINT32_MAX;
				d = hka_sat_add(d, hka_to_return(fn, f->info.insn, block, sc));
			}
			fn = &c->res->funcs[a->info.func];
			if (d == UINT32_MAX || hka_scratch_fit(sc, fn->ninsn))
				return UINT32_MAX;
			part = hka_between(fn, a->info.insn, b->info.insn, block, sc);
			d = hka_sat_add(d, part);
			for (k = 0; k < j && d != UINT32_MAX; k++) {
				const struct hka_site *f = HKA_VEC_AT(&s->sites, struct hka_site, st2[k]);

				fn = &c->res->funcs[f->info.func];
				if (!f->info.resolved || hka_scratch_fit(sc, fn->ninsn))
					return UINT32_MAX;
				d = hka_sat_add(d, hka_between(fn, 0, f->info.insn, block, sc));
			}
			via[0] = st1[i];
			via[1] = st2[j];
			return d;
		}
	}
	return UINT32_MAX;
}

/* Locations with two threads and a write (or an explicit conflict). */
static uint8_t *hka_shared_locations(const struct hka_stream *s)
{
	uint8_t *shared = calloc(s->locs.n + 1, 1);
	uint32_t *first = malloc((s->locs.n + 1) * sizeof(*first));
	uint8_t *write = calloc(s->locs.n + 1, 1), *multi = calloc(s->locs.n + 1, 1);
	size_t i;

	if (!shared || !first || !write || !multi)
		goto fail;
	for (i = 0; i < s->locs.n; i++)
		first[i] = HKA_NO_INDEX;
	for (i = 0; i < s->events.n; i++) {
		const struct hka_event *e = HKA_VEC_AT(&s->events, struct hka_event, i);

		if (first[e->loc] == HKA_NO_INDEX)
			first[e->loc] = e->thread;
		else if (first[e->loc] != e->thread)
			multi[e->loc] = 1;
		write[e->loc] |= e->kind == HKA_WRITE;
	}
	for (i = 0; i < s->locs.n; i++)
		shared[i] = multi[i] && write[i];
	free(first);
	free(write);
	free(multi);
	return shared;
fail:
	free(shared);
	free(first);
	free(write);
	free(multi);
	return NULL;
}

/* FNV-1a over the caller sites: events with equal stacks share distances. */
static uint64_t hka_stack_hash(const struct hka_stream *s, const struct hka_event *e)
{
	const uint32_t *stk = s->stacks.data;
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned int k;

	for (k = 0; k < e->nstack; k++)
		h = (h ^ stk[e->stack + k]) * 0x100000001b3ULL;
	return h ^ e->nstack;
}

struct hka_sort_ctx {
	const struct hka_stream *s;
	const uint64_t *hash;
};

/* (thread, site, kind, stack, location, index): groups are runs */
static int hka_event_cmp(const void *pa, const void *pb, void *arg)
{
	const struct hka_sort_ctx *sc = arg;
	uint32_t ia = *(const uint32_t *)pa, ib = *(const uint32_t *)pb;
	const struct hka_event *a = HKA_VEC_AT(&sc->s->events, struct hka_event, ia);
	const struct hka_event *b = HKA_VEC_AT(&sc->s->events, struct hka_event, ib);

	if (a->thread != b->thread)
		return a->thread < b->thread ? -1 : 1;
	if (a->site != b->site)
		return a->site < b->site ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (sc->hash[ia] != sc->hash[ib])
		return sc->hash[ia] < sc->hash[ib] ? -1 : 1;
	if (a->loc != b->loc)
		return a->loc < b->loc ? -1 : 1;
	return ia < ib ? -1 : 1;
}

void hka_groups_free(struct hka_groups *g)
{
	free(g->order);
	free(g->event_group);
	free(g->shared);
	hka_vec_free(&g->groups);
	memset(g, 0, sizeof(*g));
}

/* Events of shared locations at resolved sites, cut into groups. */
static int hka_groups_build(const struct hka_stream *s, struct hka_groups *g)
{
	uint64_t *hash = malloc((s->events.n + 1) * sizeof(*hash));
	struct hka_sort_ctx sc = { s, hash };
	uint32_t n = 0, i;

	hka_vec_init(&g->groups, sizeof(struct hka_group));
	g->shared = hka_shared_locations(s);
	g->order = malloc((s->events.n + 1) * sizeof(*g->order));
	g->event_group = malloc((s->events.n + 1) * sizeof(*g->event_group));
	if (!hash || !g->shared || !g->order || !g->event_group)
		goto nomem;
	for (i = 0; i < s->events.n; i++) {
		const struct hka_event *e = HKA_VEC_AT(&s->events, struct hka_event, i);
		const struct hka_site *site = HKA_VEC_AT(&s->sites, struct hka_site, e->site);

		g->event_group[i] = HKA_NO_INDEX;
		hash[i] = hka_stack_hash(s, e);
		if (site->info.resolved && g->shared[e->loc])
			g->order[n++] = i;
	}
	qsort_r(g->order, n, sizeof(*g->order), hka_event_cmp, &sc);
	for (i = 0; i < n; i++) {
		const struct hka_event *e = HKA_VEC_AT(&s->events, struct hka_event, g->order[i]);
		struct hka_group *last = g->groups.n ?
			HKA_VEC_AT(&g->groups, struct hka_group, g->groups.n - 1) : NULL;
		const struct hka_event *prev = last ?
			HKA_VEC_AT(&s->events, struct hka_event, g->order[last->start]) : NULL;

		if (!last || prev->thread != e->thread || prev->site != e->site ||
		    prev->kind != e->kind || hash[g->order[last->start]] != hash[g->order[i]]) {
			last = hka_vec_push(&g->groups);
			if (!last)
				goto nomem;
			last->thread = e->thread;
			last->site = e->site;
			last->kind = e->kind;
			last->start = i;
		}
		last->end = i + 1;
		g->event_group[g->order[i]] = g->groups.n - 1;
	}
	free(hash);
	return 0;
nomem:
	free(hash);
	return -ENOMEM;
}

/* Intervals between the groups of one thread. */
static int hka_interval_thread(struct hka_pool *pool, void *arg, unsigned int worker,
			       size_t t, struct hka_error *err)
{
	struct hka_interval_ctx *c = arg;
	const struct hka_stream *s = c->s;
	const struct hka_group *groups = c->g->groups.data;
	uint32_t gs = c->thread_groups[t], ge = c->thread_groups[t + 1], i, j;
	struct hka_scratch same[2] = { { 0 }, { 0 } }, cross = { 0 };
	uint32_t last_site = HKA_NO_INDEX;
	unsigned int last_kind = 0;
	bool ran[2] = { false, false };
	int rc = 0;

	for (i = gs; i < ge && !rc; i++) {
		const struct hka_group *g1 = &groups[i];
		const struct hka_site *s1 = HKA_VEC_AT(&s->sites, struct hka_site, g1->site);
		const struct hka_event *r1 = HKA_VEC_AT(&s->events, struct hka_event,
							c->g->order[g1->start]);
		const struct hka_func *fn = &c->res->funcs[s1->info.func];

		/* groups of one site are adjacent: reuse its shortest paths */
		if (g1->site != last_site || g1->kind != last_kind) {
			last_site = g1->site;
			last_kind = g1->kind;
			ran[0] = ran[1] = false;
		}
		for (j = gs; j < ge; j++) {
			const struct hka_group *g2 = &groups[j];
			const struct hka_site *s2 = HKA_VEC_AT(&s->sites, struct hka_site, g2->site);
			const struct hka_event *r2 = HKA_VEC_AT(&s->events, struct hka_event,
								c->g->order[g2->start]);
			unsigned int block = hka_ord_bit(g1->kind, g2->kind);
			uint32_t d, via[2] = { HKA_NO_INDEX, HKA_NO_INDEX };
			struct hka_interval *iv;

			if (i == j || hka_access_orders(&s1->info, g1->kind, &s2->info, g2->kind))
				continue;
			/* one location on both sides cannot make an interval */
			if (g1->end - g1->start == 1 && g2->end - g2->start == 1 && r1->loc == r2->loc)
				continue;
			if (s2->info.func == s1->info.func && s2->info.insn != s1->info.insn) {
				struct hka_scratch *sc = &same[g2->kind];

				if (!ran[g2->kind]) {
					if (hka_scratch_fit(sc, fn->ninsn))
						goto nomem;
					hka_window_distances(fn, s1->info.insn, block, UINT32_MAX / 2,
							     sc->dist, sc->heap);
					ran[g2->kind] = true;
				}
				d = sc->dist[s2->info.insn];
			} else {
				/* a group's events share their stack: its first one stands */
				if (hka_scratch_fit(&cross, 1))
					goto nomem;
				d = hka_cross_distance(c, r1, r2, block, &cross, via);
			}
			if (d == UINT32_MAX)
				continue;
			if (d > c->res->cfg.window) {
				c->dropped[t]++;
				continue;
			}
			iv = hka_vec_push(&c->out[t]);
			if (!iv)
				goto nomem;
			iv->thread = t;
			iv->first = i;
			iv->second = j;
			iv->distance = d;
			iv->via[0] = via[0];
			iv->via[1] = via[1];
		}
		if (hka_pool_cancelled(pool))
			rc = -ECANCELED;
	}
	goto out;
nomem:
	hka_error_set(err, "out of memory");
	rc = -ENOMEM;
out:
	for (j = 0; j < 2; j++) {
		free(same[j].dist);
		free(same[j].heap);
	}
	free(cross.dist);
	free(cross.heap);
	return rc;
}

int hka_intervals_find(struct hka_stream *s, struct hka_result *res, struct hka_groups *g,
		       struct hka_vec *out, struct hka_error *err)
{
	size_t nt = s->threads.n, i;
	struct hka_interval_ctx c = { .s = s, .res = res, .g = g };
	int rc = -ENOMEM;

	if (hka_groups_build(s, g))
		goto out;
	c.shared = g->shared;
	c.thread_groups = calloc(nt + 2, sizeof(*c.thread_groups));
	c.out = calloc(nt + 1, sizeof(*c.out));
	c.dropped = calloc(nt + 1, sizeof(*c.dropped));
	if (!c.thread_groups || !c.out || !c.dropped)
		goto out;
	/* groups are sorted by thread: thread t owns [thread_groups[t], [t + 1]) */
	for (i = 0; i < g->groups.n; i++)
		c.thread_groups[HKA_VEC_AT(&g->groups, struct hka_group, i)->thread + 1]++;
	for (i = 0; i < nt; i++)
		c.thread_groups[i + 1] += c.thread_groups[i];
	for (i = 0; i < nt; i++)
		hka_vec_init(&c.out[i], sizeof(struct hka_interval));
	rc = hka_pool_run(&res->cfg, nt, hka_interval_thread, &c, err);
	for (i = 0; i < nt; i++) {
		size_t j;

		res->dropped_by_window += c.dropped[i];
		for (j = 0; !rc && j < c.out[i].n; j++) {
			struct hka_interval *iv = hka_vec_push(out);

			if (!iv) {
				rc = -ENOMEM;
				break;
			}
			*iv = *HKA_VEC_AT(&c.out[i], struct hka_interval, j);
		}
		hka_vec_free(&c.out[i]);
	}
	res->intervals = out->n;
out:
	if (rc == -ENOMEM && !err->msg[0])
		hka_error_set(err, "out of memory");
	free(c.thread_groups);
	free(c.out);
	free(c.dropped);
	return rc;
}
