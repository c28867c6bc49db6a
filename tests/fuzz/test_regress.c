/* Replays the fuzz targets' inputs in the ordinary build: every file in fuzz/regress/<target>/
 * (inputs that once crashed a target or broke one of its invariants, kept so the bug stays
 * fixed) and every seed in fuzz/corpus/<target>/, through the same entry functions the libFuzzer
 * drivers call (fuzz/fuzz_<target>.c, included here without their LLVMFuzzerTestOneInput).
 * Each regression input is its own test, regress/<target>/<file>; the seeds are one test per
 * target, corpus/<target>. A broken invariant fails its test (cmocka catches the trap's
 * SIGILL); a sanitizer report in the ASan build ends the process. Either comes right after the
 * line "replay <file>". No fuzzing happens here; tools/fuzz.sh does that. */
#define _GNU_SOURCE /* memfd_create in fuzz_topo.c; before any system header */
#define IFB_FUZZ_NO_ENTRY

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "../../fuzz/fuzz_cfg.c"
#include "../../fuzz/fuzz_kernels.c"
#include "../../fuzz/fuzz_model.c"
#include "../../fuzz/fuzz_scenario.c"
#include "../../fuzz/fuzz_topo.c"
#include "../../fuzz/fuzz_trace.c"
#include "../../fuzz/fuzz_wire.c"

typedef struct target {
    const char *name;
    int (*fn)(const uint8_t *data, size_t size);
} target;

static const target targets[] = {
    {"cfg", ifb_fuzz_cfg},           {"model", ifb_fuzz_model}, {"kernels", ifb_fuzz_kernels},
    {"topo", ifb_fuzz_topo},         {"wire", ifb_fuzz_wire},   {"trace", ifb_fuzz_trace},
    {"scenario", ifb_fuzz_scenario},
};

static uint8_t *read_all_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        len += fread(b + len, 1, cap - len, f);
        if (len < cap)
            break;
        uint8_t *nb = realloc(b, cap * 2);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    fclose(f);
    *n = len;
    return b;
}

/* Regular files of dir in name order (NULL-terminated, malloc'd), or NULL if dir is missing. */
static char **list_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        return NULL;
    char **paths = calloc((size_t)n + 1, sizeof *paths);
    int k = 0;
    for (int i = 0; i < n; i++) {
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (paths && names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
            paths[k++] = strdup(path);
        free(names[i]);
    }
    free(names);
    return paths;
}

static void free_list(char **paths)
{
    for (int i = 0; paths && paths[i]; i++)
        free(paths[i]);
    free(paths);
}

static void replay(const target *t, const char *path)
{
    size_t len = 0;
    uint8_t *data = read_all_bytes(path, &len);
    assert_non_null(data);
    printf("replay %s (%zu bytes)\n", path, len);
    fflush(stdout);
    t->fn(data, len);
    free(data);
}

/* One regression input: its own test, so every broken one is listed. */
typedef struct regress_case {
    const target *t;
    char *path;
    char name[160];
} regress_case;

static void test_regress(void **state)
{
    const regress_case *c = *state;
    replay(c->t, c->path);
}

/* The whole seed corpus of one target. */
static void test_corpus(void **state)
{
    const target *t = *state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/fuzz/corpus/%s", IFB_SOURCE_DIR, t->name);
    char **paths = list_dir(dir);
    assert_non_null(paths);
    assert_non_null(paths[0]); /* every target has seeds */
    for (int i = 0; paths[i]; i++)
        replay(t, paths[i]);
    free_list(paths);
}

enum { NTARGETS = sizeof targets / sizeof targets[0] };

int main(void)
{
    static char corpus_names[NTARGETS][32];
    char **lists[NTARGETS];
    /* every regression input is replayed, however many there are: count them first */
    size_t total = 0;
    for (int i = 0; i < NTARGETS; i++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/fuzz/regress/%s", IFB_SOURCE_DIR, targets[i].name);
        lists[i] = list_dir(dir); /* a target without findings has no directory */
        for (int k = 0; lists[i] && lists[i][k]; k++)
            total++;
    }
    regress_case *cases = calloc(total ? total : 1, sizeof *cases);
    struct CMUnitTest *tests = calloc(total + NTARGETS, sizeof *tests);
    if (!cases || !tests) {
        fprintf(stderr, "test_regress: out of memory for %zu inputs\n", total);
        return 1;
    }
    size_t n = 0, ncase = 0;
    for (int i = 0; i < NTARGETS; i++) {
        for (int k = 0; lists[i] && lists[i][k]; k++) {
            regress_case *c = &cases[ncase++];
            const char *base = strrchr(lists[i][k], '/') + 1;
            c->t = &targets[i];
            c->path = lists[i][k];
            snprintf(c->name, sizeof c->name, "regress/%s/%s", targets[i].name, base);
            tests[n++] = (struct CMUnitTest){c->name, test_regress, NULL, NULL, c};
        }
        snprintf(corpus_names[i], sizeof corpus_names[i], "corpus/%s", targets[i].name);
        tests[n++] =
            (struct CMUnitTest){corpus_names[i], test_corpus, NULL, NULL, (void *)&targets[i]};
    }
    printf("%zu regression inputs, %d seed corpora\n", ncase, NTARGETS);
    int rc = _cmocka_run_group_tests("fuzz_regress", tests, n, NULL, NULL);
    for (int i = 0; i < NTARGETS; i++)
        free_list(lists[i]);
    free(cases);
    free(tests);
    return rc;
}
