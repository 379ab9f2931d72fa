/* Tests for pipeline/outpaths: outputs that are an input (same path, hard link,
 * symbolic link, another spelling) or another output are refused, naming
 * both; distinct files pass. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/outpaths.h"

static char dir[64];

static void enter(void)
{
    snprintf(dir, sizeof dir, "/tmp/rr_outpaths_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(chdir(dir), 0);
    FILE *f = fopen("in.pb", "w");
    fputs("x", f);
    fclose(f);
    cr_assert_eq(link("in.pb", "hard.pb"), 0);
    cr_assert_eq(symlink("in.pb", "sym.pb"), 0);
    cr_assert_eq(symlink("nowhere.jsonl", "dangling.jsonl"), 0);
    cr_assert_eq(mkdir("sub", 0700), 0);
    cr_assert_eq(symlink("sub", "sublink"), 0);
}

static void leave(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(outpaths, .init = enter, .fini = leave);

/* The message for one input and these outputs, or "" when accepted. */
static const char *check(const char *in, const char *o1, const char *f2, const char *o2)
{
    static char err[512];
    rr_named_path_t inputs[] = {{"--input", in}};
    rr_named_path_t outputs[] = {{"--output", o1}, {f2, o2}};
    err[0] = '\0';
    if (rr_outpaths_check(inputs, in ? 1 : 0, outputs, 2, err, sizeof err) == 0) return "";
    cr_assert_neq(err[0], '\0');
    return err;
}

Test(outpaths, an_output_that_is_an_input_is_refused_however_spelt)
{
    cr_assert_str_eq(
        check("in.pb", "in.pb", "--late", NULL),
        "--output in.pb is the same file as --input in.pb: refusing to overwrite an input");
    cr_assert(strstr(check("in.pb", "hard.pb", "--late", NULL), "--output hard.pb is the same"));
    cr_assert(strstr(check("in.pb", "sym.pb", "--late", NULL), "--output sym.pb is the same"));
    cr_assert(strstr(check("sym.pb", "./sub/../in.pb", "--late", NULL), "--input sym.pb"));
    cr_assert(strstr(check("in.pb", "x.jsonl", "--dead-letter", "hard.pb"),
                     "--dead-letter hard.pb is the same file as --input in.pb"));
}

Test(outpaths, two_outputs_on_one_path_are_refused_existing_or_not)
{
    cr_assert_str_eq(check(NULL, "a.jsonl", "--late", "./a.jsonl"),
                     "--output a.jsonl and --late ./a.jsonl are the same file: give each output "
                     "a path of its own");
    cr_assert(strstr(check(NULL, "a.jsonl", "--output", "sub/../a.jsonl"), "same file"));
    cr_assert(strstr(check(NULL, "sub/a.jsonl", "--output", "sublink/a.jsonl"), "same file"));
    cr_assert(strstr(check(NULL, "dangling.jsonl", "--manifest", "nowhere.jsonl"), "same file"));
    cr_assert(strstr(check(NULL, "hard.pb", "--manifest", "sym.pb"), "same file"));
    cr_assert(strstr(check(NULL, "-", "--late", "-"), "--output - and --late - are the same"));
}

Test(outpaths, distinct_files_pass)
{
    cr_assert_str_eq(check("in.pb", "a.jsonl", "--late", "sub/a.jsonl"), "");
    cr_assert_str_eq(check("in.pb", "-", "--late", "l.jsonl"), "");
    cr_assert_str_eq(check("missing.pb", "a.jsonl", "--dead-letter", NULL), "");
    cr_assert_str_eq(check("-", "a.jsonl", "--late", "no/such/dir/a.jsonl"), "");
}

Test(outpaths, stdout_redirected_to_an_input_is_refused)
{
    int fd = open("in.pb", O_WRONLY | O_APPEND);
    cr_assert_geq(fd, 0);
    cr_assert_geq(dup2(fd, STDOUT_FILENO), 0);
    cr_assert(strstr(check("in.pb", "-", "--late", NULL),
                     "--output - is the same file as --input in.pb"));
}
