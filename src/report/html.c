/* report/html.c: the report page (see html.h; docs/report.md). */
#include "report/html.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/csv.h"

/* ---- the page buffer ------------------------------------------------------- */

typedef struct page {
    char *p;
    size_t len, cap;
    int oom;
} page_t;

static void out(page_t *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = b->oom ? 0 : vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (b->oom || n < 0) return;
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = 2 * b->cap + (size_t)n;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t k;
    unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf)
        k = 2;
    else if (c >= 0xe0 && c <= 0xef)
        k = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        k = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (n < k || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < k; i++)
        if (s[i] < 0x80 || s[i] > 0xbf) return 0;
    return k;
}

/* Text from the data, escaped for text and (double-quoted) attributes. */
static void esc(page_t *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n) {
        size_t run = 0; /* plain ASCII that needs nothing, written at once */
        while (run < n && p[run] >= 0x20 && p[run] < 0x7f && !strchr("&<>\"'", p[run]))
            run++;
        if (run) {
            out(b, "%.*s", (int)run, (const char *)p);
            p += run;
            n -= run;
            continue;
        }
        unsigned char c = *p;
        size_t k = c == '\t' || c == '\n' ? 1 : c < 0x20 || c == 0x7f ? 0 : utf8_len(p, n);
        if (c == '&')
            out(b, "&amp;");
        else if (c == '<')
            out(b, "&lt;");
        else if (c == '>')
            out(b, "&gt;");
        else if (c == '"')
            out(b, "&quot;");
        else if (c == '\'')
            out(b, "&#39;");
        else if (k == 0)
            out(b, "&#xfffd;");
        else
            out(b, "%.*s", (int)k, (const char *)p);
        k = k ? k : 1;
        p += k;
        n -= k;
    }
}

int rr_html_escape(const char *s, char **res)
{
    page_t b = {0};
    b.cap = strlen(s) + 64;
    b.p = malloc(b.cap);
    if (!b.p) return -1;
    b.p[0] = '\0';
    esc(&b, s);
    if (b.oom) {
        free(b.p);
        return -1;
    }
    *res = b.p;
    return 0;
}

/* ---- numbers, days and times ------------------------------------------------- */

/* An unsigned count grouped by thousands: 1,234,567. */
static void count(page_t *b, uint64_t v)
{
    char d[32], g[40];
    int n = snprintf(d, sizeof d, "%" PRIu64, v), k = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) g[k++] = ',';
        g[k++] = d[i];
    }
    g[k] = '\0';
    out(b, "%s", g);
}

/* <TAG data-k="KEY" data-v="V">1,234</TAG> */
static void kv(page_t *b, const char *tag, const char *key, uint64_t v)
{
    out(b, "<%s data-k=\"%s\" data-v=\"%" PRIu64 "\">", tag, key, v);
    count(b, v);
    out(b, "</%s>", tag);
}

static void day_iso(char *s, size_t n, int32_t day)
{
    int32_t ymd = rr_day_to_yyyymmdd(day);
    snprintf(s, n, "%04d-%02d-%02d", (int)(ymd / 10000), (int)(ymd / 100 % 100), (int)(ymd % 100));
}

static void utc_iso(char *s, size_t n, int64_t ms)
{
    int64_t day = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t tod = ms - day * 86400000;
    char d[16];
    day_iso(d, sizeof d, (int32_t)day);
    snprintf(s, n, "%sT%02d:%02d:%02d.%03dZ", d, (int)(tod / 3600000), (int)(tod / 60000 % 60),
             (int)(tod / 1000 % 60), (int)(tod % 1000));
}

static void local_time(char *s, size_t n, int32_t day, int32_t tod)
{
    char d[16];
    day_iso(d, sizeof d, day);
    snprintf(s, n, "%s %02d:%02d:%02d", d, (int)(tod / 3600000), (int)(tod / 60000 % 60),
             (int)(tod / 1000 % 60));
}

/* A score as people read it: 41.2% (rates), 185.3 s (mean waits). */
static void score_text(page_t *b, uint64_t num, uint64_t den, int is_time)
{
    if (den == 0)
        out(b, "n/a");
    else if (is_time)
        out(b, "%.1f s", (double)num / (double)den / 1000.0);
    else
        out(b, "%.1f%%", 100.0 * (double)num / (double)den);
}

