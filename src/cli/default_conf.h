/* cli/default_conf.h: deploy/replyrate.conf, compiled in (CMakeLists.txt
 * writes default_conf.c from it at configure time), so that `replyrate
 * config print-default` prints the file that spells out the built-in
 * default as this binary was built with it. */
#ifndef RR_CLI_DEFAULT_CONF_H
#define RR_CLI_DEFAULT_CONF_H

#include <stddef.h>

extern const char rr_default_conf[];
extern const size_t rr_default_conf_len;

#endif
