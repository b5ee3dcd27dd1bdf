/* A stand-in for the part of criterion's API that the in-process engine
 * suites use, for the ThreadSanitizer build: criterion itself aborts under
 * TSan (it maps its shared arena at addresses TSan keeps for its shadow
 * memory).  Each test runs in a child of its own, with the suite's init and
 * fini around it and the suite's timeout; a failed assertion ends the child.
 * Only what test_engine.c and test_e2e_dns.c need: TestSuite() before the
 * tests, Test(suite, name) without options, and the assertions below. */
#ifndef CS_TSAN_CRITERION_H
#define CS_TSAN_CRITERION_H

#include <stdbool.h>
#include <string.h>

struct tsan_suite {
    void (*init)(void);
    void (*fini)(void);
    double timeout;
};

void tsan_register(const char *suite, const char *name, void (*fn)(void),
                   const struct tsan_suite *config);
/* Ends the test with what failed and the assertion's message (fmt and its
   arguments; a trailing "" is always passed and ignored), unless ok. */
void tsan_check(bool ok, const char *file, int line, const char *what, const char *fmt, ...);
_Noreturn void tsan_fail(const char *file, int line, const char *fmt, ...);

#define TestSuite(suite, ...) static const struct tsan_suite tsan_suite_##suite = {__VA_ARGS__}

#define Test(suite, name)                                                                          \
    static void suite##_##name(void);                                                              \
    __attribute__((constructor)) static void tsan_register_##suite##_##name(void)                  \
    {                                                                                              \
        tsan_register(#suite, #name, suite##_##name, &tsan_suite_##suite);                         \
    }                                                                                              \
    static void suite##_##name(void)

#define TSAN_IS(cond, ...) tsan_check((cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
#define TSAN_NOT(cond, ...) tsan_check(!(cond), __FILE__, __LINE__, "!(" #cond ")", __VA_ARGS__)
#define TSAN_NULL(p, ...) tsan_check((p) == NULL, __FILE__, __LINE__, #p " == NULL", __VA_ARGS__)
#define TSAN_NONNULL(p, ...) tsan_check((p) != NULL, __FILE__, __LINE__, #p " != NULL", __VA_ARGS__)
#define TSAN_CMP(op, a, b, ...)                                                                    \
    tsan_check((a)op(b), __FILE__, __LINE__, #a " " #op " " #b, __VA_ARGS__)
#define TSAN_STR(op, a, b, ...)                                                                    \
    tsan_check(strcmp((a), (b)) op 0, __FILE__, __LINE__, #a " " #op " " #b, __VA_ARGS__)

#define cr_assert(...) TSAN_IS(__VA_ARGS__, "")
#define cr_assert_not(...) TSAN_NOT(__VA_ARGS__, "")
#define cr_assert_null(...) TSAN_NULL(__VA_ARGS__, "")
#define cr_assert_not_null(...) TSAN_NONNULL(__VA_ARGS__, "")
#define cr_assert_eq(...) TSAN_CMP(==, __VA_ARGS__, "")
#define cr_assert_neq(...) TSAN_CMP(!=, __VA_ARGS__, "")
#define cr_assert_lt(...) TSAN_CMP(<, __VA_ARGS__, "")
#define cr_assert_leq(...) TSAN_CMP(<=, __VA_ARGS__, "")
#define cr_assert_gt(...) TSAN_CMP(>, __VA_ARGS__, "")
#define cr_assert_geq(...) TSAN_CMP(>=, __VA_ARGS__, "")
#define cr_assert_str_eq(...) TSAN_STR(==, __VA_ARGS__, "")
#define cr_assert_str_neq(...) TSAN_STR(!=, __VA_ARGS__, "")
#define cr_assert_fail(...) tsan_fail(__FILE__, __LINE__, __VA_ARGS__, "")

#endif
