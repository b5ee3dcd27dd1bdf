/* certsweep as people install it: --version against the libraries the
 * dynamic linker finds, the completions in the real bash, zsh and fish,
 * `cmake --install`'s file list, the .deb (its Depends from the binary's
 * libraries, its files, installed with dpkg, a scan of the test fleet with
 * the installed binary, removed), the Containerfile against the .deb and the
 * Kubernetes samples (built only where a container engine runs), and the
 * demo in a build configured without the test suite. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scanner/options.h"
#include "tests/support/fleet.h"
#include "tests/support/fleet_targets.h"
#include "tests/support/pki.h"
#include "tests/support/runner.h"
#include "version.h"

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define SH_TIMEOUT 1500 /* a build or a package of the whole scanner on a busy machine */

static char *dir;
static bool deb_installed; /* this test installed the .deb: teardown removes it */

static void setup(void)
{
    dir = temp_dir();
    cr_assert_not_null(dir);
}

static void teardown(void)
{
    if (deb_installed) {
        struct run_result r;
        if (run_binary("/usr/bin/dpkg", NAMES("-r", "certsweep"), NULL, 300, &r) == 0)
            run_result_free(&r);
        deb_installed = false;
    }
    remove_tree(dir);
    free(dir);
    dir = NULL;
}

TestSuite(package, .init = setup, .fini = teardown, .timeout = 1800);

/* `sh -c script $1 $2 ...`: the arguments reach the script as "$1"...
   unquoted by nobody. */
static void sh(const char *script, const char *const *args, struct run_result *r)
{
    const char *argv[16] = {"-c", script, "sh"};
    size_t n = 3;
    for (; args && *args && n < 15; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    cr_assert_eq(run_binary("/bin/sh", argv, NULL, SH_TIMEOUT, r), 0, "cannot run %s", script);
}

/* sh() that must exit 0; its standard output, which the caller frees. */
static char *sh_ok(const char *script, const char *const *args)
{
    struct run_result r;
    sh(script, args, &r);
    cr_assert_eq(r.status, 0, "%s: exit %d\n%s%s", script, r.status, r.out, r.err);
    char *out = r.out;
    r.out = NULL;
    run_result_free(&r);
    return out;
}

/* The line of text that starts with prefix (its rest, up to the newline, in
   buf); false if none. */
static bool line_after(const char *text, const char *prefix, char *buf, size_t len)
{
    size_t plen = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, prefix, plen) == 0) {
            size_t n = strcspn(p + plen, "\n");
            snprintf(buf, len, "%.*s", (int)n, p + plen);
            return true;
        }
    }
    return false;
}

/* ---- the libraries the binary links ------------------------------------------------------- */

/* What --version calls a library, by the start of its soname; NULL: a library
   it does not list (the C library, the sanitizers' runtimes). */
static const struct {
    const char *soname;
    const char *name;
} library_names[] = {
    {"libuv.so.", "libuv"},       {"libcares.so.", "c-ares"}, {"libjansson.so.", "jansson"},
    {"libidn2.so.", "libidn2"},   {"libcurl.so.", "libcurl"}, {"libexpat.so.", "expat"},
    {"libsqlite3.so.", "SQLite"}, {"libssl.so.", "OpenSSL"},  {"libcrypto.so.", "OpenSSL"},
    {"libcsv.so.", "libcsv"},     {"libc.so.", NULL},         {"libm.so.", NULL},
    {"libasan.so.", NULL},        {"libubsan.so.", NULL},     {"libtsan.so.", NULL},
    {"libgcc_s.so.", NULL},
};

static bool known_library(const char *soname, const char **name)
{
    for (size_t i = 0; i < sizeof library_names / sizeof library_names[0]; i++)
        if (strncmp(soname, library_names[i].soname, strlen(library_names[i].soname)) == 0) {
            *name = library_names[i].name;
            return true;
        }
    return false;
}

struct needed {
    char soname[64], path[256], package[64], version[64];
};

/* Each library the binary names (DT_NEEDED, not what those pull in), where
   the linker finds it, the Debian package that holds it and its version. */