static void wait_text(page_t *b, int64_t ms)
{
    if (ms < 0)
        out(b, "unanswered");
    else
        out(b, "%.1f s", (double)ms / 1000.0);
}

static const char *const wait_labels[RR_TALLY_WAIT_BINS] = {
    "0-15 s", "15-30 s", "30-60 s", "1-2 min", "2-3 min", "3-5 min", "5-10 min", ">10 min / none"};

/* ---- the parts ------------------------------------------------------------------ */

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328;"
    "max-width:1180px;margin:0 auto;padding:12px 20px 40px}"
    "h1{font-size:24px;margin:8px 0}h2{font-size:19px;border-bottom:2px solid #d0d7de;"
    "padding-bottom:4px;margin-top:32px}h3{font-size:16px;margin:20px 0 6px}"
    "h4{font-size:14px;margin:12px 0 4px}"
    "table{border-collapse:collapse}th,td{padding:2px 10px 2px 0;vertical-align:top}"
    "th{text-align:left;font-weight:600}td.n,th.n{text-align:right;"
    "font-variant-numeric:tabular-nums}"
    ".note{color:#57606a;font-size:12.5px;max-width:900px}"
    ".warn{color:#9a3412;font-weight:600}"
    ".grid{display:flex;flex-wrap:wrap;gap:8px 40px}"
    ".metric{border-left:3px solid #d0d7de;padding-left:12px;margin:18px 0}"
    "ol.worst{padding-left:28px;margin:4px 0}ol.worst li{margin:1px 0}"
    "summary{cursor:pointer}summary b{font-variant-numeric:tabular-nums}"
    "table.violations{margin:4px 0 8px 18px;font-size:12.5px}"
    "table.violations th{border-bottom:1px solid #d0d7de}"
    "ul.alerts{margin:2px 0 8px 18px;font-size:12.5px}"
    "svg text{font:11px system-ui,sans-serif;fill:#1f2328}svg .w{fill:#fff}"
    "code{font-size:12.5px}";

static void header(page_t *b, const rr_tally_t *t)
{
    char d[16];
    out(b, "<header><h1>replyrate: one night's results, <span id=\"days\">");
    for (size_t i = 0; i < t->n_days; i++) {
        day_iso(d, sizeof d, t->days[i]);
        out(b, "%s<span data-k=\"day\">%s</span>", i ? ", " : "", d);
    }
    if (t->more_days) out(b, ", ...");
    if (!t->n_days) out(b, "no shop-days");
    out(b, "</span></h1>\n<table id=\"run\">\n");
    out(b, "<tr><th>replyrate</th><td data-k=\"replyrate_version\">");
    esc(b, t->run.replyrate_version);
    out(b, "</td></tr>\n<tr><th>metric set</th><td data-k=\"metric_set\">");
    esc(b, t->run.metric_set);
    out(b, "</td></tr>\n<tr><th>time zone</th><td><span data-k=\"time_zone\">");
    esc(b, t->run.time_zone);
    out(b, "</span>%s</td></tr>\n",
        t->run.has_time_zone
            ? ""
            : " <span class=\"note\">(the manifest names none: the default)</span>");
    const char *when[2] = {t->run.started_at, t->run.ended_at};
    for (int i = 0; i < 2; i++) {
        int64_t ms;
        out(b, "<tr><th>%s</th><td><span data-k=\"%s\">", i ? "ended" : "started",
            i ? "ended_at" : "started_at");
        esc(b, when[i][0] ? when[i] : "-");
        out(b, "</span>");
        if (rr_csv_parse_utc_ms(when[i], strlen(when[i]), &ms) == 0) {
            int32_t day, tod;
            char s[40];
            rr_tz_cache_t c;
            rr_tz_cache_init(&c);
            rr_tz_local(t->tz, &c, ms, &day, &tod);
            local_time(s, sizeof s, day, tod);
            out(b, " <span class=\"note\">(%s local)</span>", s);
        }
        out(b, "</td></tr>\n");
    }
    out(b, "<tr><th>status</th><td data-k=\"status\" data-v=\"%lld\">%lld%s</td></tr>\n",
        (long long)t->run.status, (long long)t->run.status,
        t->run.complete == 1   ? ", input complete"
        : t->run.complete == 0 ? ", input <b>incomplete</b>"
                               : "");
    out(b, "<tr><th>input</th><td><ul style=\"margin:0;padding-left:18px\">");
    for (size_t i = 0; i < t->run.n_inputs; i++) {
        const rr_runinfo_input_t *in = &t->run.inputs[i];
        if (in->path) {
            out(b, "<li data-k=\"input_file\" data-bytes=\"%" PRIu64 "\"><code>", in->bytes);
            esc(b, in->path);
            out(b, "</code>, ");
            count(b, in->bytes);
            out(b, " bytes</li>");
        } else {
            out(b, "<li data-k=\"input_partition\"><code>");
            esc(b, in->topic ? in->topic : "");
            out(b, "</code>[%lld], offsets %lld..%lld</li>", (long long)in->partition,
                (long long)in->from_offset, (long long)in->to_offset);
        }
    }
    if (!t->run.n_inputs) out(b, "<li>(the manifest lists none)</li>");
    out(b, "</ul></td></tr>\n<tr><th>shops</th><td>");
    kv(b, "span", "shops", t->shops);
    out(b, " shops, ");
    kv(b, "span", "shop_days", t->shop_days);
    out(b, " shop-days</td></tr>\n<tr><th>read</th><td class=\"note\">");
    for (int f = 0; f < RR_TALLY_FILES; f++) {
        out(b, "%s<code>", f ? ", " : "");
        esc(b, t->paths[f]);
        out(b, "</code> (<span data-k=\"rows_%s\" data-v=\"%" PRIu64 "\">", rr_tally_file_names[f],
            t->rows[f]);
        count(b, t->rows[f]);
        out(b, "</span> rows)");
    }
    out(b, "</td></tr>\n</table></header>\n");
}

