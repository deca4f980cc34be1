// SPDX-License-Identifier: GPL-2.0
/*
 * Message passing through pointers, for test_pointee: the flag is an
 * _Atomic member (release store, acquire load: plain movs on x86, only
 * DWARF tells), a plain member, a member of an array of structs, an
 * _Atomic scalar, and a local pointer kept in a callee-saved register
 * across calls (shared memory mapped at run time). Built -O2 -g for x86-64
 * and arm64; each marked line has one access.
 */
#include <stdatomic.h>

#define READ_ONCE(x)		(*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))

struct msg {
	int data;
	_Atomic int flag;
	int pflag;
	union {
		atomic_int useq;
		int uplain;	/* disagrees with useq: no claim */
	};
};

struct ring {
	long head;
	struct {
		atomic_long seq;
		long val;
	} slot[4];
};

typedef struct msg msg_t;

__attribute__((noinline)) void writer_relacq(struct msg *m, int v)
{
	WRITE_ONCE(m->data, v);					/* @w_data */
	atomic_store_explicit(&m->flag, v, memory_order_release);	/* @w_flag */
}

__attribute__((noinline)) int reader_relacq(const msg_t *m)
{
	int f = atomic_load_explicit((_Atomic int *)&m->flag, memory_order_acquire);	/* @r_flag */
	int d = READ_ONCE(m->data);				/* @r_data */

	return f + d;
}

__attribute__((noinline)) void writer_plain(struct msg *m, int v)
{
	WRITE_ONCE(m->data, v);					/* @wp_data */
	WRITE_ONCE(m->pflag, v);				/* @wp_flag */
}

__attribute__((noinline)) int reader_plain(struct msg *m)
{
	int f = READ_ONCE(m->pflag);				/* @rp_flag */
	int d = READ_ONCE(m->data);				/* @rp_data */

	return f + d;
}

__attribute__((noinline)) int reader_relaxed(struct msg *m)
{
	return atomic_load_explicit(&m->flag, memory_order_relaxed);	/* @r_relaxed */
}

__attribute__((noinline)) void union_store(struct msg *m, int v)
{
	WRITE_ONCE(m->uplain, v);				/* @u_plain */
}

__attribute__((noinline)) void ring_publish(struct ring *r, long v)
{
	WRITE_ONCE(r->slot[2].val, v);				/* @ring_val */
	atomic_store_explicit(&r->slot[2].seq, v, memory_order_release);	/* @ring_seq */
}

__attribute__((noinline)) void scalar_release(atomic_int *p, int v)
{
	atomic_store_explicit(p, v, memory_order_release);	/* @scalar */
}

__attribute__((noinline)) void *opaque(void *p)
{
	__asm__ volatile("" : "+r"(p));
	return p;
}

__attribute__((noinline)) void count(void)
{
	__asm__ volatile("" ::: "memory");
}

/* m lives in a callee-saved register across the calls, as in a shm program */
__attribute__((noinline)) void loop_relacq(void *seg, int n)
{
	struct msg *m = opaque(seg);
	int i;

	for (i = 0; i < n; i++) {
		WRITE_ONCE(m->data, i);				/* @l_data */
		atomic_store_explicit(&m->flag, i, memory_order_release);	/* @l_flag */
		count();
	}
}

static struct msg shared;
static struct ring ring;

int main(int argc, char *argv[])
{
	writer_relacq(&shared, argc);
	writer_plain(&shared, argc);
	union_store(&shared, argc);
	ring_publish(&ring, argc);
	scalar_release(&shared.flag, argc);
	loop_relacq(&shared, argc);
	return reader_relacq(&shared) + reader_plain(&shared) + reader_relaxed(&shared);
}
