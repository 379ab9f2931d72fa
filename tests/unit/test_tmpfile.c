/* Tests for io/tmpfile and the file sink's publication (io/filesink.h): a file
 * appears under its name only when whole; an existing file survives a
 * failed or abandoned writer; no temporary is left but by a signal's
 * _exit-less death. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/filesink.h"
#include "io/tmpfile.h"

static char dir[256];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/rr_tmpfile_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(tmpfile, .init = make_dir, .fini = remove_dir);

static const char *in_dir(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_file(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Names in dir, sorted, one per line ("" when empty). */
static const char *listing(void)
{
    static char out[4096];
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort);
    cr_assert_geq(n, 0);
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(list[i]->d_name, ".") && strcmp(list[i]->d_name, "..")) {
            strcat(out, list[i]->d_name);
            strcat(out, "\n");
        }
        free(list[i]);
    }
    free(list);
    return out;
}

static rr_filesink_t *open_sink(const char *path)
{
    char err[256];
    rr_filesink_t *s;
    cr_assert_eq(rr_filesink_open(path, 0, &s, err, sizeof err), 0, "%s", err);
    return s;
}

Test(tmpfile, a_file_appears_under_its_name_only_at_close)
{
    const char *p = in_dir("out.jsonl");
    rr_filesink_t *s = open_sink(p);
    rr_filesink_write(s, "hello\n", 6);
    char want[64];
    snprintf(want, sizeof want, ".out.jsonl.tmp.%ld\n", (long)getpid());
    cr_assert_str_eq(listing(), want);
    char err[256];
    cr_assert_eq(rr_filesink_finish(s, err, sizeof err), 0, "%s", err);
    cr_assert_null(read_file(p), "published before close");
    cr_assert_eq(rr_filesink_close(s, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(listing(), "out.jsonl\n");
    cr_assert_str_eq(read_file(p), "hello\n");
}

Test(tmpfile, an_existing_file_is_replaced_whole_at_close)
{
    const char *p = in_dir("out.csv");
    write_file(p, "old\n");
    rr_filesink_t *s = open_sink(p);
    rr_filesink_write(s, "new\n", 4);
    cr_assert_str_eq(read_file(p), "old\n");
    char err[256];
    cr_assert_eq(rr_filesink_close(s, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(read_file(p), "new\n");
    cr_assert_str_eq(listing(), "out.csv\n");
}

Test(tmpfile, abort_leaves_the_existing_file_and_no_temporary)
{
    const char *p = in_dir("last_good.jsonl");
    write_file(p, "good\n");
    rr_filesink_t *s = open_sink(p);
    rr_filesink_write(s, "partial", 7);
    rr_filesink_abort(s);
    cr_assert_str_eq(read_file(p), "good\n");
    cr_assert_str_eq(listing(), "last_good.jsonl\n");
    rr_filesink_abort(NULL);
}

Test(tmpfile, a_failed_write_publishes_nothing_and_removes_the_temporary)
{
    /* a 64 KB file size limit: write(2) fails with EFBIG past it */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {65536, 65536};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    const char *p = in_dir("big.pb");
    write_file(p, "previous\n");
    rr_filesink_t *s = open_sink(p);
    uint8_t *buf = calloc(1, RR_FILESINK_BUF + 1);
    rr_filesink_write(s, buf, RR_FILESINK_BUF + 1);
    char err[256] = "";
    cr_assert_eq(rr_filesink_finish(s, err, sizeof err), -1);
    cr_assert(strstr(err, "big.pb") && strstr(err, "write"), "%s", err);
    cr_assert_eq(rr_filesink_close(s, err, sizeof err), -1);
    cr_assert_str_eq(read_file(p), "previous\n");
    cr_assert_str_eq(listing(), "big.pb\n");
    free(buf);
}

Test(tmpfile, a_symbolic_link_keeps_pointing_at_the_replaced_target)
{
    const char *target = in_dir("real.jsonl"), *link = in_dir("link.jsonl");
    write_file(target, "old\n");
    cr_assert_eq(symlink(target, link), 0);
    rr_filesink_t *s = open_sink(link);
    rr_filesink_write(s, "new\n", 4);
    char err[256];
    cr_assert_eq(rr_filesink_close(s, err, sizeof err), 0, "%s", err);
    struct stat st;
    cr_assert_eq(lstat(link, &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "the link was replaced by a file");
    cr_assert_str_eq(read_file(target), "new\n");
}

Test(tmpfile, two_writers_of_one_name_get_two_temporaries)
{
    const char *p = in_dir("a.pb");
    rr_filesink_t *s1 = open_sink(p), *s2 = open_sink(p);
    char want[128];
    snprintf(want, sizeof want, ".a.pb.tmp.%ld\n.a.pb.tmp.%ld.1\n", (long)getpid(), (long)getpid());
    cr_assert_str_eq(listing(), want);
    rr_filesink_abort(s1);
    rr_filesink_abort(s2);
    cr_assert_str_eq(listing(), "");
}

Test(tmpfile, a_stale_temporary_of_this_pid_is_left_alone)
{
    char stale[512];
    snprintf(stale, sizeof stale, "%s/.x.jsonl.tmp.%ld", dir, (long)getpid());
    write_file(stale, "killed run\n");
    rr_filesink_t *s = open_sink(in_dir("x.jsonl"));
    char err[256];
    cr_assert_eq(rr_filesink_close(s, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(read_file(stale), "killed run\n");
    cr_assert_str_eq(read_file(in_dir("x.jsonl")), "");
}

Test(tmpfile, a_signal_handler_can_remove_every_temporary_in_flight)
{
    rr_filesink_t *a = open_sink(in_dir("a.jsonl")), *b = open_sink(in_dir("b.csv.zst"));
    rr_filesink_t *c = open_sink(in_dir("c.pb"));
    char err[256];
    cr_assert_eq(rr_filesink_close(c, err, sizeof err), 0, "%s", err);
    rr_tmpfile_discard_all_signal_safe();
    cr_assert_str_eq(listing(), "c.pb\n", "published files stay, temporaries go");
    rr_filesink_abort(a);
    rr_filesink_abort(b);
}

Test(tmpfile, devices_and_fifos_are_written_directly)
{
    rr_filesink_t *s = open_sink("/dev/null");
    rr_filesink_write(s, "x", 1);
    char err[256];
    cr_assert_eq(rr_filesink_close(s, err, sizeof err), 0, "%s", err);
    struct stat st;
    cr_assert_eq(stat("/dev/null", &st), 0);
    cr_assert(S_ISCHR(st.st_mode));

    const char *fifo = in_dir("pipe.jsonl");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    FILE *r = NULL;
    pid_t pid = fork();
    if (pid == 0) { /* the reader the FIFO needs to be opened for writing */
        r = fopen(fifo, "r");
        char buf[16] = "";
        size_t n = r ? fread(buf, 1, sizeof buf, r) : 0;
        _exit(n == 3 && !memcmp(buf, "ok\n", 3) ? 0 : 1);
    }
    s = open_sink(fifo);
    rr_filesink_write(s, "ok\n", 3);
    cr_assert_eq(rr_filesink_close(s, err, sizeof err), 0, "%s", err);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the reader did not get the bytes");
    cr_assert_str_eq(listing(), "pipe.jsonl\n");
}

Test(tmpfile, open_failure_names_the_final_path_not_the_temporary)
{
    char err[256] = "";
    rr_filesink_t *s = (rr_filesink_t *)1;
    cr_assert_eq(rr_filesink_open(in_dir("no/such/dir/o.jsonl"), 0, &s, err, sizeof err), -1);
    cr_assert_null(s);
    cr_assert(strstr(err, "no/such/dir/o.jsonl: cannot open for writing"), "%s", err);
    cr_assert_null(strstr(err, ".tmp."), "%s", err);
}

Test(tmpfile, sha256_of_a_finished_file_is_sha256sum_s)
{
    const char *p = in_dir("h.pb.zst");
    rr_filesink_t *s = open_sink(p);
    for (int i = 0; i < 3000; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "record %d\n", i);
        rr_filesink_write(s, line, (size_t)n);
    }
    char err[256];
    uint8_t d[32];
    cr_assert_eq(rr_filesink_sha256(s, d, err, sizeof err), -1, "hashed before finish");
    cr_assert_eq(rr_filesink_finish(s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rr_filesink_sha256(s, d, err, sizeof err), 0, "%s", err);
    uint64_t out = rr_filesink_bytes_out(s);
    cr_assert_eq(rr_filesink_close(s, err, sizeof err), 0, "%s", err);
    char cmd[600], got[65] = "", want[65];
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", p);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    cr_assert_eq(fscanf(f, "%64s", got), 1);
    pclose(f);
    for (int i = 0; i < 32; i++)
        sprintf(want + 2 * i, "%02x", d[i]);
    cr_assert_str_eq(want, got);
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_assert_eq((uint64_t)st.st_size, out);
}