static size_t needed_libraries(const char *binary, struct needed *out, size_t max)
{
    static const char script[] =
        "set -e\n"
        "readelf -d \"$1\" | sed -n 's/.*Shared library: \\[\\(.*\\)\\]/\\1/p' |\n"
        "while read -r so; do\n"
        "  path=$(ldd \"$1\" | awk -v so=\"$so\" '$1 == so { print $3 }')\n"
        "  [ -n \"$path\" ] || { echo \"$so not found by ldd\" >&2; exit 1; }\n"
        "  pkg=$(dpkg -S \"$path\" 2>/dev/null || dpkg -S \"/usr$path\" 2>/dev/null ||\n"
        "        dpkg -S \"${path#/usr}\")\n"
        "  pkg=${pkg%%:*}\n"
        "  echo \"$so $path $pkg $(dpkg-query -W -f='${Version}' \"$pkg\")\"\n"
        "done\n";
    char *text = sh_ok(script, NAMES(binary));
    size_t n = 0;
    for (char *line = strtok(text, "\n"); line && n < max; line = strtok(NULL, "\n")) {
        struct needed *l = &out[n];
        cr_assert_eq(
            sscanf(line, "%63s %255s %63s %63s", l->soname, l->path, l->package, l->version), 4,
            "%s", line);
        n++;
    }
    free(text);
    cr_assert_gt(n, 0, "%s names no library", binary);
    return n;
}

/* A Debian version's upstream part: no epoch, no revision, no +dfsg or ~. */
static void upstream(const char *version, char *buf, size_t len)
{
    const char *colon = strchr(version, ':');
    const char *v = colon ? colon + 1 : version;
    snprintf(buf, len, "%.*s", (int)strcspn(v, "-+~"), v);
}

/* The version first line from CMakeLists.txt's project(): the one source. */
static void project_version(char *buf, size_t len)
{
    char *cmake = slurp(CS_SOURCE_DIR "/CMakeLists.txt", NULL);
    cr_assert_not_null(cmake);
    char *p = strstr(cmake, "project(certsweep VERSION ");
    cr_assert_not_null(p, "CMakeLists.txt has no project(certsweep VERSION ...)");
    p += strlen("project(certsweep VERSION ");
    snprintf(buf, len, "%.*s", (int)strspn(p, "0123456789."), p);
    free(cmake);
}

/* --version: the version of CMakeLists.txt, then every library the binary
   links with the version the machine's package of it has (what the dynamic
   linker loads), OpenSSL as the openssl program reports its library. */
static void check_version_output(const char *binary)
{
    struct run_result r;
    cr_assert_eq(run_binary(binary, NAMES("--version"), NULL, 60, &r), 0);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char want[64], first[80];
    project_version(want, sizeof want);
    cr_assert_str_eq(want, CS_VERSION);
    snprintf(first, sizeof first, "certsweep %s\n", want);
    cr_assert_eq(strncmp(r.out, first, strlen(first)), 0, "not '%s' first:\n%s", first, r.out);

    char *openssl = sh_ok("openssl version", NULL);
    char *lib = strstr(openssl, "(Library: ");
    cr_assert_not_null(lib, "%s", openssl);
    lib += strlen("(Library: ");
    char expect[256];
    snprintf(expect, sizeof expect, "  %.*s\n", (int)strcspn(lib, ")"), lib);
    cr_assert(strstr(r.out, expect), "--version lacks '%s' (openssl version: %s):\n%s", expect,
              openssl, r.out);
    free(openssl);

    struct needed libs[64];
    size_t n = needed_libraries(binary, libs, 64);
    for (size_t i = 0; i < n; i++) {
        const char *name;
        cr_assert(known_library(libs[i].soname, &name),
                  "certsweep links %s, which this test does not know: does --version list it?",
                  libs[i].soname);
        if (!name)
            continue;
        char prefix[64], version[64], got[128];
        snprintf(prefix, sizeof prefix, "  %s ", name);
        cr_assert(line_after(r.out, prefix, got, sizeof got), "--version lacks %s (%s):\n%s", name,
                  libs[i].soname, r.out);
        upstream(libs[i].version, version, sizeof version);
        got[strcspn(got, " ")] = '\0';
        cr_assert_str_eq(got, version, "%s: --version says %s, the package %s %s", name, got,
                         libs[i].package, libs[i].version);
    }
    run_result_free(&r);
}

Test(package, version_names_the_libraries_in_use)
{
    check_version_output(CS_BINARY);
}

/* ---- completions -------------------------------------------------------------------------- */

#define GENERATED CS_BUILD_DIR "/generated/"