static void reasons(page_t *b, const char *id, const char *title, const rr_tally_count_t *list,
                    size_t n, uint64_t rows, uint64_t manifest)
{
    out(b, "<div><h3>%s by reason</h3><table id=\"%s\">", title, id);
    for (size_t i = 0; i < n; i++) {
        out(b, "<tr><th>");
        esc(b, list[i].name);
        out(b, "</th><td class=\"n\" data-reason=\"");
        esc(b, list[i].name);
        out(b, "\" data-v=\"%" PRIu64 "\">", list[i].count);
        count(b, list[i].count);
        out(b, "</td></tr>");
    }
    if (!n) out(b, "<tr><td class=\"note\">none</td></tr>");
    out(b, "</table>");
    if (rows != manifest) {
        out(b, "<p class=\"warn\">The file holds ");
        count(b, rows);
        out(b, " rows, the manifest counts ");
        count(b, manifest);
        out(b, ".</p>");
    }
    out(b, "</div>");
}

static void accounting(page_t *b, const rr_tally_t *t)
{
    const rr_runinfo_t *r = &t->run;
    const char *keys[5] = {"input", "applied", "duplicate", "late", "invalid"};
    const uint64_t v[5] = {r->input, r->applied, r->duplicate, r->late, r->invalid};
    const char *what[5] = {"events read (every record of the input, decoded or not)",
                           "accepted and counted in the metrics",
                           "an event id seen before: dropped, counted once",
                           "behind the watermark by more than the lateness: not applied (late.csv)",
                           "could not be decoded or broke the event contract (dead_letter.csv)"};
    static const char *const colour[5] = {"", "#2da44e", "#8c959f", "#d4a72c", "#cf222e"};
    out(b, "<section id=\"accounting\"><h2>Events</h2>\n<div class=\"grid\"><div><table>");
    for (int i = 0; i < 5; i++) {
        out(b, "<tr><th>%s%s</th><td class=\"n\">", i ? "&nbsp;&nbsp;" : "", keys[i]);
        kv(b, "span", keys[i], v[i]);
        out(b, "</td><td class=\"n\">");
        if (i && r->input) out(b, "%.2f%%", 100.0 * (double)v[i] / (double)r->input);
        out(b, "</td><td class=\"note\">%s</td></tr>\n", what[i]);
    }
    out(b, "</table>");
    uint64_t sum = r->applied + r->duplicate + r->late + r->invalid;
    if (sum != r->input) {
        out(b, "<p class=\"warn\">applied + duplicate + late + invalid = ");
        count(b, sum);
        out(b, ", not the input.</p>");
    }
    /* the four outcomes as one bar */
    out(b, "<svg id=\"outcomes\" width=\"600\" height=\"34\" role=\"img\" "
           "aria-label=\"the input by outcome\">");
    double x = 0;
    for (int i = 1; i < 5 && sum; i++) {
        double w = 600.0 * (double)v[i] / (double)sum;
        if (w <= 0) continue;
        out(b,
            "<rect x=\"%.2f\" y=\"0\" width=\"%.2f\" height=\"22\" fill=\"%s\">"
            "<title>%s: %" PRIu64 "</title></rect>",
            x, w, colour[i], keys[i], v[i]);
        x += w;
    }
    out(b, "<text x=\"0\" y=\"33\">");
    for (int i = 1; i < 5; i++)
        out(b, "<tspan fill=\"%s\">&#9632;</tspan> %s  ", colour[i], keys[i]);
    out(b, "</text></svg></div>\n");
    reasons(b, "late-reasons", "Late events", t->late_reasons, t->n_late_reasons,
            t->rows[RR_TALLY_LATE], r->late);
    reasons(b, "invalid-reasons", "Invalid events", t->invalid_reasons, t->n_invalid_reasons,
            t->rows[RR_TALLY_DEAD_LETTER], r->invalid);
    out(b, "</div></section>\n");
}

