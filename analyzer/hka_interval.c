// SPDX-License-Identifier: GPL-2.0
/*
 * Intervals: per thread, ordered pairs (first, second) of its events on
 * different locations such that second is reachable from first inside the
 * window and nothing on that path, nor the accesses themselves, already
 * orders that kind of pair (W->W, R->R, R->W, W->R). One task per thread;
 * each writes its own slot, merged in thread order.
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
	uint32_t **by_thread;	/* event lists per thread */
	uint32_t *nby_thread;
	struct hka_vec *out;	/* per thread */
	unsigned long *dropped;	/* per thread */
	uint8_t *shared;	/* per location: conflicting accesses exist */
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

/* Events of a thread ordered by (site, kind, location): runs share a source. */
static int hka_event_cmp(const void *pa, const void *pb, void *arg)
{
	const struct hka_stream *s = arg;
	const struct hka_event *a = HKA_VEC_AT(&s->events, struct hka_event, *(const uint32_t *)pa);
	const struct hka_event *b = HKA_VEC_AT(&s->events, struct hka_event, *(const uint32_t *)pb);

	if (a->site != b->site)
		return a->site < b->site ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->loc != b->loc)
		return a->loc < b->loc ? -1 : 1;
	return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

static int hka_interval_thread(struct hka_pool *pool, void *arg, unsigned int worker,
			       size_t t, struct hka_error *err)
{
	struct hka_interval_ctx *c = arg;
	const struct hka_stream *s = c->s;
	uint32_t *ev = c->by_thread[t], n = c->nby_thread[t], i, j;
	struct hka_scratch same[2] = { { 0 }, { 0 } }, cross = { 0 };
	uint32_t last_site = HKA_NO_INDEX, *end = NULL;
	unsigned int last_kind = 0;
	bool ran[2] = { false, false };
	int rc = 0;

	/*
	 * Many events share a site (one instruction, many addresses): sorted
	 * by site, consecutive first accesses reuse one shortest-path run per
	 * kind of the second access instead of one per event.
	 */
	qsort_r(ev, n, sizeof(*ev), hka_event_cmp, (void *)s);
	end = malloc((n + 1) * sizeof(*end));
	if (!end)
		goto nomem;
	/* end[i]: first index past the (site, kind) group that starts at i */
	for (i = n; i-- > 0;) {
		const struct hka_event *a = HKA_VEC_AT(&s->events, struct hka_event, ev[i]);
		const struct hka_event *b = i + 1 < n ?
			HKA_VEC_AT(&s->events, struct hka_event, ev[i + 1]) : NULL;

		end[i] = b && b->site == a->site && b->kind == a->kind ? end[i + 1] : i + 1;
	}
	for (i = 0; i < n && !rc; i++) {
		const struct hka_event *e1 = HKA_VEC_AT(&s->events, struct hka_event, ev[i]);
		const struct hka_site *s1 = HKA_VEC_AT(&s->sites, struct hka_site, e1->site);
		const struct hka_func *fn;
		unsigned int kind2;

		if (!s1->info.resolved || !c->shared[e1->loc])
			continue;
		fn = &c->res->funcs[s1->info.func];
		if (e1->site != last_site || e1->kind != last_kind) {
			last_site = e1->site;
			last_kind = e1->kind;
			ran[0] = ran[1] = false;
		}
		for (kind2 = HKA_READ; kind2 <= HKA_WRITE && !rc; kind2++) {
			unsigned int block = hka_ord_bit(e1->kind, kind2);
			struct hka_scratch *sc = &same[kind2];

			/* j walks groups of one (site, kind); jj the events in it */
			for (j = 0; j < n; j = end[j]) {
				const struct hka_event *e2 = HKA_VEC_AT(&s->events, struct hka_event, ev[j]);
				const struct hka_site *s2 = HKA_VEC_AT(&s->sites, struct hka_site, e2->site);
				bool same_fn = s2->info.func == s1->info.func &&
					       s2->info.insn != s1->info.insn;
				uint32_t d = UINT32_MAX, jj;

				if (e2->kind != kind2 || !s2->info.resolved)
					continue;
				if (hka_access_orders(&s1->info, e1->kind, &s2->info, e2->kind))
					continue;
				if (same_fn) {
					if (!ran[kind2]) {
						if (hka_scratch_fit(sc, fn->ninsn))
							goto nomem;
						hka_window_distances(fn, s1->info.insn, block,
								     UINT32_MAX / 2, sc->dist, sc->heap);
						ran[kind2] = true;
					}
					d = sc->dist[s2->info.insn];
					if (d == UINT32_MAX)
						continue;
				}
				for (jj = j; jj < end[j]; jj++) {
					struct hka_interval *iv;
					uint32_t via[2] = { HKA_NO_INDEX, HKA_NO_INDEX };

					e2 = HKA_VEC_AT(&s->events, struct hka_event, ev[jj]);
					if (e2->loc == e1->loc || !c->shared[e2->loc])
						continue;
					if (!same_fn) {
						if (hka_scratch_fit(&cross, 1))
							goto nomem;
						d = hka_cross_distance(c, e1, e2, block, &cross, via);
						if (d == UINT32_MAX)
							continue;
					}
					if (d > c->res->cfg.window) {
						c->dropped[t]++;
						continue;
					}
					iv = hka_vec_push(&c->out[t]);
					if (!iv)
						goto nomem;
					iv->thread = t;
					iv->first = ev[i];
					iv->second = ev[jj];
					iv->distance = d;
					iv->via[0] = via[0];
					iv->via[1] = via[1];
				}
			}
		}
		if (hka_pool_cancelled(pool))
			rc = -ECANCELED;
	}
	goto out;
nomem:
	hka_error_set(err, "out of memory");
	rc = -ENOMEM;
out:
	free(end);
	for (j = 0; j < 2; j++) {
		free(same[j].dist);
		free(same[j].heap);
	}
	free(cross.dist);
	free(cross.heap);
	return rc;
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

int hka_intervals_find(struct hka_stream *s, struct hka_result *res, struct hka_vec *out,
		       struct hka_error *err)
{
	size_t nt = s->threads.n, i;
	struct hka_interval_ctx c = { .s = s, .res = res };
	int rc = -ENOMEM;

	c.by_thread = calloc(nt + 1, sizeof(*c.by_thread));
	c.nby_thread = calloc(nt + 1, sizeof(*c.nby_thread));
	c.out = calloc(nt + 1, sizeof(*c.out));
	c.dropped = calloc(nt + 1, sizeof(*c.dropped));
	c.shared = hka_shared_locations(s);
	if (!c.by_thread || !c.nby_thread || !c.out || !c.dropped || !c.shared)
		goto out;
	for (i = 0; i < s->events.n; i++)
		c.nby_thread[HKA_VEC_AT(&s->events, struct hka_event, i)->thread]++;
	for (i = 0; i < nt; i++) {
		c.by_thread[i] = malloc((c.nby_thread[i] + 1) * sizeof(uint32_t));
		if (!c.by_thread[i])
			goto out;
		c.nby_thread[i] = 0;
		hka_vec_init(&c.out[i], sizeof(struct hka_interval));
	}
	for (i = 0; i < s->events.n; i++) {
		uint32_t t = HKA_VEC_AT(&s->events, struct hka_event, i)->thread;

		c.by_thread[t][c.nby_thread[t]++] = i;
	}
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
	for (i = 0; c.by_thread && i < nt; i++)
		free(c.by_thread[i]);
	free(c.by_thread);
	free(c.nby_thread);
	free(c.out);
	free(c.dropped);
	free(c.shared);
	return rc;
}
