// SPDX-License-Identifier: GPL-2.0
/*
 * Worker pool: N threads take task indexes from a shared counter. Rules
 * (the DynamoRIO lessons, Documentation/hawkeyes/analysis.rst):
 *
 * 1. The lock only guards the counter and the first error; nobody waits or
 *    runs a task while holding it.
 * 2. Nobody spins: the caller sleeps in pthread_join() until each worker
 *    has returned.
 * 3. A failing task records its error, raises "failed" and returns; every
 *    worker checks the flag before taking a task and long tasks poll
 *    hka_pool_cancelled(), so the run ends promptly with that error.
 *
 * Tasks write results only to slots indexed by their task number, so the
 * caller merges them in task order: output never depends on the worker count.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hka_priv.h"

struct hka_pool {
	pthread_mutex_t lock;	/* protects next and err */
	size_t next, ntasks;
	atomic_bool failed;
	atomic_int done;	/* tasks finished, for fault injection */
	int fail_after;
	hka_task_fn fn;
	void *ctx;
	struct hka_error err;
};

struct hka_worker {
	struct hka_pool *p;
	unsigned int id;
};

bool hka_pool_cancelled(struct hka_pool *p)
{
	return atomic_load_explicit(&p->failed, memory_order_relaxed);
}

static void hka_pool_fail(struct hka_pool *p, const struct hka_error *err)
{
	pthread_mutex_lock(&p->lock);
	if (!atomic_load(&p->failed)) {
		p->err = *err;
		atomic_store(&p->failed, true);
	}
	pthread_mutex_unlock(&p->lock);
}

static void *hka_pool_worker(void *arg)
{
	struct hka_worker *w = arg;
	struct hka_pool *p = w->p;
	struct hka_error err = { "" };

	for (;;) {
		size_t task;
		int rc;

		pthread_mutex_lock(&p->lock);
		if (atomic_load(&p->failed) || p->next >= p->ntasks) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		task = p->next++;
		pthread_mutex_unlock(&p->lock);

		if (p->fail_after >= 0 && atomic_fetch_add(&p->done, 1) == p->fail_after) {
			hka_error_set(&err, "worker %u: injected fault in task %zu", w->id, task);
			hka_pool_fail(p, &err);
			break;
		}
		rc = p->fn(p, p->ctx, w->id, task, &err);
		if (rc) {
			if (rc == -ECANCELED)
				break;
			hka_pool_fail(p, &err);
			break;
		}
	}
	return NULL;
}

unsigned int hka_pool_jobs(const struct hka_config *cfg, size_t ntasks)
{
	unsigned int jobs = cfg && cfg->jobs ? cfg->jobs : 1;

	if (jobs > HKA_MAX_JOBS)
		jobs = HKA_MAX_JOBS;
	if (ntasks && jobs > ntasks)
		jobs = ntasks;
	return jobs ? jobs : 1;
}

int hka_pool_run(const struct hka_config *cfg, size_t ntasks, hka_task_fn fn, void *ctx,
		 struct hka_error *err)
{
	unsigned int jobs = hka_pool_jobs(cfg, ntasks), started, i;
	struct hka_worker workers[HKA_MAX_JOBS];
	pthread_t tids[HKA_MAX_JOBS];
	struct hka_pool p = {
		.ntasks = ntasks,
		.fn = fn,
		.ctx = ctx,
		.fail_after = cfg ? cfg->fail_after : -1,
	};
	int rc = 0;

	pthread_mutex_init(&p.lock, NULL);
	atomic_init(&p.failed, false);
	atomic_init(&p.done, 0);
	/* worker 0 is the calling thread: --jobs 1 creates no thread at all */
	for (started = 1; started < jobs; started++) {
		workers[started] = (struct hka_worker){ &p, started };
		rc = pthread_create(&tids[started], NULL, hka_pool_worker, &workers[started]);
		if (rc) {
			struct hka_error e;

			hka_error_set(&e, "cannot start worker %u: %s", started, strerror(rc));
			hka_pool_fail(&p, &e);
			break;
		}
	}
	workers[0] = (struct hka_worker){ &p, 0 };
	hka_pool_worker(&workers[0]);
	for (i = 1; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&p.lock);
	if (atomic_load(&p.failed)) {
		if (err)
			*err = p.err;
		return -ECANCELED;
	}
	return 0;
}
