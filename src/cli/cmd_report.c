/* cmd_report.c: `replyrate report DIR`: one night's results as a static HTML
 * page for people (docs/report.md).
 *
 * DIR is what `replyrate run --output-dir DIR` wrote, in csv or csv.zst
 * form, with its manifest.json. The reading and counting are report/tally.h,
 * the page report/html.h; this file is the flags and the file written: the
 * page appears under its name only when whole (io/filesink.h: a temporary,
 * then a rename), and not at all when the directory cannot be read.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "io/filesink.h"
#include "ops/log.h"
#include "report/html.h"
#include "report/tally.h"

static const char report_usage[] =
    "usage: replyrate report DIR [-o FILE] [--top N]\n"
    "\n"
    "Writes one static HTML page (no script, nothing fetched: it opens from a file or\n"
    "an e-mail) from one night's results: a directory written by\n"
    "`replyrate run --output-dir DIR` in the csv or csv.zst form, with its\n"
    "manifest.json. The page shows the run (versions, time zone, inputs, times), its\n"
    "events by outcome and the late and invalid ones by reason, a heat map of the\n"
    "violations by local hour and wait, and per platform and metric the shop-days by\n"
    "score with the worst of them, each opening onto its violations and alerts.\n"
    "\n"
    "  -o, --output FILE   the page (default DIR/report.html); '-' = stdout\n"
    "  -n, --top N         the worst shop-days listed per metric (default 20,\n"
    "                      at most 10000)\n"
    "  -h, --help          this message\n"
    "\n"
    "A file the manifest lists must still have the size it gives, so a file changed\n"
    "or cut since the run is refused. Exit status: 0 ok, 1 the directory cannot be\n"
    "read (no manifest.json, a damaged file: named with its line) or the page not\n"
    "written, 2 usage error.\n";

int rr_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"top", required_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *output = NULL;
    size_t top = 20;
    int c;
    optind = 1;
    opterr = 0; /* getopt's own messages would bypass the log */
    while ((c = getopt_long(argc, argv, ":o:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            output = optarg;
            break;
        case 'n': {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (!*optarg || *end || optarg[0] == '-' || v < 1 || v > RR_TALLY_TOP_MAX) {
                rr_log(RR_LOG_ERROR, "report", "--top: expected 1..%d, got '%s'", RR_TALLY_TOP_MAX,
                       optarg);
                return 2;
            }
            top = (size_t)v;
            break;
        }
        case 'h':
            fputs(report_usage, stdout);
            return 0;
        case ':':
            rr_log(RR_LOG_ERROR, "report", "option '%s' needs a value", argv[optind - 1]);
            return 2;
        default:
            rr_log(RR_LOG_ERROR, "report", "unknown option '%s' (see replyrate report --help)",
                   argv[optind - 1]);
            return 2;
        }
    }
    if (argc - optind != 1) {
        rr_log(RR_LOG_ERROR, "report", "%s (see replyrate report --help)",
               argc == optind ? "DIR is required" : "one DIR only");
        return 2;
    }
    const char *dir = argv[optind];
    char path[4096], err[4608];
    if (!output) {
        snprintf(path, sizeof path, "%s/report.html", dir);
        output = path;
    }
    rr_tally_t *t = NULL;
    char *html = NULL;
    size_t len = 0;
    rr_filesink_t *s = NULL;
    if (rr_tally_load(dir, top, &t, err, sizeof err) < 0) goto fail;
    if (rr_html_render(t, &html, &len) < 0) {
        snprintf(err, sizeof err, "%s: out of memory rendering the page", output);
        goto fail;
    }
    if (rr_filesink_open(output, 0, &s, err, sizeof err) < 0) goto fail;
    int written = rr_filesink_write(s, html, len);
    int closed = rr_filesink_close(s, err, sizeof err); /* reports a failed write too */
    s = NULL;                                           /* freed by close, even when it fails */
    if (written < 0 || closed < 0) goto fail;
    rr_log(RR_LOG_INFO, "report", "%s: %zu bytes from %s", output, len, dir);
    free(html);
    rr_tally_free(t);
    return 0;
fail:
    rr_log(RR_LOG_ERROR, "report", "%s", err);
    rr_filesink_abort(s);
    free(html);
    rr_tally_free(t);
    return 1;
}
