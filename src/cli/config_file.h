/* cli/config_file.h: load a job configuration file (libconfig syntax) into an
 * rr_config_t. The format, every key and the units are documented in
 * docs/config.md; deploy/replyrate.conf spells out the built-in default.
 *
 * The file starts from rr_config_default: it may override the job settings
 * one by one, and replaces the whole metric list (`metrics = (...)`) and the
 * whole alert list (`alerts = (...)`, `alerts = ();` for none) when it
 * declares them. Unknown keys are errors. Every error message has the form
 * `FILE:LINE: reason` and names the bad key or value (an unreadable file,
 * which has no line, gives `FILE: cannot read: reason`).
 *
 * No global state; safe to call from several threads on different configs.
 */
#ifndef RR_CLI_CONFIG_FILE_H
#define RR_CLI_CONFIG_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "replyrate/config.h"

/* Load path into *cfg and validate it (rr_config_validate). 0 ok; -1 with
 * errstr filled and *cfg left unchanged. path and cfg are borrowed. */
int rr_config_file_load(const char *path, rr_config_t *cfg, char *errstr, size_t errstr_size);

/* Parse a duration string: digits and a unit, ms | s | min | h | d, with
 * optional blanks between ("3600000ms", "5s", "3min", "1h", "1d", "5 s").
 * 0 ok; -1 with errstr giving the reason (the caller adds the position). */
int rr_config_file_duration(const char *s, int64_t *ms, char *errstr, size_t errstr_size);

/* Parse a local time-of-day window "FROM-TO", each side HH:MM or HH:MM:SS,
 * 24:00 / 24:00:00 allowed as TO, the separator "-" or an en dash "–",
 * blanks allowed around it; [from, to) in ms since local midnight. Checks
 * from < to. 0 ok; -1 with errstr giving the reason. */
int rr_config_file_window(const char *s, int32_t *from_ms, int32_t *to_ms, char *errstr,
                          size_t errstr_size);

#endif