Test(package, completions_parse_and_complete_in_their_shells)
{
    free(sh_ok("bash -n \"$1\"", NAMES(GENERATED "certsweep.bash")));
    cr_assert_eq(access("/usr/bin/zsh", X_OK), 0, "no zsh: run samples/install-deps.sh");
    cr_assert_eq(access("/usr/bin/fish", X_OK), 0, "no fish: run samples/install-deps.sh");
    free(sh_ok("zsh -n \"$1\"", NAMES(GENERATED "_certsweep")));
    free(sh_ok("fish --no-execute \"$1\"", NAMES(GENERATED "certsweep.fish")));

    /* the build's file is the binary's, and names every option of the table
       with its letter */
    struct run_result r;
    cr_assert_eq(run_certsweep(NAMES("--print-fish-completion"), NULL, &r), 0);
    cr_assert_eq(r.status, 0);
    char *fish = slurp(GENERATED "certsweep.fish", NULL);
    cr_assert_not_null(fish, "the build wrote no fish completion");
    cr_assert_str_eq(fish, r.out);
    run_result_free(&r);
    size_t n = 0;
    char letter;
    const char *metavar, *name;
    for (; (name = cs_cli_option(n, &letter, &metavar)); n++) {
        char want[128];
        if (letter)
            snprintf(want, sizeof want, "complete -c certsweep -s %c -l %s ", letter, name);
        else
            snprintf(want, sizeof want, "complete -c certsweep -l %s ", name);
        cr_assert(strstr(fish, want), "the fish completion lacks '%s'", want);
        /* an option that takes an argument says so (-r or -x) */
        const char *at = strstr(fish, want) + strlen(want);
        bool takes = strncmp(at, "-r ", 3) == 0 || strncmp(at, "-x", 2) == 0;
        cr_assert_eq(takes, metavar != NULL, "--%s: %.40s", name, at);
    }
    cr_assert_geq(n, 36, "only %zu options", n);
    cr_assert_null(strstr(fish, "print-"), "a hidden option in the fish completion");
    free(fish);

    /* fish itself completes from it: an option's words, a long name, a
       format, a directory argument without files */
    char *got = sh_ok("cd \"$2\" && mkdir sub && touch file && fish -c 'source $argv[1]; "
                      "complete -C \"certsweep --fail-on c\"; complete -C \"certsweep --crl-m\"; "
                      "complete -C \"certsweep -F js\"; complete -C \"certsweep --ca-path \"' "
                      "\"$1\"",
                      NAMES(GENERATED "certsweep.fish", dir));
    cr_assert_str_eq(got, "critical\twhich statuses count toward the exit code\n"
                          "--crl-max-size\tlargest CRL\n"
                          "json\tformat of the report on standard output\n"
                          "jsonl\tformat of the report on standard output\n"
                          "sub/\tDirectory\n");
    free(got);
}

/* ---- cmake --install ---------------------------------------------------------------------- */

/* What an install holds under its prefix, besides share/certsweep/schema/. */
static const char *const installed_files[] = {
    "bin/certsweep",
    "share/bash-completion/completions/certsweep",
    "share/doc/certsweep/CHANGELOG.md",
    "share/doc/certsweep/LICENSE",
    "share/doc/certsweep/README.md",
    "share/doc/certsweep/copyright",
    "share/doc/certsweep/examples/ci/github-workflow.yml",
    "share/doc/certsweep/examples/ci/gitlab-ci.yml",
    "share/doc/certsweep/examples/container/Containerfile",
    "share/doc/certsweep/examples/cron/certsweep.cron",
    "share/doc/certsweep/examples/domains.txt",
    "share/doc/certsweep/examples/kubernetes/cronjob.yaml",
    "share/doc/certsweep/examples/kubernetes/sharded-job.yaml",
    "share/doc/certsweep/examples/parallel/shards.sh",
    "share/doc/certsweep/examples/systemd/certsweep-shard@.service",
    "share/doc/certsweep/examples/systemd/certsweep.service",
    "share/doc/certsweep/examples/systemd/certsweep.timer",
    "share/fish/vendor_completions.d/certsweep.fish",
    "share/man/man1/certsweep.1",
    "share/zsh/site-functions/_certsweep",
};

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The expected files under prefix (with a trailing '/', or ""), sorted, one
   a line: the list above and each JSON Schema of report/schema/. */
static char *expected_files(const char *prefix)
{
    char *names[64];
    size_t n = 0;
    for (size_t i = 0; i < sizeof installed_files / sizeof installed_files[0]; i++)
        cr_assert(asprintf(&names[n++], "%s%s", prefix, installed_files[i]) > 0);
    glob_t g;
    if (glob(CS_SOURCE_DIR "/report/schema/*.json", 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc && n < 64; i++)
            cr_assert(asprintf(&names[n++], "%sshare/certsweep/schema/%s", prefix,
                               strrchr(g.gl_pathv[i], '/') + 1) > 0);
        globfree(&g);
    }
    qsort(names, n, sizeof names[0], compare_strings);
    char *list = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&list, &len);
    for (size_t i = 0; i < n; i++) {
        fprintf(m, "%s\n", names[i]);
        free(names[i]);
    }
    fclose(m);
    return list;
}

