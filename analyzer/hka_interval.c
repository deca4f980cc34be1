// SPDX-License-Identifier: GPL-2.0
/*
 * Intervals: per thread, ordered pairs (first, second) of its events on
 * different locations such that second is reachable from first inside the
 * window and nothing on that path, nor the accesses themselves, already
 * orders that kind of pair (W->W, R->R, R->W, W->R). One task per thread;
 * each writes its own slot, merged in thread order.
 *
 * Only events of locations that really conflict count, and the two
 * accesses must be in one function (inlined code is one function): calls
 * are not followed (Documentation/hawkeyes/analysis.rst, limits).
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

static int hka_interval_thread(struct hka_pool *pool, void *arg, unsigned int worker,
			       size_t t, struct hka_error *err)
{
	struct hka_interval_ctx *c = arg;
	const struct hka_stream *s = c->s;
	uint32_t *ev = c->by_thread[t], n = c->nby_thread[t], i, j;
	uint32_t *dist = NULL, *heap = NULL, cap = 0;
	int rc = 0;

	for (i = 0; i < n && !rc; i++) {
		const struct hka_event *e1 = HKA_VEC_AT(&s->events, struct hka_event, ev[i]);
		const struct hka_site *s1 = HKA_VEC_AT(&s->sites, struct hka_site, e1->site);
		const struct hka_func *fn;
		unsigned int kind2;

		if (!s1->info.resolved || !c->shared[e1->loc])
			continue;
		fn = &c->res->funcs[s1->info.func];
		if (fn->ninsn > cap) {
			free(dist);
			free(heap);
			cap = fn->ninsn;
			dist = malloc(cap * sizeof(*dist));
			heap = malloc((2 * cap + 2) * sizeof(*heap));
			if (!dist || !heap) {
				hka_error_set(err, "out of memory");
				rc = -ENOMEM;
				break;
			}
		}
		/* one shortest-path run per kind of the second access */
		for (kind2 = HKA_READ; kind2 <= HKA_WRITE && !rc; kind2++) {
			unsigned int block = hka_ord_bit(e1->kind, kind2);
			bool ran = false;

			for (j = 0; j < n; j++) {
				const struct hka_event *e2 = HKA_VEC_AT(&s->events, struct hka_event, ev[j]);
				const struct hka_site *s2 = HKA_VEC_AT(&s->sites, struct hka_site, e2->site);
				struct hka_interval *iv;
				uint32_t d;

				if (e2->kind != kind2 || e2->loc == e1->loc || !c->shared[e2->loc] ||
				    !s2->info.resolved || s2->info.func != s1->info.func ||
				    s2->info.insn == s1->info.insn)
					continue;
				if (hka_access_orders(&s1->info, e1->kind, &s2->info, e2->kind))
					continue;
				if (!ran) {
					hka_window_distances(fn, s1->info.insn, block, UINT32_MAX / 2,
							     dist, heap);
					ran = true;
				}
				d = dist[s2->info.insn];
				if (d == UINT32_MAX)
					continue;
				if (d > c->res->cfg.window) {
					c->dropped[t]++;
					continue;
				}
				iv = hka_vec_push(&c->out[t]);
				if (!iv) {
					hka_error_set(err, "out of memory");
					rc = -ENOMEM;
					break;
				}
				iv->thread = t;
				iv->first = ev[i];
				iv->second = ev[j];
				iv->distance = d;
			}
		}
		if (hka_pool_cancelled(pool))
			rc = -ECANCELED;
	}
	free(dist);
	free(heap);
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
