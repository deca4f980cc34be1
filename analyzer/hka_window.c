// SPDX-License-Identifier: GPL-2.0
/*
 * Window filter: a core can only reorder two accesses that are in flight
 * together, i.e. within its reorder buffer. The distance between two
 * accesses is the number of uops on the shortest static path between them
 * in the function's CFG (Dijkstra; weights from hka_code.c's estimate).
 *
 * Only forward edges are followed, except from a store to a load: a path
 * that needs a backward branch pairs accesses of different loop
 * iterations, which turned every loop into extra reversed cycles of the
 * same bug; W->R pairs only ever make SB, which has no reversed copy and
 * in polling loops only exists across the back edge.
 *
 * Presets are reorder-buffer sizes as published by Arm for each core (see
 * Documentation/hawkeyes/analysis.rst). The default is the largest common
 * server window: a migration scan must not miss a reorder on the biggest
 * core the code will run on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hka_priv.h"

static const struct hka_window_preset hka_presets[] = {
	{ "neoverse-n1", 128, "Arm Neoverse N1 (Graviton2, Ampere Altra): 128-entry ROB, Arm Neoverse N1 platform whitepaper / Hot Chips 31" },
	{ "neoverse-n2", 160, "Arm Neoverse N2 (Yitian 710, the Hawkeyes article's CPU): 160-entry ROB, Arm Hot Chips 33" },
	{ "neoverse-v1", 256, "Arm Neoverse V1 (Graviton3): 256-entry ROB, Arm Hot Chips 33" },
	{ "neoverse-v2", 320, "Arm Neoverse V2 (Graviton4, Grace): 320-entry ROB, Arm Hot Chips 35" },
	{ "default", 320, "same as neoverse-v2: the largest preset, so no reorder window is underestimated" },
};

const struct hka_window_preset *hka_window_presets(unsigned int *n)
{
	*n = ARRAY_SIZE(hka_presets);
	return hka_presets;
}

void hka_config_init(struct hka_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->window = hka_presets[4].uops;
	cfg->window_name = hka_presets[4].name;
	cfg->jobs = 1;
	cfg->fail_after = -1;
}

int hka_window_parse(const char *arg, struct hka_config *cfg, struct hka_error *err)
{
	unsigned int i, n;
	char *end;
	unsigned long v;

	hka_window_presets(&n);
	for (i = 0; i < n; i++) {
		if (!strcmp(arg, hka_presets[i].name)) {
			cfg->window = hka_presets[i].uops;
			cfg->window_name = hka_presets[i].name;
			return 0;
		}
	}
	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > 100000) {
		hka_error_set(err, "--window '%s': expected 1..100000 uops or a preset "
			      "(neoverse-n1, neoverse-n2, neoverse-v1, neoverse-v2, default)", arg);
		return -EINVAL;
	}
	cfg->window = v;
	cfg->window_name = NULL;
	return 0;
}

/* binary min-heap of instruction indexes keyed by dist[] */
static void hka_heap_push(uint32_t *heap, uint32_t *n, const uint32_t *dist, uint32_t v)
{
	uint32_t i = (*n)++;

	while (i && dist[heap[(i - 1) / 2]] > dist[v]) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = v;
}

static uint32_t hka_heap_pop(uint32_t *heap, uint32_t *n, const uint32_t *dist)
{
	uint32_t top = heap[0], last = heap[--(*n)], i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && dist[heap[c + 1]] < dist[heap[c]])
			c++;
		if (dist[heap[c]] >= dist[last])
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (*n)
		heap[i] = last;
	return top;
}

void hka_window_distances(const struct hka_func *fn, uint32_t a, unsigned int block,
			  uint32_t limit, uint32_t *dist, uint32_t *heap)
{
	uint32_t n = 0, i;

	for (i = 0; i < fn->ninsn; i++)
		dist[i] = UINT32_MAX;
	dist[a] = 0;
	hka_heap_push(heap, &n, dist, a);
	while (n) {
		uint32_t u = hka_heap_pop(heap, &n, dist), k;
		const struct hka_insn *in = &fn->insns[u];

		/* a barrier ends the path, except where the path starts */
		if (u != a && (in->order & block))
			continue;
		for (k = 0; k < 2; k++) {
			uint32_t v = in->succ[k], d = dist[u] + in->uops;

			/*
			 * A backward branch closes a loop: intervals stay within
			 * one iteration (analysis.rst, limits), except store ->
			 * load. Only SB is made of W->R pairs, so no other pattern
			 * gains reversed copies, and the end of one iteration
			 * before the start of the next is where a polling loop
			 * has its SB: a ring publishes its index, then reads the
			 * other side's.
			 */
			if (v == HKA_NO_INDEX || (v <= u && block != HKA_ORD_WR) || d > limit ||
			    d >= dist[v])
				continue;
			/* stale entries are harmless (they relax nothing); the heap
			 * holds at most one entry per successful relaxation: 2n+1 */
			dist[v] = d;
			hka_heap_push(heap, &n, dist, v);
		}
	}
}