Test(package, install_puts_every_file_in_place)
{
    const char *root = dir_path(dir, "root");
    free(sh_ok("\"$1\" --install \"$2\" --prefix \"$3\" >/dev/null",
               NAMES(CS_CMAKE_COMMAND, CS_BUILD_DIR, root)));
    char *got =
        sh_ok("cd \"$1\" && find . ! -type d | sed 's|^\\./||' | LC_ALL=C sort", NAMES(root));
    char *want = expected_files("");
    cr_assert_str_eq(got, want, "installed:\n%s\nexpected:\n%s", got, want);
    free(got);
    free(want);

    /* the installed binary runs; the completions and the man page are the
       binary's own; the shards script stays executable */
    char bin[4096];
    snprintf(bin, sizeof bin, "%s/bin/certsweep", root);
    check_version_output(bin);
    static const struct {
        const char *installed, *generated;
    } same[] = {
        {"share/man/man1/certsweep.1", "certsweep.1"},
        {"share/bash-completion/completions/certsweep", "certsweep.bash"},
        {"share/zsh/site-functions/_certsweep", "_certsweep"},
        {"share/fish/vendor_completions.d/certsweep.fish", "certsweep.fish"},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        char *a = slurp(dir_path(root, "%s", same[i].installed), NULL);
        char *b = slurp(dir_path(CS_BUILD_DIR "/generated", "%s", same[i].generated), NULL);
        cr_assert(a && b && strcmp(a, b) == 0, "%s is not the build's", same[i].installed);
        free(a);
        free(b);
    }
    cr_assert_eq(access(dir_path(root, "share/doc/certsweep/examples/parallel/shards.sh"), X_OK),
                 0);

    /* Debian's copyright file: machine-readable, LICENSE's every line in
       its License paragraph */
    char *copyright = slurp(dir_path(root, "share/doc/certsweep/copyright"), NULL);
    char *license = slurp(CS_SOURCE_DIR "/LICENSE", NULL);
    cr_assert(copyright && license);
    static const char format[] =
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n";
    cr_assert_eq(strncmp(copyright, format, strlen(format)), 0, "%s", copyright);
    cr_assert_not_null(strstr(copyright, "\nFiles: *\n"), "%s", copyright);
    cr_assert_not_null(strstr(copyright, "\nLicense: Expat\n MIT License\n"), "%s", copyright);
    char *save;
    for (char *l = strtok_r(license, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char line[512];
        snprintf(line, sizeof line, "\n %s\n", l);
        cr_assert_not_null(strstr(copyright, line), "LICENSE's '%s' is not in:\n%s", l, copyright);
    }
    free(copyright);
    free(license);
}

/* ---- the .deb ----------------------------------------------------------------------------- */

/* The package names of a Depends field ("libc6 (>= 2.34), libuv1 (>= 1.11)"),
   sorted, one a line. */
static char *depends_names(const char *field)
{
    char *names[64];
    size_t n = 0;
    const char *p = field;
    while (*p && n < 64) {
        p += strspn(p, " ,|\n");
        size_t w = strcspn(p, " ,|(\n");
        if (w)
            names[n++] = strndup(p, w);
        p += w;
        if (*p == '(')
            p += strcspn(p, ")") + (p[strcspn(p, ")")] == ')');
    }
    qsort(names, n, sizeof names[0], compare_strings);
    char *list = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&list, &len);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
            fprintf(m, "%s\n", names[i]);
    fclose(m);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    return list;
}

/* The packages of the libraries the binary names, as depends_names lists. */
static char *needed_packages(const char *binary)
{
    struct needed libs[64];
    size_t n = needed_libraries(binary, libs, 64);
    char *field = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&field, &len);
    for (size_t i = 0; i < n; i++)
        fprintf(m, "%s, ", libs[i].package);
    fclose(m);
    char *names = depends_names(field);
    free(field);
    return names;
}

/* Builds the .deb into dir/pkg with cpack; its path (static). */
static const char *build_deb(void)
{
    free(sh_ok("cpack --config \"$1/CPackConfig.cmake\" -B \"$2\" >\"$2.log\" 2>&1 || "
               "{ cat \"$2.log\"; exit 1; }",
               NAMES(CS_BUILD_DIR, dir_path(dir, "pkg"))));
    static char path[4096];
    glob_t g;
    cr_assert_eq(glob(dir_path(dir, "pkg/certsweep_*.deb"), 0, NULL, &g), 0, "cpack made no .deb");
    cr_assert_eq(g.gl_pathc, 1);
    snprintf(path, sizeof path, "%s", g.gl_pathv[0]);
    globfree(&g);
    char *arch = sh_ok("dpkg --print-architecture | tr -d '\\n'", NULL);
    char want[256];
    snprintf(want, sizeof want, "certsweep_%s_%s.deb", CS_VERSION, arch);
    cr_assert_str_eq(strrchr(path, '/') + 1, want);
    free(arch);
    return path;
}

static char *deb_field(const char *deb, const char *field)
{
    char *v = sh_ok("dpkg-deb -f \"$1\" \"$2\"", NAMES(deb, field));
    v[strcspn(v, "\n")] = '\0';
    return v;
}

