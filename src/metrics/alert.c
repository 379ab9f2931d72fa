/* metrics/alert.c: compile and evaluate alert rules (see alert.h for the
 * grammar). A recursive-descent parser writes the comparisons in reading
 * order and the rule in postfix order, so evaluation is a loop over a small
 * fixed stack: no allocation, no recursion at evaluation time. */
#include "metrics/alert.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const char *expr;
    size_t pos;
    const rr_metric_def_t *metrics;
    size_t n_metrics;
    rr_alert_t *out;
    int depth;
    char *errstr;
    size_t errstr_size;
} parser_t;

static int is_ident(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void skip_space(parser_t *p)
{
    while (is_space((unsigned char)p->expr[p->pos]))
        p->pos++;
}

/* Length of the token starting at s, for error messages: a word, a run of
 * operator characters, or one (possibly multi-byte UTF-8) character. */
static size_t token_len(const char *s)
{
    size_t n = 0;
    if (s[0] == '\0') return 0;
    if (is_ident((unsigned char)s[0]) || s[0] == '.' || s[0] == '-' || s[0] == '+') {
        while (is_ident((unsigned char)s[n]) || s[n] == '.' ||
               ((s[n] == '-' || s[n] == '+') && n == 0))
            n++;
        return n;
    }
    if (strchr("<>=!", s[0])) {
        while (s[n] && strchr("<>=!", s[n]))
            n++;
        return n;
    }
    n = 1;
    while (((unsigned char)s[n] & 0xc0) == 0x80)
        n++;
    return n;
}

/* Fill errstr with "<what> at column N, got "TOKEN"" (or "at end of rule"). */
static int fail_at(parser_t *p, size_t pos, const char *what)
{
    const char *s = p->expr + pos;
    size_t n = token_len(s);
    if (!p->errstr || p->errstr_size == 0) return -1;
    if (n == 0)
        snprintf(p->errstr, p->errstr_size, "%s at end of rule (column %zu)", what, pos + 1);
    else
        snprintf(p->errstr, p->errstr_size, "%s at column %zu, got \"%.*s\"", what, pos + 1, (int)n,
                 s);
    return -1;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int
failf(parser_t *p, const char *fmt, ...)
{
    va_list ap;
    if (!p->errstr || p->errstr_size == 0) return -1;
    va_start(ap, fmt);
    vsnprintf(p->errstr, p->errstr_size, fmt, ap);
    va_end(ap);
    return -1;
}

static int emit(parser_t *p, uint8_t op)
{
    /* n_prog <= 2 * n_cmps - 1 always holds, so this cannot overflow once
     * the comparison count is checked; kept as a guard. */
    if (p->out->n_prog >= RR_ALERT_MAX_PROG)
        return failf(p, "rule too long (at most %d comparisons)", RR_ALERT_MAX_CMPS);
    p->out->prog[p->out->n_prog++] = op;
    return 0;
}

static int parse_number(parser_t *p, double *v)
{
    const char *s = p->expr;
    size_t start = p->pos, i = p->pos, digits = 0;
    char buf[RR_EXPR_MAX + 1];
    char *end;

    if (s[i] == '-' || s[i] == '+') i++;
    while (s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (s[i] == '.') {
        i++;
        while (s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0) return fail_at(p, start, "expected a number");
    if (s[i] == 'e' || s[i] == 'E') {
        size_t j = i + 1, ed = 0;
        if (s[j] == '-' || s[j] == '+') j++;
        while (s[j] >= '0' && s[j] <= '9')
            j++, ed++;
        if (ed == 0) return fail_at(p, start, "expected a number");
        i = j;
    }
    if (is_ident((unsigned char)s[i]) || s[i] == '.') return fail_at(p, start, "expected a number");
    if (i - start > RR_EXPR_MAX) return fail_at(p, start, "number too long");
    memcpy(buf, s + start, i - start);
    buf[i - start] = '\0';
    *v = strtod(buf, &end);
    if (*end != '\0' || !isfinite(*v)) return fail_at(p, start, "number out of range");
    p->pos = i;
    return 0;
}

static int parse_comparison(parser_t *p)
{
    const char *s = p->expr;
    size_t start = p->pos, n = 0, i;
    rr_alert_cmp_t c;
    memset(&c, 0, sizeof c);

    while (is_ident((unsigned char)s[start + n]))
        n++;
    if (n == 0) return fail_at(p, start, "expected a metric name");
    for (i = 0; i < p->n_metrics; i++)
        if (strlen(p->metrics[i].name) == n && memcmp(p->metrics[i].name, s + start, n) == 0) break;
    if (i == p->n_metrics)
        return failf(p, "unknown metric \"%.*s\" at column %zu", (int)n, s + start, start + 1);
    c.metric = (uint16_t)i;
    c.term = RR_ALERT_TERM_RATIO;
    p->pos = start + n;

    if (s[p->pos] == '.') {
        size_t fstart = p->pos + 1, fn = 0;
        while (is_ident((unsigned char)s[fstart + fn]))
            fn++;
        if (fn == 3 && memcmp(s + fstart, "num", 3) == 0)
            c.term = RR_ALERT_TERM_NUM;
        else if (fn == 9 && memcmp(s + fstart, "numerator", 9) == 0)
            c.term = RR_ALERT_TERM_NUM;
        else if (fn == 3 && memcmp(s + fstart, "den", 3) == 0)
            c.term = RR_ALERT_TERM_DEN;
        else if (fn == 11 && memcmp(s + fstart, "denominator", 11) == 0)
            c.term = RR_ALERT_TERM_DEN;
        else if (fn == 0)
            return fail_at(p, fstart, "expected numerator, num, denominator or den after \".\"");
        else
            return failf(p,
                         "unknown field \"%.*s\" of metric \"%s\" at column %zu "
                         "(use numerator, num, denominator or den)",
                         (int)fn, s + fstart, p->metrics[i].name, fstart + 1);
        p->pos = fstart + fn;
    }

    skip_space(p);
    if (s[p->pos] == '<' && s[p->pos + 1] == '=')
        c.op = RR_ALERT_LE, p->pos += 2;
    else if (s[p->pos] == '>' && s[p->pos + 1] == '=')
        c.op = RR_ALERT_GE, p->pos += 2;
    else if (s[p->pos] == '=' && s[p->pos + 1] == '=')
        c.op = RR_ALERT_EQ, p->pos += 2;
    else if (s[p->pos] == '!' && s[p->pos + 1] == '=')
        c.op = RR_ALERT_NE, p->pos += 2;
    else if (s[p->pos] == '<' && s[p->pos + 1] != '<' && s[p->pos + 1] != '>')
        c.op = RR_ALERT_LT, p->pos += 1;
    else if (s[p->pos] == '>' && s[p->pos + 1] != '>' && s[p->pos + 1] != '<')
        c.op = RR_ALERT_GT, p->pos += 1;
    else
        return fail_at(p, p->pos, "expected a comparison operator (< <= > >= == !=)");

    skip_space(p);
    if (parse_number(p, &c.rhs) < 0) return -1;

    if (p->out->n_cmps >= RR_ALERT_MAX_CMPS)
        return failf(p, "too many comparisons (at most %d) at column %zu", RR_ALERT_MAX_CMPS,
                     start + 1);
    p->out->cmps[p->out->n_cmps] = c;
    return emit(p, p->out->n_cmps++);
}

static int parse_or(parser_t *p);

static int parse_primary(parser_t *p)
{
    skip_space(p);
    if (p->expr[p->pos] == '(') {
        size_t open = p->pos;
        if (++p->depth > RR_ALERT_MAX_DEPTH)
            return failf(p, "parentheses nested too deeply (at most %d) at column %zu",
                         RR_ALERT_MAX_DEPTH, open + 1);
        p->pos++;
        if (parse_or(p) < 0) return -1;
        skip_space(p);
        if (p->expr[p->pos] == '\0')
            return failf(p, "missing \")\" to close the \"(\" at column %zu", open + 1);
        if (p->expr[p->pos] != ')')
            return failf(p,
                         "expected \")\" at column %zu to close the \"(\" at column %zu, "
                         "got \"%.*s\"",
                         p->pos + 1, open + 1, (int)token_len(p->expr + p->pos), p->expr + p->pos);
        p->pos++;
        p->depth--;
        return 0;
    }
    return parse_comparison(p);
}

/* Does the keyword kw (a whole word) start at the current position? */
static int at_keyword(parser_t *p, const char *kw)
{
    size_t n = strlen(kw);
    return strncmp(p->expr + p->pos, kw, n) == 0 && !is_ident((unsigned char)p->expr[p->pos + n]);
}

static int parse_and(parser_t *p)
{
    if (parse_primary(p) < 0) return -1;
    for (;;) {
        skip_space(p);
        if (!at_keyword(p, "and")) return 0;
        p->pos += 3;
        if (parse_primary(p) < 0 || emit(p, RR_ALERT_PROG_AND) < 0) return -1;
    }
}

static int parse_or(parser_t *p)
{
    if (parse_and(p) < 0) return -1;
    for (;;) {
        skip_space(p);
        if (!at_keyword(p, "or")) return 0;
        p->pos += 2;
        if (parse_and(p) < 0 || emit(p, RR_ALERT_PROG_OR) < 0) return -1;
    }
}

int rr_alert_compile(const char *expr, const rr_metric_def_t *metrics, size_t n_metrics,
                     rr_alert_t *out, char *errstr, size_t errstr_size)
{
    parser_t p;
    memset(&p, 0, sizeof p);
    p.expr = expr ? expr : "";
    p.metrics = metrics;
    p.n_metrics = metrics ? n_metrics : 0;
    p.out = out;
    p.errstr = errstr;
    p.errstr_size = errstr_size;
    if (errstr && errstr_size) errstr[0] = '\0';
    memset(out, 0, sizeof *out);

    skip_space(&p);
    if (p.expr[p.pos] == '\0') return failf(&p, "empty rule");
    if (parse_or(&p) < 0) goto fail;
    skip_space(&p);
    if (p.expr[p.pos] != '\0') {
        fail_at(&p, p.pos,
                p.expr[p.pos] == ')' ? "unmatched \")\"" : "expected \"and\", \"or\" or the end");
        goto fail;
    }
    return 0;
fail:
    memset(out, 0, sizeof *out);
    return -1;
}

static int compare(double v, uint8_t op, double rhs)
{
    switch (op) {
    case RR_ALERT_LT:
        return v < rhs;
    case RR_ALERT_LE:
        return v <= rhs;
    case RR_ALERT_GT:
        return v > rhs;
    case RR_ALERT_GE:
        return v >= rhs;
    case RR_ALERT_EQ:
        return v == rhs;
    case RR_ALERT_NE:
        return v != rhs;
    default:
        return 0;
    }
}

/* SPEC §4: a comparison on a ratio is false where its denominator is 0. */
static int eval_cmp(const rr_alert_cmp_t *c, const int64_t *num, const int64_t *den)
{
    switch (c->term) {
    case RR_ALERT_TERM_NUM:
        return compare((double)num[c->metric], c->op, c->rhs);
    case RR_ALERT_TERM_DEN:
        return compare((double)den[c->metric], c->op, c->rhs);
    default:
        if (den[c->metric] == 0) return 0;
        return compare((double)num[c->metric] / (double)den[c->metric], c->op, c->rhs);
    }
}

int rr_alert_eval(const rr_alert_t *a, const int64_t *num, const int64_t *den, double *value)
{
    uint8_t stack[RR_ALERT_MAX_CMPS] = {0};
    size_t sp = 0, i;

    if (value) {
        int have_ratio = 0;
        *value = 0.0;
        for (i = 0; i < a->n_cmps; i++) {
            const rr_alert_cmp_t *c = &a->cmps[i];
            if (c->term != RR_ALERT_TERM_RATIO) continue;
            have_ratio = 1;
            if (den[c->metric] != 0) {
                *value = (double)num[c->metric] / (double)den[c->metric];
                break;
            }
        }
        if (!have_ratio && a->n_cmps > 0) {
            const rr_alert_cmp_t *c = &a->cmps[0];
            *value = (double)(c->term == RR_ALERT_TERM_NUM ? num[c->metric] : den[c->metric]);
        }
    }

    for (i = 0; i < a->n_prog; i++) {
        uint8_t op = a->prog[i];
        if (op == RR_ALERT_PROG_AND || op == RR_ALERT_PROG_OR) {
            if (sp < 2) return 0; /* not produced by rr_alert_compile */
            sp--;
            stack[sp - 1] = op == RR_ALERT_PROG_AND ? (stack[sp - 1] && stack[sp])
                                                    : (stack[sp - 1] || stack[sp]);
        } else {
            if (op >= a->n_cmps || sp >= RR_ALERT_MAX_CMPS) return 0;
            stack[sp++] = (uint8_t)eval_cmp(&a->cmps[op], num, den);
        }
    }
    return sp == 1 ? stack[0] : 0;
}

int rr_alert_format(const rr_alert_t *a, const rr_metric_def_t *metrics, size_t n_metrics,
                    char *out, size_t size)
{
    static const char *const ops[] = {"<", "<=", ">", ">=", "==", "!="};
    static const char *const terms[] = {"ratio", "num", "den"};
    size_t len = 0, i;
    char dummy[1];

    if (!out || size == 0) {
        out = dummy;
        size = 1;
    }
    out[0] = '\0';
    for (i = 0; i < a->n_prog; i++) {
        uint8_t op = a->prog[i];
        size_t room = len < size ? size - len : 0;
        char *dst = len < size ? out + len : dummy;
        int n;
        if (room == 0) {
            dst = dummy;
            room = 1;
        }
        if (op == RR_ALERT_PROG_AND || op == RR_ALERT_PROG_OR) {
            n = snprintf(dst, room, "%s%s", i ? " " : "", op == RR_ALERT_PROG_AND ? "and" : "or");
        } else {
            const rr_alert_cmp_t *c = &a->cmps[op < a->n_cmps ? op : 0];
            const char *name = c->metric < n_metrics ? metrics[c->metric].name : "?";
            n = snprintf(dst, room, "%s%s.%s%s%.17g", i ? " " : "", name,
                         terms[c->term <= 2 ? c->term : 0], ops[c->op <= 5 ? c->op : 0], c->rhs);
        }
        if (n > 0) len += (size_t)n;
    }
    return (int)len;
}
