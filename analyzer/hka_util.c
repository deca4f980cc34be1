// SPDX-License-Identifier: GPL-2.0
/*
 * Small containers shared by the stages: error text, growable arrays, a hash
 * map over 128-bit keys and a string arena. Nothing here locks; each user
 * owns its containers or only reads shared ones after they are built.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hka_priv.h"

void hka_error_set(struct hka_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

void hka_vec_init(struct hka_vec *v, size_t elem)
{
	v->data = NULL;
	v->n = 0;
	v->cap = 0;
	v->elem = elem;
}

void *hka_vec_push(struct hka_vec *v)
{
	void *p;

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *d = realloc(v->data, cap * v->elem);

		if (!d)
			return NULL;
		v->data = d;
		v->cap = cap;
	}
	p = (char *)v->data + v->n++ * v->elem;
	memset(p, 0, v->elem);
	return p;
}

void hka_vec_free(struct hka_vec *v)
{
	free(v->data);
	hka_vec_init(v, v->elem);
}

static inline uint64_t hka_mix(uint64_t k1, uint64_t k2)
{
	uint64_t h = k1 * 0x9e3779b97f4a7c15ULL ^ (k2 + 0x632be59bd9b4e019ULL);

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 29;
	return h;
}

void hka_map_init(struct hka_map *m)
{
	m->slots = NULL;
	m->n = 0;
	m->cap = 0;
}

void hka_map_free(struct hka_map *m)
{
	free(m->slots);
	hka_map_init(m);
}

uint32_t hka_map_get(const struct hka_map *m, uint64_t k1, uint64_t k2)
{
	size_t i;

	if (!m->cap)
		return HKA_NO_INDEX;
	for (i = hka_mix(k1, k2) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		const struct hka_map_slot *sl = &m->slots[i];

		if (sl->val == HKA_NO_INDEX)
			return HKA_NO_INDEX;
		if (sl->k1 == k1 && sl->k2 == k2)
			return sl->val;
	}
}

static int hka_map_grow(struct hka_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64, i, j;
	struct hka_map_slot *sl = malloc(cap * sizeof(*sl));

	if (!sl)
		return -ENOMEM;
	for (i = 0; i < cap; i++)
		sl[i].val = HKA_NO_INDEX;
	for (i = 0; i < m->cap; i++) {
		if (m->slots[i].val == HKA_NO_INDEX)
			continue;
		for (j = hka_mix(m->slots[i].k1, m->slots[i].k2) & (cap - 1);
		     sl[j].val != HKA_NO_INDEX; j = (j + 1) & (cap - 1))
			;
		sl[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = sl;
	m->cap = cap;
	return 0;
}

uint32_t hka_map_put(struct hka_map *m, uint64_t k1, uint64_t k2, uint32_t val)
{
	size_t i;

	/* keep the load under 1/2 so probes stay short */
	if ((m->n + 1) * 2 > m->cap && hka_map_grow(m))
		return HKA_NO_INDEX;
	for (i = hka_mix(k1, k2) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct hka_map_slot *sl = &m->slots[i];

		if (sl->val == HKA_NO_INDEX) {
			sl->k1 = k1;
			sl->k2 = k2;
			sl->val = val;
			m->n++;
			return val;
		}
		if (sl->k1 == k1 && sl->k2 == k2)
			return sl->val;
	}
}

struct hka_arena_block {
	struct hka_arena_block *next;
	size_t used, cap;
	char data[];
};

char *hka_arena_strdup(struct hka_arena *a, const char *s)
{
	size_t len = strlen(s) + 1;
	struct hka_arena_block *b = a->head;
	char *p;

	if (!b || b->cap - b->used < len) {
		size_t cap = len > 16384 ? len : 16384;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	memcpy(p, s, len);
	b->used += len;
	return p;
}

void hka_arena_free(struct hka_arena *a)
{
	while (a->head) {
		struct hka_arena_block *b = a->head;

		a->head = b->next;
		free(b);
	}
}