/* Every status as the fleet's scenarios expect, and the leaf's fingerprint and
   end date, in the CSV the installed binary wrote. */
static bool pick_tls(const struct fleet_scenario *s)
{
    return s->behaviour == FLEET_TLS && s->scheme == NULL;
}

static void scan_fleet_with(const char *binary)
{
    struct fleet_options o = {0};
    struct fleet *f = fleet_start(&o);
    cr_assert_not_null(f, "fleet_start failed");
    struct fleet_args pins = {0};
    char *targets = fleet_targets_write(f, dir, pick_tls, NULL, &pins);
    cr_assert_not_null(targets);
    const char *csv = dir_path(dir, "installed.csv");
    const char *fixed[] = {"--ca-file", fleet_ca_file(f), "-f", targets, "-t", "10", "-q", "-o",
                           csv};
    const char **args = fleet_args_join(fixed, sizeof fixed / sizeof fixed[0], &pins, NULL);
    struct run_result r;
    cr_assert_eq(run_binary(binary, args, NULL, 600, &r), 0);
    free(args);
    bool expired = false;
    for (size_t i = 0; i < fleet_count(f); i++)
        if (pick_tls(fleet_at(f, i)) && strcmp(fleet_at(f, i)->expect_status, "EXPIRED") == 0)
            expired = true;
    cr_assert(expired, "the fleet has no expired endpoint");
    cr_assert_eq(r.status, 2, "exit %d (an EXPIRED endpoint is 2): %s", r.status, r.err);
    run_result_free(&r);

    size_t len;
    char *text = slurp(csv, &len);
    cr_assert_not_null(text, "the installed binary wrote no %s", csv);
    struct csv_doc d;
    cr_assert_eq(csv_doc_parse(text, len, &d), 0);
    size_t scanned = 0;
    for (size_t i = 0; i < fleet_count(f); i++) {
        const struct fleet_scenario *s = fleet_at(f, i);
        if (!pick_tls(s))
            continue;
        scanned++;
        char port[8], sha[65], not_after[24];
        snprintf(port, sizeof port, "%u", (unsigned)s->port);
        size_t row = 0;
        for (size_t k = 1; k < d.nrows && !row; k++)
            if (strcmp(csv_doc_get(&d, k, "host"), s->host) == 0 &&
                strcmp(csv_doc_get(&d, k, "port"), port) == 0)
                row = k;
        cr_assert_gt(row, 0, "%s: no row for %s:%s", s->name, s->host, port);
        cr_assert_str_eq(csv_doc_get(&d, row, "status"), s->expect_status, "%s: %s", s->name,
                         csv_doc_get(&d, row, "reason"));
        pki_sha256_hex(s->leaf.x509, sha);
        cr_assert_str_eq(csv_doc_get(&d, row, "sha256"), sha, "%s", s->name);
        pki_iso_time(pki_not_after(s->leaf.x509), not_after);
        cr_assert_str_eq(csv_doc_get(&d, row, "not_after"), not_after, "%s", s->name);
    }
    cr_assert_eq(d.nrows, scanned + 1, "%zu rows for %zu endpoints", d.nrows - 1, scanned);
    cr_assert_geq(scanned, 10);
    csv_doc_free(&d);
    free(text);
    free(targets);
    fleet_args_free(&pins);
    fleet_stop(f);
}

