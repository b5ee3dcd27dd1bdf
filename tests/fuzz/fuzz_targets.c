/* libFuzzer target: the targets parser on arbitrary bytes.  The input is
 * parsed as one target text (with and without --sni), then read as a
 * targets file and as a CSV inventory through cs_targets (a memfd, so
 * nothing touches the disk).
 * Beyond the sanitizers it checks what callers rely on: a parsed name is an
 * ASCII host of at most 253 characters with an SNI, a bad line's record host
 * is escaped and short and has no labels, labels keep their caps, and the
 * reader hands out what it counts. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scanner/certfiles.h"
#include "scanner/targets.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_targets: check failed: %s (line %d)\n", #cond, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* sni: the --sni given; any_sni: an inventory's sni column may name another */
static void fuzz_check_target(const struct cs_target *t, const char *sni, bool any_sni)
{
    FUZZ_CHECK(t->host != NULL);
    FUZZ_CHECK(t->labels.n <= CS_LABELS_MAX);
    for (size_t i = 0; i < t->labels.n; i++) {
        const char *name = t->labels.name[i];
        FUZZ_CHECK(cs_label_name_check(name, strlen(name)) == NULL);
        FUZZ_CHECK(strlen(t->labels.value[i]) <= CS_LABEL_VALUE_MAX);
    }
    if (t->bad) {
        FUZZ_CHECK(t->labels.n == 0);
        FUZZ_CHECK(strlen(t->host) <= 253);
        for (const char *p = t->host; *p; p++)
            FUZZ_CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
        return;
    }
    if (t->probe && strcmp(t->probe, CS_FILE_PROBE) == 0) { /* file:PATH: a path, no port */
        FUZZ_CHECK(t->host[0] != '\0' && t->port == 0 && t->family == 0);
        return;
    }
    FUZZ_CHECK(t->port != 0);
    if (sni)
        FUZZ_CHECK(t->sni && strcmp(t->sni, sni) == 0);
    if (t->family != 0)
        return;
    /* a name: ASCII letters, digits, '-', '_', '.', at most 253; SNI = host */
    size_t len = strlen(t->host);
    FUZZ_CHECK(len > 0 && len <= 253);
    for (const char *p = t->host; *p; p++)
        FUZZ_CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.",
                          *p) != NULL);
    if (!sni)
        FUZZ_CHECK(t->sni && (any_sni || strcmp(t->sni, t->host) == 0));
    if (t->unicode) { /* only a name written with non-ASCII characters has one */
        int non_ascii = 0;
        for (const char *p = t->unicode; *p; p++)
            non_ascii |= (unsigned char)*p >= 0x80;
        FUZZ_CHECK(non_ascii);
    }
}

static void fuzz_parse(const char *text)
{
    struct cs_target t;
    static const char *const snis[] = {NULL, "override.example"};
    for (size_t i = 0; i < 2; i++) {
        if (cs_target_parse(text, 443, snis[i], &t) == NULL)
            fuzz_check_target(&t, snis[i], false);
        cs_target_free(&t);
    }
}

static void fuzz_file(const uint8_t *data, size_t size, const char *format)
{
    int fd = memfd_create("targets", MFD_CLOEXEC);
    if (fd < 0)
        return;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    char *files[] = {path};
    struct cs_options o;
    cs_options_init(&o);
    o.files = files;
    o.n_files = 1;
    o.targets_format = format;
    char err[1024];
    struct cs_targets *ts = cs_targets_open(&o, err, sizeof(err));
    if (ts == NULL && strcmp(format, "csv") == 0) { /* a header it refuses */
        close(fd);
        return;
    }
    FUZZ_CHECK(ts != NULL);
    struct cs_strlist names;
    cs_targets_label_names(ts, &names);
    FUZZ_CHECK(names.n <= CS_LABEL_NAMES_MAX);
    cs_strlist_free(&names);
    struct cs_target t;
    uint64_t got = 0, bad = 0;
    while (cs_targets_next(ts, &t) > 0) {
        fuzz_check_target(&t, NULL, strcmp(format, "csv") == 0);
        got++;
        bad += t.bad != NULL;
        cs_target_free(&t);
    }
    FUZZ_CHECK(cs_targets_count(ts) == got);
    FUZZ_CHECK(cs_targets_bad(ts) == bad);
    cs_targets_close(ts);
    o.files = NULL;
    o.n_files = 0;
    cs_options_free(&o);
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    fuzz_parse(text);
    free(text);
    fuzz_file(data, size, "text");
    fuzz_file(data, size, "csv");
    return 0;
}
