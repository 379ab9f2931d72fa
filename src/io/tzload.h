/* io/tzload.h: load an IANA time zone from the system's zone database into an
 * rr_tz_t (engine/tz.h), for the job's `timezone` (SPEC §3, default
 * Asia/Shanghai).
 *
 * How: the zone's TZif file under $TZDIR (default /usr/share/zoneinfo) is
 * parsed directly (RFC 8536), never through the C library's TZ machinery,
 * which silently falls back to UTC for an unknown name and is process-global.
 * Version 2+ files use their 64-bit section; version 1 files the 32-bit one.
 * The file's transitions are taken as they are; after the last one, the
 * POSIX TZ footer rule (e.g. "EST5EDT,M3.2.0,M11.1.0", including RFC 8536's
 * extensions: rule times from -167 h to 167 h, "<+03>"-quoted names,
 * all-year DST) is expanded year by year up to year 10001, so lookups are exact
 * for every SPEC-valid ts (up to 9999-12-31T23:59:59.999Z) and the day after.
 * Before the first transition the offset of time type 0 applies (RFC 8536).
 *
 * Limits: "right/" zones (files with leap-second records) are rejected;
 * transitions beyond +-10^14 s are clamped away (they are "big bang"
 * sentinels); offsets beyond +-48 h are rejected. A table for a DST zone holds
 * about 16 000 transitions (~200 KB); loading takes about a millisecond.
 *
 * Thread-safety: rr_tz_load reads the TZDIR environment variable and the
 * file system and touches no other process state; it may run in any thread.
 * Ownership: the zone returned is the caller's (rr_tz_free).
 * Layer: io; uses engine (engine/tz.h builds the table), libc.
 */
#ifndef RR_IO_TZLOAD_H
#define RR_IO_TZLOAD_H

#include <stddef.h>

#include "engine/tz.h"

/* Load zone `name` (e.g. "Asia/Shanghai", "UTC"; borrowed). Names that are
 * empty, start with '/', contain "..", or contain characters other than
 * letters, digits and "/_-+." are rejected, as are names without a TZif file.
 * Returns 0 and stores a new zone in *out (owned by the caller, free with
 * rr_tz_free), or -1 with a message naming the zone in errstr. */
int rr_tz_load(const char *name, rr_tz_t **out, char *errstr, size_t errstr_size);

#endif