Test(package, deb_declares_its_libraries_installs_scans_and_is_removed)
{
    const char *deb = build_deb();
    char *field;
    cr_assert_str_eq(field = deb_field(deb, "Package"), "certsweep");
    free(field);
    cr_assert_str_eq(field = deb_field(deb, "Version"), CS_VERSION);
    free(field);
    cr_assert_str_eq(field = deb_field(deb, "Section"), "net");
    free(field);
    cr_assert_str_eq(field = deb_field(deb, "Recommends"), "ca-certificates");
    free(field);
    field = deb_field(deb, "Maintainer");
    cr_assert(strchr(field, '<') && strchr(field, '>'), "Maintainer: %s", field);
    free(field);

    /* Depends: exactly the packages of the libraries the binary names */
    field = deb_field(deb, "Depends");
    char *got = depends_names(field), *want = needed_packages(CS_BINARY);
    cr_assert_str_eq(got, want, "Depends: %s\nexpected the packages of:\n%s", field, want);
    cr_assert(strstr(got, "libssl3\n") && strstr(got, "libuv1\n") && strstr(got, "libc-ares2\n"),
              "%s", got);
    free(got);
    free(want);
    free(field);

    /* the files: those of an install under /usr, nothing of the tests */
    got = sh_ok("dpkg-deb -c \"$1\" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\\./||' | "
                "LC_ALL=C sort",
                NAMES(deb));
    want = expected_files("usr/");
    cr_assert_str_eq(got, want, "dpkg -c:\n%s\nexpected:\n%s", got, want);
    free(got);
    free(want);

    if (geteuid() != 0)
        cr_skip_test("the .deb was built and inspected, but not installed: dpkg -i needs root");
    struct run_result r;
    sh("dpkg-query -W -f '${Status}' certsweep 2>/dev/null", NULL, &r);
    bool present = strstr(r.out, "ok installed") != NULL;
    run_result_free(&r);
    if (present || access("/usr/bin/certsweep", F_OK) == 0)
        cr_skip_test("certsweep is installed on this machine already: the .deb was built and "
                     "inspected, but not installed over it");

    deb_installed = true;
    free(sh_ok("dpkg -i \"$1\" >/dev/null", NAMES(deb)));
    char *owner = sh_ok("dpkg -S /usr/bin/certsweep", NULL);
    cr_assert_eq(strncmp(owner, "certsweep: ", 11), 0, "%s", owner);
    free(owner);
    check_version_output("/usr/bin/certsweep");
    cr_assert_eq(access("/usr/share/fish/vendor_completions.d/certsweep.fish", R_OK), 0);
    scan_fleet_with("/usr/bin/certsweep");

    free(sh_ok("dpkg -r certsweep >/dev/null", NULL));
    deb_installed = false;
    cr_assert_neq(access("/usr/bin/certsweep", F_OK), 0, "dpkg -r left /usr/bin/certsweep");
    sh("dpkg-query -W -f '${Status}' certsweep 2>/dev/null", NULL, &r);
    cr_assert_null(strstr(r.out, "ok installed"), "%s", r.out);
    run_result_free(&r);
}

/* ---- the Containerfile -------------------------------------------------------------------- */

#define CONTAINERFILE CS_SOURCE_DIR "/samples/container/Containerfile"

/* The words of a Containerfile's lines from `from` (a FROM line's text) to
   the next FROM, continuation lines joined. */
static char *stage(const char *text, const char *from)
{
    const char *start = strstr(text, from);
    cr_assert_not_null(start, "the Containerfile has no '%s'", from);
    const char *end = strstr(start + strlen(from), "\nFROM ");
    size_t n = end ? (size_t)(end - start) : strlen(start);
    char *s = strndup(start, n);
    for (char *p = s; (p = strstr(p, "\\\n"));)
        p[0] = p[1] = ' ';
    return s;
}

/* The packages an `apt-get install` of a stage names, sorted, one a line. */
static char *apt_installs(const char *stage_text)
{
    const char *p = strstr(stage_text, "apt-get install ");
    cr_assert_not_null(p, "%s", stage_text);
    p += strlen("apt-get install ");
    size_t n = strcspn(p, "&\n");
    char *words = strndup(p, n), *list = NULL, *names[64];
    size_t k = 0, len = 0;
    for (char *w = strtok(words, " "); w && k < 64; w = strtok(NULL, " "))
        if (w[0] != '-')
            names[k++] = w;
    qsort(names, k, sizeof names[0], compare_strings);
    FILE *m = open_memstream(&list, &len);
    for (size_t i = 0; i < k; i++)
        fprintf(m, "%s\n", names[i]);
    fclose(m);
    free(words);
    return list;
}

/* Each "key: N" of text equals want; how many there are. */
static size_t all_equal(const char *text, const char *key, long want, const char *file)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, key)); p += strlen(key)) {
        long v = strtol(p + strlen(key), NULL, 10);
        cr_assert_eq(v, want, "%s: %s %ld, the Containerfile's user %ld", file, key, v, want);
        n++;
    }
    return n;
}

