/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one kernel front end of hkctl: everything libnl is hidden behind
 * hk_nl_*(). Functions return 0 or a negative errno; when the kernel
 * refused a request, hk_nl_errmsg() holds its extack message.
 *
 * Two kinds of handle, as ethtool keeps request and notification sockets
 * apart: a plain one for queries (status, sessions, detach), and a session
 * one, made by hk_nl_attach(), to which the module unicasts the session's
 * RECORDS and END notifications. A session handle is read with
 * hk_nl_recv() whenever hk_nl_fd() is readable; closing it (or the process
 * dying) ends the session in the module.
 */
#ifndef _HK_NL_H
#define _HK_NL_H

#include <stddef.h>
#include <stdint.h>

#include "../kmod/uapi/hawkeyes.h"

struct hk_nl;

int hk_nl_open(struct hk_nl **out);
void hk_nl_close(struct hk_nl *nl);
const char *hk_nl_errmsg(const struct hk_nl *nl);

/* Print "hkctl CMD: WHAT: strerror[: extack]" for a failed call. */
void hk_nl_perror(const struct hk_nl *nl, const char *cmd, const char *what, int err);

struct hk_nl_status {
	uint32_t version;
	uint32_t sessions;
	uint32_t max_sessions;		/* 0 when the module did not say */
	uint32_t max_regions;
	uint32_t max_region_bytes;
	uint32_t max_buffer_kb;
};

int hk_nl_get_status(struct hk_nl *nl, struct hk_nl_status *st);

#define HK_NL_MAX_REGIONS 64	/* regions kept in a struct hk_nl_session */

/* A session's status, from %HK_A_SESSION. Fields the module left out are 0. */
struct hk_nl_session {
	uint32_t id;
	uint32_t pid;
	uint32_t mode;
	uint32_t access;
	uint32_t rotate_ms;
	uint32_t budget;
	uint32_t buffer;
	uint32_t slots;
	uint32_t units;
	uint32_t threads;
	uint32_t watchpoints;
	uint32_t reg_fails;
	uint64_t region_bytes;
	uint64_t hits;
	uint64_t records;
	uint64_t lost;
	uint64_t throttled;
	uint64_t rotations;
	uint64_t coverage;
	uint64_t disables;
	uint64_t elapsed_ns;
	uint32_t page_budget;		/* page mode: faults/s */
	uint32_t pages;			/* page mode: pages covering the regions */
	uint32_t armed;			/* page mode: entries armed after the last pass */
	uint64_t arms;			/* page mode: entries armed so far */
	uint64_t uaccess;		/* page mode: faults taken in syscalls */
	uint32_t procs;			/* watch: processes mapping a segment now */
	uint32_t segments;		/* watch: segments watched */
	uint32_t nregions;		/* regions reported (may exceed HK_NL_MAX_REGIONS) */
	struct {
		uint64_t start;
		uint64_t len;
	} regions[HK_NL_MAX_REGIONS];
};

int hk_nl_get_session(struct hk_nl *nl, uint32_t id, struct hk_nl_session *s);

/* Dump every session the caller may see; @cb is called for each. */
int hk_nl_dump_sessions(struct hk_nl *nl,
			void (*cb)(const struct hk_nl_session *s, void *arg), void *arg);

int hk_nl_detach(struct hk_nl *nl, uint32_t id);

/*
 * Watch @n more regions ({ start, len }) of session @id
 * (%HK_CMD_ADD_REGIONS); on success @s is the session as it is now.
 */
int hk_nl_add_regions(struct hk_nl *nl, uint32_t id, const uint64_t (*regions)[2], size_t n,
		      struct hk_nl_session *s);

/* What to attach to. Zero option fields mean "module default, not sent". */
struct hk_nl_attach_req {
	uint32_t pid;
	uint32_t mode;			/* enum hk_mode; 0 = default */
	uint32_t access;		/* enum hk_access; 0 = default */
	int rotate_set;			/* send rotate_ms even when 0 (= off) */
	uint32_t rotate_ms;
	uint32_t budget;
	uint32_t buffer;		/* records */
	uint32_t slots;
	uint32_t page_budget;		/* page mode: faults/s; 0 = default */
	size_t nregions;
	const uint64_t (*regions)[2];	/* { start, len } */
	/* A watch (HK_CMD_WATCH) instead of an attach when nsegs > 0. */
	size_t nsegs;
	const struct hk_nl_seg *segs;
};

/* One shared memory segment of a watch: its file and the offsets watched. */
struct hk_nl_seg {
	uint32_t major, minor;
	uint64_t ino;
	uint64_t off, len;
};

/*
 * Callbacks for a session handle; called from hk_nl_attach() and
 * hk_nl_recv(). @lost and @throttled are the module's cumulative counts.
 */
struct hk_nl_events {
	void (*records)(void *arg, uint32_t session, const struct hk_record *recs, size_t n,
			uint64_t lost, uint64_t throttled);
	void (*end)(void *arg, uint32_t session, uint32_t reason, uint64_t lost,
		    uint64_t throttled, const struct hk_nl_session *final);
	void *arg;
};

/*
 * Open a session handle and attach (or watch: req->nsegs). @rcvbuf is the socket receive buffer
 * asked for (a burst of records must fit while hkctl writes the file).
 * On success *out is the session handle and @s the session as attached.
 * On failure *out is still set when the kernel refused, so that
 * hk_nl_errmsg(*out) can be printed; close it in every case.
 */
int hk_nl_attach(struct hk_nl **out, const struct hk_nl_attach_req *req,
		 const struct hk_nl_events *ev, size_t rcvbuf, struct hk_nl_session *s);

/* The session handle's fd, for poll(). */
int hk_nl_fd(const struct hk_nl *nl);

/* Receive buffer the kernel granted (SO_RCVBUF), bytes. */
int hk_nl_rcvbuf(const struct hk_nl *nl);

/*
 * Process the notifications queued on a session handle without blocking,
 * at most a few hundred per call. Returns the number of messages handled
 * (0: nothing was queued), or
 * -errno. A socket overrun (ENOBUFS) is counted in *overruns and is not an
 * error: the module counts what it could not deliver.
 */
int hk_nl_recv(struct hk_nl *nl, uint64_t *overruns);

#endif /* _HK_NL_H */
