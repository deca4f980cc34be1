// SPDX-License-Identifier: GPL-2.0
/*
 * The access stream: the one representation every input produces and the
 * analysis consumes. Accesses are folded into distinct events (thread, site,
 * location, kind): the analysis is about static instructions, so a race seen
 * a million times costs one event. Conflicts are either given by the input
 * (a TSan report is exactly one unordered pair) or derived from locations
 * (two threads, one writes) when the input gives plain accesses.
 */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hka_priv.h"

struct hka_stream *hka_stream_new(void)
{
	struct hka_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	hka_vec_init(&s->modules, sizeof(struct hka_module));
	hka_vec_init(&s->sites, sizeof(struct hka_site));
	hka_vec_init(&s->locs, sizeof(struct hka_location));
	hka_vec_init(&s->threads, sizeof(struct hka_thread));
	hka_vec_init(&s->events, sizeof(struct hka_event));
	hka_vec_init(&s->conflicts, sizeof(struct hka_conflict));
	hka_vec_init(&s->inputs, sizeof(const char *));
	hka_vec_init(&s->buffers, sizeof(void *));
	hka_vec_init(&s->binaries, sizeof(const char *));
	hka_vec_init(&s->stacks, sizeof(uint32_t));
	return s;
}

void hka_stream_free(struct hka_stream *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->buffers.n; i++)
		free(*HKA_VEC_AT(&s->buffers, void *, i));
	hka_vec_free(&s->modules);
	hka_vec_free(&s->sites);
	hka_vec_free(&s->locs);
	hka_vec_free(&s->threads);
	hka_vec_free(&s->events);
	hka_vec_free(&s->conflicts);
	hka_vec_free(&s->inputs);
	hka_vec_free(&s->buffers);
	hka_vec_free(&s->binaries);
	hka_vec_free(&s->stacks);
	hka_map_free(&s->site_map);
	hka_map_free(&s->loc_map);
	hka_map_free(&s->thread_map);
	hka_map_free(&s->event_map);
	hka_map_free(&s->conflict_map);
	hka_arena_free(&s->arena);
	free(s);
}

int hka_stream_own(struct hka_stream *s, void *buf)
{
	void **p = hka_vec_push(&s->buffers);

	if (!p)
		return -ENOMEM;
	*p = buf;
	return 0;
}

unsigned int hka_stream_begin_input(struct hka_stream *s, const char *name)
{
	const char **p = hka_vec_push(&s->inputs);

	if (p)
		*p = hka_arena_strdup(&s->arena, name);
	return s->inputs.n - 1;
}

unsigned long hka_stream_accesses(const struct hka_stream *s)
{
	return s->accesses;
}