Test(package, containerfile_agrees_with_the_package_and_kubernetes)
{
    char *text = slurp(CONTAINERFILE, NULL);
    cr_assert_not_null(text);
    cr_assert(strstr(text, "\nFROM debian:bookworm-slim AS build\n"), "build stage");
    char *runtime = stage(text, "\nFROM debian:bookworm-slim\n");

    /* the runtime stage installs the .deb (apt-get reads its Depends) and
       what the .deb recommends, nothing else */
    char *got = apt_installs(runtime);
    char *cpack = slurp(CS_BUILD_DIR "/CPackConfig.cmake", NULL);
    char recommends[128];
    cr_assert(cpack && line_after(cpack, "set(CPACK_DEBIAN_PACKAGE_RECOMMENDS \"", recommends,
                                  sizeof recommends));
    recommends[strcspn(recommends, "\"")] = '\0';
    char want[256];
    snprintf(want, sizeof want, "/tmp/certsweep_*.deb\n%s\n", recommends);
    cr_assert_str_eq(got, want);
    free(got);
    free(cpack);
    cr_assert(strstr(runtime, "COPY --from=build /src/build/certsweep_*.deb /tmp/\n"), "%s",
              runtime);
    cr_assert(strstr(runtime, "\nENTRYPOINT [\"certsweep\"]"), "%s", runtime);

    /* the build stage has the -dev package of every library the binary
       names, and only packages samples/install-deps.sh installs */
    char *build = stage(text, "\nFROM debian:bookworm-slim AS build\n");
    char *dev = apt_installs(build);
    char *deps = slurp(CS_SOURCE_DIR "/samples/install-deps.sh", NULL);
    cr_assert_not_null(deps);
    char *spaced; /* install-deps.sh with each package name between blanks */
    cr_assert(asprintf(&spaced, " %s ", deps) > 0);
    for (char *c = spaced; *c; c++)
        if (*c == '\n' || *c == '"' || *c == '\\')
            *c = ' ';
    char *line = strdup(dev);
    for (char *w = strtok(line, "\n"); w; w = strtok(NULL, "\n")) {
        char word[80];
        snprintf(word, sizeof word, " %s ", w);
        cr_assert(strstr(spaced, word), "the Containerfile installs %s; install-deps.sh not", w);
    }
    free(line);
    free(spaced);
    struct needed libs[64];
    size_t n = needed_libraries(CS_BINARY, libs, 64);
    for (size_t i = 0; i < n; i++) {
        const char *name;
        if (!known_library(libs[i].soname, &name) || !name)
            continue;
        /* the unversioned .so beside the library, which its -dev package holds */
        char so[256];
        snprintf(so, sizeof so, "%.*s.so", (int)(strstr(libs[i].path, ".so.") - libs[i].path),
                 libs[i].path);
        char *pkg = sh_ok("p=$(dpkg -S \"$1\" 2>/dev/null || dpkg -S \"/usr$1\" 2>/dev/null || "
                          "dpkg -S \"${1#/usr}\") && echo \"${p%%:*}\"",
                          NAMES(so));
        char wantpkg[80];
        snprintf(wantpkg, sizeof wantpkg, "%.*s\n", (int)strcspn(pkg, "\n"), pkg);
        cr_assert(strstr(dev, wantpkg), "the build stage lacks %s (%s)", wantpkg, so);
        free(pkg);
    }
    free(dev);
    free(deps);
    free(build);

    /* the user: the same uid and gid in USER, useradd, groupadd and every
       Kubernetes sample's securityContext */
    long uid, gid, uid2, gid2, gid3;
    char *user = strstr(runtime, "\nUSER ");
    cr_assert(user && sscanf(user, "\nUSER %ld:%ld", &uid, &gid) == 2, "no USER uid:gid");
    cr_assert_gt(uid, 0, "the container runs as root");
    char *ua = strstr(runtime, "useradd --uid ");
    cr_assert(ua && sscanf(ua, "useradd --uid %ld --gid %ld", &uid2, &gid2) == 2);
    char *ga = strstr(runtime, "groupadd --gid ");
    cr_assert(ga && sscanf(ga, "groupadd --gid %ld", &gid3) == 1);
    cr_assert(uid == uid2 && gid == gid2 && gid == gid3,
              "USER %ld:%ld, useradd %ld:%ld, "
              "groupadd %ld",
              uid, gid, uid2, gid2, gid3);
    glob_t g;
    cr_assert_eq(glob(CS_SOURCE_DIR "/samples/kubernetes/*.yaml", 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *yaml = slurp(g.gl_pathv[i], NULL);
        cr_assert_not_null(yaml);
        size_t users = all_equal(yaml, "runAsUser: ", uid, g.gl_pathv[i]);
        cr_assert_gt(users, 0, "%s names no runAsUser", g.gl_pathv[i]);
        cr_assert_eq(all_equal(yaml, "runAsGroup: ", gid, g.gl_pathv[i]), users);
        cr_assert_eq(all_equal(yaml, "fsGroup: ", gid, g.gl_pathv[i]), users);
        free(yaml);
    }
    globfree(&g);
    free(runtime);
    free(text);
}

/* Built only where an engine runs: this project's CI machines have none. */
Test(package, container_builds_where_an_engine_runs)
{
    struct run_result r;
    sh("for e in podman docker; do\n"
       "  command -v $e >/dev/null 2>&1 && $e info >/dev/null 2>&1 && { echo $e; exit 0; }\n"
       "done; exit 1",
       NULL, &r);
    if (r.status != 0) {
        run_result_free(&r);
        cr_skip_test("no container engine runs here (podman info and docker info fail): the "
                     "Containerfile was not built");
    }
    char engine[16];
    snprintf(engine, sizeof engine, "%.*s", (int)strcspn(r.out, "\n"), r.out);
    run_result_free(&r);
    const char *tag = "localhost/certsweep-test:" CS_VERSION;
    free(sh_ok("\"$1\" build -q -t \"$2\" -f \"$3\" \"$4\" >/dev/null",
               NAMES(engine, tag, CONTAINERFILE, CS_SOURCE_DIR)));
    char *version = sh_ok("\"$1\" run --rm \"$2\" --version", NAMES(engine, tag));
    cr_assert_eq(strncmp(version, "certsweep " CS_VERSION "\n", strlen(CS_VERSION) + 11), 0, "%s",
                 version);
    free(version);
    char *id = sh_ok("\"$1\" run --rm --entrypoint id \"$2\" -u", NAMES(engine, tag));
    cr_assert_str_eq(id, "10001\n");
    free(id);
    free(sh_ok("\"$1\" rmi \"$2\" >/dev/null", NAMES(engine, tag)));
}

/* ---- the demo ----------------------------------------------------------------------------- */

/* samples/demo.sh in a build dir: the scan's exit code, the reports it
   wrote hold a row per target of the fleet, the plain ones as expected. */
static void run_demo(const char *build, bool expect_build)
{
    const char *out = dir_path(dir, "demo");
    struct run_result r;
    sh("BUILD_DIR=\"$1\" DEMO_OUT=\"$2\" \"$3\"",
       NAMES(build, out, CS_SOURCE_DIR "/samples/demo.sh"), &r);
    cr_assert_eq(r.status, 2, "demo: exit %d (the fleet has EXPIRED endpoints: 2)\n%s%s", r.status,
                 r.out, r.err);
    cr_assert(strstr(r.out, "exit code 2 "), "%s", r.out);
    cr_assert_eq(strstr(r.err, "demo: building") != NULL, expect_build, "%s", r.err);
    run_result_free(&r);

    char *targets = slurp(dir_path(out, "fleet/targets.txt"), NULL);
    cr_assert_not_null(targets);
    size_t n = 0;
    for (char *p = targets; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] == '\n'))
        n += *p != '#' && *p != '\n';
    free(targets);
    size_t len;
    char *text = slurp(dir_path(out, "report.csv"), &len);
    cr_assert_not_null(text, "the demo wrote no report.csv");
    struct csv_doc d;
    cr_assert_eq(csv_doc_parse(text, len, &d), 0);
    cr_assert_eq(d.nrows, n + 1, "%zu rows for %zu targets", d.nrows - 1, n);
    static const char *const plain[][2] = {
        {"ok.fleet.test", "OK"},
        {"expired.fleet.test", "EXPIRED"},
        {"warning.fleet.test", "WARNING"},
        {"closed.fleet.test", "ERROR"},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        size_t row = csv_doc_find(&d, "host", plain[i][0]);
        cr_assert_gt(row, 0, "no %s", plain[i][0]);
        cr_assert_str_eq(csv_doc_get(&d, row, "status"), plain[i][1], "%s", plain[i][0]);
    }
    csv_doc_free(&d);
    free(text);
    char *json = slurp(dir_path(out, "report.json"), NULL);
    json_error_t e;
    json_t *doc = json ? json_loads(json, 0, &e) : NULL;
    cr_assert_not_null(doc, "report.json does not parse");
    cr_assert_eq(json_array_size(json_object_get(doc, "results")), n);
    json_decref(doc);
    free(json);
}