/* A colour from white to dark red for count out of max. */
static void heat_fill(page_t *b, uint64_t c, uint64_t max)
{
    if (!c || !max) {
        out(b, "#f6f8fa");
        return;
    }
    double f = 0.12 + 0.88 * (double)c / (double)max;
    static const int lo[3] = {255, 237, 213}, hi[3] = {127, 29, 29};
    int rgb[3];
    for (int i = 0; i < 3; i++)
        rgb[i] = (int)(lo[i] + (hi[i] - lo[i]) * f + 0.5);
    out(b, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

/* The heat map of platform which (RR_TALLY_MAX_METRICS: all of them), whose
 * name is platform (NULL: all). */
static void heatmap(page_t *b, const rr_tally_t *t, size_t which, const char *platform)
{
    const uint64_t(*h)[RR_TALLY_WAIT_BINS] = t->heat[which];
    uint64_t max = 0, total = 0;
    for (int r = 0; r < RR_TALLY_HOURS; r++)
        for (int c = 0; c < RR_TALLY_WAIT_BINS; c++) {
            total += h[r][c];
            if (h[r][c] > max) max = h[r][c];
        }
    const int cw = 92, ch = 19, left = 52, top = 34;
    out(b, "<p>");
    kv(b, "span", "heat_total", total);
    out(b, " violations; the darkest cell holds ");
    count(b, max);
    out(b, ".</p>\n<svg class=\"heat\" id=\"heat-");
    if (platform) {
        esc(b, platform);
        out(b, "\" data-platform=\"");
        esc(b, platform);
    } else {
        out(b, "all");
    }
    out(b,
        "\" width=\"%d\" height=\"%d\" role=\"img\" "
        "aria-label=\"violations by local hour of round start and wait\">",
        left + cw * RR_TALLY_WAIT_BINS, top + ch * RR_TALLY_HOURS + 4);
    for (int c = 0; c < RR_TALLY_WAIT_BINS; c++)
        out(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>", left + cw * c + cw / 2,
            top - 8, wait_labels[c]);
    out(b, "<text x=\"0\" y=\"12\">hour</text>");
    for (int r = 0; r < RR_TALLY_HOURS; r++) {
        int y = top + ch * r;
        out(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%02d:00</text>", left - 8, y + 14, r);
        for (int c = 0; c < RR_TALLY_WAIT_BINS; c++) {
            uint64_t n = h[r][c];
            out(b,
                "<g data-hour=\"%d\" data-bucket=\"%d\" data-count=\"%" PRIu64 "\">"
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"",
                r, c, n, left + cw * c, y, cw - 2, ch - 2);
            heat_fill(b, n, max);
            out(b, "\"><title>%02d:00-%02d:59, %s: %" PRIu64 "</title></rect>", r, r,
                wait_labels[c], n);
            if (n)
                out(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\"%s>%" PRIu64 "</text>",
                    left + cw * c + cw / 2 - 1, y + 13,
                    (double)n / (double)max > 0.55 ? " class=\"w\"" : "", n);
            out(b, "</g>");
        }
    }
    out(b, "</svg>\n");
}

static void histogram(page_t *b, const rr_tally_metric_t *m)
{
    size_t bins = m->is_time ? RR_TALLY_WAIT_BINS : RR_TALLY_RATE_BINS;
    uint64_t max = 0;
    for (size_t i = 0; i < bins; i++)
        if (m->hist[i] > max) max = m->hist[i];
    const int bw = m->is_time ? 70 : 56, h = 120, top = 16, base = top + h;
    out(b,
        "<svg class=\"hist\" width=\"%zu\" height=\"%d\" role=\"img\" "
        "aria-label=\"shop-days by score\">",
        bins * (size_t)bw + 2, base + 34);
    for (size_t i = 0; i < bins; i++) {
        char lo[24], hi[24], label[40];
        if (m->is_time) {
            snprintf(lo, sizeof lo, "%lld", i ? (long long)rr_tally_wait_edges_ms[i - 1] : 0LL);
            if (i + 1 < bins)
                snprintf(hi, sizeof hi, "%lld", (long long)rr_tally_wait_edges_ms[i]);
            else
                snprintf(hi, sizeof hi, "inf");
            snprintf(label, sizeof label, "%s", wait_labels[i]);
            if (i + 1 == bins) snprintf(label, sizeof label, ">10 min");
        } else {
            snprintf(lo, sizeof lo, "%zu", i * 10);
            snprintf(hi, sizeof hi, "%zu", i * 10 + 10);
            snprintf(label, sizeof label, "%zu-%zu%%", i * 10, i * 10 + 10);
        }
        int bh = max ? (int)((double)h * (double)m->hist[i] / (double)max + 0.5) : 0;
        if (m->hist[i] && bh < 1) bh = 1;
        int x = 1 + (int)i * bw;
        out(b,
            "<g class=\"bin\" data-bin=\"%zu\" data-lo=\"%s\" data-hi=\"%s\" data-count=\"%" PRIu64
            "\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#0969da\">"
            "<title>%s: %" PRIu64 " shop-days</title></rect>",
            i, lo, hi, m->hist[i], x + 2, base - bh, bw - 4, bh, label, m->hist[i]);
        out(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%" PRIu64 "</text>", x + bw / 2,
            base - bh - 3, m->hist[i]);
        out(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text></g>", x + bw / 2,
            base + 14, label);
    }
    out(b, "<line x1=\"1\" y1=\"%d\" x2=\"%zu\" y2=\"%d\" stroke=\"#8c959f\"/>", base,
        bins * (size_t)bw + 1, base);
    out(b, "<text x=\"1\" y=\"%d\">%s</text></svg>\n", base + 30,
        m->is_time ? "mean wait of the shop-day (num/den)" : "the shop-day's rate (num/den)");
}

/* The alerts of (shop, day): t->alerts[*lo .. *end) (they are sorted). */
static void alert_range(const rr_tally_t *t, uint64_t shop, int32_t day, size_t *lo, size_t *end)
{
    size_t l = 0, h = t->n_alerts;
    while (l < h) { /* the first alert not before (shop, day) */
        size_t mid = l + (h - l) / 2;
        const rr_tally_alert_t *a = &t->alerts[mid];
        if (a->shop_id < shop || (a->shop_id == shop && a->day < day))
            l = mid + 1;
        else
            h = mid;
    }
    *lo = *end = l;
    while (*end < t->n_alerts && t->alerts[*end].shop_id == shop && t->alerts[*end].day == day)
        ++*end;
}

static void alerts_list(page_t *b, const rr_tally_t *t, size_t lo, size_t end)
{
    if (end == lo) return;
    out(b, "<ul class=\"alerts\">");
    for (size_t i = lo; i < end; i++) {
        const rr_tally_alert_t *a = &t->alerts[i];
        out(b, "<li class=\"alert\" data-rule=\"");
        esc(b, a->rule);
        out(b, "\" data-value=\"");
        esc(b, a->value);
        out(b, "\">alert <b>");
        esc(b, a->rule);
        out(b, "</b>: value ");
        esc(b, a->value);
        out(b, "%s</li>", a->final ? "" : " (provisional)");
    }
    out(b, "</ul>");
}

static void worst_entry(page_t *b, const rr_tally_t *t, const rr_tally_metric_t *m, size_t rank,
                        const rr_tally_worst_t *w)
{
    const rr_tally_score_t *s = &w->score;
    char d[16], when[40], utc[40];
    day_iso(d, sizeof d, s->day);
    size_t a_lo, a_end;
    alert_range(t, s->shop_id, s->day, &a_lo, &a_end);
    size_t n_alerts = a_end - a_lo;
    out(b,
        "<li><details class=\"shop\" data-rank=\"%zu\" data-shop=\"%" PRIu64 "\" data-day=\"%s\" "
        "data-num=\"%" PRIu64 "\" data-den=\"%" PRIu64 "\" data-unanswered=\"%" PRIu64
        "\" data-violations=\"%" PRIu64 "\" data-shown=\"%zu\" data-alerts=\"%zu\">",
        rank, s->shop_id, d, s->num, s->den, s->unanswered, w->violations, w->n_shown, n_alerts);
    out(b, "<summary>shop <b>%" PRIu64 "</b>, %s: <b>", s->shop_id, d);
    score_text(b, s->num, s->den, m->is_time);
    if (m->is_time)
        out(b, "</b> mean over %" PRIu64 " rounds, %" PRIu64 " unanswered", s->den, s->unanswered);
    else
        out(b, "</b> (%" PRIu64 " of %" PRIu64 ")", s->num, s->den);
    out(b, "; %" PRIu64 " violation%s", w->violations, w->violations == 1 ? "" : "s");
    if (n_alerts) out(b, "; %zu alert%s", n_alerts, n_alerts == 1 ? "" : "s");
    out(b, "</summary>");
    alerts_list(b, t, a_lo, a_end);
    if (w->n_shown) {
        out(b, "<table class=\"violations\"><tr><th>conversation</th><th>buyer</th>"
               "<th>agent</th><th>round start (local)</th><th class=\"n\">wait</th>"
               "<th class=\"n\">messages</th><th>reason</th></tr>");
        for (size_t i = 0; i < w->n_shown; i++) {
            const rr_tally_violation_t *v = &w->shown[i];
            local_time(when, sizeof when, v->local_day, v->local_tod_ms);
            utc_iso(utc, sizeof utc, v->round_start_ms);
            out(b,
                "<tr class=\"violation\" data-conversation=\"%" PRIu64 "\" data-buyer=\"%" PRIu64
                "\" data-agent=\"%" PRIu64 "\" data-round-start=\"%s\" data-wait-ms=\"",
                v->conversation_id, v->buyer_id, v->agent_id, utc);
            if (v->wait_ms >= 0) out(b, "%lld", (long long)v->wait_ms);
            out(b, "\" data-reason=\"");
            esc(b, v->reason);
            out(b,
                "\"><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%s</td>"
                "<td class=\"n\">",
                v->conversation_id, v->buyer_id, v->agent_id, when);
            wait_text(b, v->wait_ms);
            out(b, "</td><td class=\"n\">%" PRIu64 "</td><td>", v->messages);
            esc(b, v->reason);
            out(b, "</td></tr>");
        }
        out(b, "</table>");
        if (w->violations > w->n_shown)
            out(b, "<p class=\"note\">The first %zu of %" PRIu64 " violations by round start.</p>",
                w->n_shown, w->violations);
    } else if (!n_alerts) {
        out(b, "<p class=\"note\">No violation of this metric on this shop-day.</p>");
    }
    out(b, "</details></li>\n");
}

static void metric_section(page_t *b, const rr_tally_t *t, const rr_tally_metric_t *m)
{
    out(b, "<section class=\"metric\" id=\"metric-");
    esc(b, m->name);
    out(b, "\" data-metric=\"");
    esc(b, m->name);
    out(b, "\" data-kind=\"%s\"><h3>", m->is_time ? "response_time" : "rate");
    esc(b, m->name);
    out(b, "</h3>\n<p>");
    kv(b, "span", "shop_days", m->n_scores);
    out(b, " shop-days show it, ");
    kv(b, "span", "scored", m->scored);
    out(b,
        " with a score. All of them together: <b data-k=\"total\" data-num=\"%" PRIu64
        "\" data-den=\"%" PRIu64 "\" data-unanswered=\"%" PRIu64 "\">",
        m->num, m->den, m->unanswered);
    score_text(b, m->num, m->den, m->is_time);
    out(b, "</b>");
    if (m->is_time) {
        out(b, " mean wait over ");
        count(b, m->den);
        out(b, " answered rounds, ");
        count(b, m->unanswered);
        out(b, " unanswered");
    } else {
        out(b, " (");
        count(b, m->num);
        out(b, " of ");
        count(b, m->den);
        out(b, ")");
    }
    out(b, ". ");
    kv(b, "span", "violations", m->violations);
    out(b, " violations.");
    if (m->superseded) {
        out(b, " <span class=\"warn\">");
        kv(b, "span", "superseded", m->superseded);
        out(b, " rows replaced by a final row or a later revision.</span>");
    }
    out(b, "</p>\n");
    if (!m->scored) {
        out(b, "<p class=\"note\">No shop-day has a score for this metric.</p></section>\n");
        return;
    }
    histogram(b, m);
    out(b, "<h4>The %zu worst shop-days (%s)</h4>\n<ol class=\"worst\">\n", m->n_worst,
        m->is_time ? "the longest mean wait first" : "the lowest rate first");
    for (size_t i = 0; i < m->n_worst; i++)
        worst_entry(b, t, m, i + 1, &m->worst[i]);
    out(b, "</ol></section>\n");
}

static void platform_section(page_t *b, const rr_tally_t *t, size_t p)
{
    out(b, "<section class=\"platform\" id=\"platform-");
    esc(b, t->platforms[p]);
    out(b, "\" data-platform=\"");
    esc(b, t->platforms[p]);
    out(b, "\"><h2>");
    esc(b, t->platforms[p]);
    out(b, "</h2>\n");
    for (size_t m = 0; m < t->n_metrics; m++)
        if ((size_t)t->metrics[m].platform == p) metric_section(b, t, &t->metrics[m]);
    out(b, "<details><summary>Reply waits of ");
    esc(b, t->platforms[p]);
    out(b, "'s violations by hour</summary>\n");
    heatmap(b, t, p, t->platforms[p]);
    out(b, "</details></section>\n");
}

int rr_html_render(const rr_tally_t *t, char **res, size_t *len)
{
    page_t b = {0};
    b.cap = 1 << 16;
    b.p = malloc(b.cap);
    if (!b.p) return -1;
    out(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width\">\n<title>replyrate: ");
    for (size_t i = 0; i < t->n_days; i++) {
        char d[16];
        day_iso(d, sizeof d, t->days[i]);
        out(&b, "%s%s", i ? ", " : "", d);
    }
    out(&b, "</title>\n<style>%s</style></head><body>\n", css);
    header(&b, t);
    accounting(&b, t);
    out(&b, "<section id=\"heatmap\"><h2>Reply waits by hour of day</h2>\n<p class=\"note\">"
            "The records hold response times per day only, so this map counts violations: every "
            "row of <code>violations</code>, of every metric (a round that breaks two metrics "
            "counts twice), by the hour of its round's start in the run's time zone (<code>");
    esc(&b, t->run.time_zone);
    out(&b, "</code>) and the bucket of its wait, the response_time buckets. A round not "
            "answered within the horizon has no wait and counts in the last column.</p>\n");
    heatmap(&b, t, RR_TALLY_MAX_METRICS, NULL);
    out(&b,
        "</section>\n<p class=\"note\">Per platform below: each metric's shop-days by score "
        "(rates: num/den of the shop-day; response_time: its mean wait, num/den ms), and the "
        "worst %zu shop-days of each; open one for its violations of that metric and its "
        "alerts. A metric's platform is its name up to the first '_'.</p>\n",
        t->top);
    for (size_t p = 0; p < t->n_platforms; p++)
        platform_section(&b, t, p);
    out(&b, "<footer class=\"note\"><p>Written by <code>replyrate report</code> from the files "
            "above; docs/report.md says what each part counts.</p></footer>\n</body></html>\n");
    if (b.oom) {
        free(b.p);
        return -1;
    }
    *res = b.p;
    *len = b.len;
    return 0;
}