int hka_stream_add_binary(struct hka_stream *s, const char *path, struct hka_error *err)
{
	const char **p;

	if (access(path, R_OK)) {
		hka_error_set(err, "cannot read binary '%s': %s", path, strerror(errno));
		return -errno;
	}
	p = hka_vec_push(&s->binaries);
	if (p)
		*p = hka_arena_strdup(&s->arena, path);
	if (!p || !*p) {
		hka_error_set(err, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

uint32_t hka_stream_module(struct hka_stream *s, const char *name)
{
	struct hka_module *m;
	size_t i;

	/* few modules per run: a linear scan beats hashing names */
	for (i = 0; i < s->modules.n; i++)
		if (!strcmp(HKA_VEC_AT(&s->modules, struct hka_module, i)->name, name))
			return i;
	m = hka_vec_push(&s->modules);
	if (!m)
		return HKA_NO_INDEX;
	m->name = hka_arena_strdup(&s->arena, name);
	if (!m->name) {
		s->modules.n--;
		return HKA_NO_INDEX;
	}
	return s->modules.n - 1;
}

static uint64_t hka_str_hash(const char *p)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*p)
		h = (h ^ (unsigned char)*p++) * 0x100000001b3ULL;
	return h;
}

static uint32_t hka_stream_thread(struct hka_stream *s, const char *name)
{
	uint32_t input = s->inputs.n ? s->inputs.n - 1 : 0;
	uint64_t h = hka_str_hash(name);
	uint32_t i = hka_map_get(&s->thread_map, input, h);
	struct hka_thread *t;

	if (i != HKA_NO_INDEX)
		return i;
	t = hka_vec_push(&s->threads);
	if (!t)
		return HKA_NO_INDEX;
	t->input = input;
	t->name = hka_arena_strdup(&s->arena, name);
	if (!t->name || hka_map_put(&s->thread_map, input, h, s->threads.n - 1) == HKA_NO_INDEX) {
		s->threads.n--;
		return HKA_NO_INDEX;
	}
	return s->threads.n - 1;
}

static uint32_t hka_stream_site(struct hka_stream *s, const struct hka_frame *f)
{
	uint32_t mod = hka_stream_module(s, f->module), i;
	struct hka_site *site;

	if (mod == HKA_NO_INDEX)
		return HKA_NO_INDEX;
	i = hka_map_get(&s->site_map, mod, f->offset);
	if (i != HKA_NO_INDEX)
		return i;
	site = hka_vec_push(&s->sites);
	if (!site)
		return HKA_NO_INDEX;
	site->module = mod;
	site->offset = f->offset;
	site->in_line = f->line;
	if (f->function)
		site->in_function = hka_arena_strdup(&s->arena, f->function);
	if (f->file)
		site->in_file = hka_arena_strdup(&s->arena, f->file);
	if (hka_map_put(&s->site_map, mod, f->offset, s->sites.n - 1) == HKA_NO_INDEX) {
		s->sites.n--;
		return HKA_NO_INDEX;
	}
	return s->sites.n - 1;
}

static uint32_t hka_stream_location(struct hka_stream *s, uint64_t addr, unsigned int size)
{
	uint32_t input = s->inputs.n ? s->inputs.n - 1 : 0;
	uint32_t i = hka_map_get(&s->loc_map, input, addr);
	struct hka_location *l;

	if (i != HKA_NO_INDEX) {
		l = HKA_VEC_AT(&s->locs, struct hka_location, i);
		if (size > l->size)
			l->size = size;
		return i;
	}
	l = hka_vec_push(&s->locs);
	if (!l)
		return HKA_NO_INDEX;
	l->input = input;
	l->addr = addr;
	l->size = size;
	if (hka_map_put(&s->loc_map, input, addr, s->locs.n - 1) == HKA_NO_INDEX) {
		s->locs.n--;
		return HKA_NO_INDEX;
	}
	return s->locs.n - 1;
}

static uint32_t hka_stream_event(struct hka_stream *s, const struct hka_access *a,
				 struct hka_error *err)
{
	uint32_t thread, site, loc, i;
	struct hka_event *ev;
	uint64_t k1, k2;
	unsigned int k;

	if (!a->nframes || !a->frames[0].module || !a->thread) {
		hka_error_set(err, "access without thread or instruction address");
		return HKA_NO_INDEX;
	}
	thread = hka_stream_thread(s, a->thread);
	site = hka_stream_site(s, &a->frames[0]);
	loc = hka_stream_location(s, a->addr, a->size);
	if (thread == HKA_NO_INDEX || site == HKA_NO_INDEX || loc == HKA_NO_INDEX)
		goto nomem;
	s->accesses++;
	k1 = (uint64_t)thread << 32 | site;
	k2 = (uint64_t)loc << 2 | (uint64_t)a->kind << 1 | a->atomic;
	i = hka_map_get(&s->event_map, k1, k2);
	if (i != HKA_NO_INDEX)
		return i;
	ev = hka_vec_push(&s->events);
	if (!ev)
		goto nomem;
	ev->thread = thread;
	ev->site = site;
	ev->loc = loc;
	ev->kind = a->kind;
	ev->atomic = a->atomic;
	/* callers: pairs in different functions meet in a common caller */
	ev->stack = s->stacks.n;
	for (k = 1; k < a->nframes && a->frames[k].module; k++) {
		uint32_t site_k = hka_stream_site(s, &a->frames[k]), *p;

		if (site_k == HKA_NO_INDEX)
			goto nomem;
		p = hka_vec_push(&s->stacks);
		if (!p)
			goto nomem;
		*p = site_k;
		ev = HKA_VEC_AT(&s->events, struct hka_event, s->events.n - 1);
		ev->nstack++;
	}
	if (hka_map_put(&s->event_map, k1, k2, s->events.n - 1) == HKA_NO_INDEX) {
		s->events.n--;
		goto nomem;
	}
	return s->events.n - 1;
nomem:
	hka_error_set(err, "out of memory");
	return HKA_NO_INDEX;
}

int hka_stream_add_access(struct hka_stream *s, const struct hka_access *a,
			  struct hka_error *err)
{
	return hka_stream_event(s, a, err) == HKA_NO_INDEX ? -ENOMEM : 0;
}

int hka_stream_add_conflict(struct hka_stream *s, const struct hka_access *a,
			    const struct hka_access *b, struct hka_error *err)
{
	uint32_t ea = hka_stream_event(s, a, err), eb, lo, hi;
	struct hka_conflict *c;

	if (ea == HKA_NO_INDEX)
		return -ENOMEM;
	eb = hka_stream_event(s, b, err);
	if (eb == HKA_NO_INDEX)
		return -ENOMEM;
	s->explicit_conflicts = true;
	lo = ea < eb ? ea : eb;
	hi = ea < eb ? eb : ea;
	if (hka_map_get(&s->conflict_map, lo, hi) != HKA_NO_INDEX)
		return 0;
	c = hka_vec_push(&s->conflicts);
	if (!c || hka_map_put(&s->conflict_map, lo, hi, s->conflicts.n - 1) == HKA_NO_INDEX) {
		hka_error_set(err, "out of memory");
		return -ENOMEM;
	}
	c->a = lo;
	c->b = hi;
	return 0;
}

bool hka_stream_conflicting(const struct hka_stream *s, uint32_t ea, uint32_t eb)
{
	const struct hka_event *a = HKA_VEC_AT(&s->events, struct hka_event, ea);
	const struct hka_event *b = HKA_VEC_AT(&s->events, struct hka_event, eb);

	if (a->thread == b->thread || a->loc != b->loc)
		return false;
	if (s->explicit_conflicts)
		return hka_map_get(&s->conflict_map, ea < eb ? ea : eb,
				   ea < eb ? eb : ea) != HKA_NO_INDEX;
	return a->kind == HKA_WRITE || b->kind == HKA_WRITE;
}

static uint32_t hka_uf_find(uint32_t *parent, uint32_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

static void hka_uf_union(uint32_t *parent, uint32_t a, uint32_t b)
{
	a = hka_uf_find(parent, a);
	b = hka_uf_find(parent, b);
	/* the smaller index represents the class: independent of merge order */
	if (a < b)
		parent[b] = a;
	else if (b < a)
		parent[a] = b;
}

static int hka_loc_cmp(const void *pa, const void *pb, void *arg)
{
	const struct hka_location *l = arg;
	const struct hka_location *a = &l[*(const uint32_t *)pa], *b = &l[*(const uint32_t *)pb];

	if (a->input != b->input)
		return a->input < b->input ? -1 : 1;
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

/*
 * A wide store and a narrow load inside it race on one object but carry
 * different addresses: fold locations whose byte ranges overlap (same
 * input), and the two sides of every explicit conflict, into one
 * location, so that the matching compares objects, not addresses.
 */
int hka_stream_merge_locations(struct hka_stream *s, struct hka_error *err)
{
	size_t n = s->locs.n, i;
	uint32_t *parent = malloc((n + 1) * sizeof(*parent));
	uint32_t *order = malloc((n + 1) * sizeof(*order));
	const struct hka_location *locs = s->locs.data;
	uint64_t end = 0;
	uint32_t open = HKA_NO_INDEX;

	if (!parent || !order) {
		free(parent);
		free(order);
		hka_error_set(err, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		parent[i] = order[i] = i;
	qsort_r(order, n, sizeof(*order), hka_loc_cmp, (void *)locs);
	for (i = 0; i < n; i++) {
		const struct hka_location *l = &locs[order[i]];

		if (open != HKA_NO_INDEX && locs[open].input == l->input && l->addr < end)
			hka_uf_union(parent, open, order[i]);
		else
			open = order[i], end = 0;
		if (l->addr + (l->size ? l->size : 1) > end)
			end = l->addr + (l->size ? l->size : 1);
	}
	for (i = 0; i < s->conflicts.n; i++) {
		const struct hka_conflict *c = HKA_VEC_AT(&s->conflicts, struct hka_conflict, i);

		hka_uf_union(parent, HKA_VEC_AT(&s->events, struct hka_event, c->a)->loc,
			     HKA_VEC_AT(&s->events, struct hka_event, c->b)->loc);
	}
	for (i = 0; i < s->events.n; i++) {
		struct hka_event *e = HKA_VEC_AT(&s->events, struct hka_event, i);

		e->loc = hka_uf_find(parent, e->loc);
	}
	free(parent);
	free(order);
	return 0;
}