Test(package, demo_runs_in_a_build_without_the_tests)
{
    const char *build = dir_path(dir, "build");
    free(sh_ok("\"$1\" -S \"$2\" -B \"$3\" -DCS_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo "
               ">\"$3.log\" 2>&1 && \"$1\" --build \"$3\" -j2 >>\"$3.log\" 2>&1 || "
               "{ tail -50 \"$3.log\"; exit 1; }",
               NAMES(CS_CMAKE_COMMAND, CS_SOURCE_DIR, build)));
    cr_assert_eq(access(dir_path(build, "certsweep"), X_OK), 0);
    cr_assert_eq(access(dir_path(build, "certsweep-fleet"), X_OK), 0,
                 "-DCS_TESTS=OFF built no certsweep-fleet");
    cr_assert_neq(access(dir_path(build, "test_cli"), F_OK), 0, "test programs were built");
    run_demo(build, false);

    /* configured without the demo fleet too: demo.sh builds it */
    free(sh_ok("\"$1\" -S \"$2\" -B \"$3\" -DCS_DEMO=OFF >/dev/null && rm \"$3/certsweep-fleet\"",
               NAMES(CS_CMAKE_COMMAND, CS_SOURCE_DIR, build)));
    run_demo(build, true);
    cr_assert_eq(access(dir_path(build, "certsweep-fleet"), X_OK), 0);
}
