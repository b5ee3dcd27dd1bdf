/* The texts of the error convention's codes (error.h). */
#include "scanner/error.h"

#include <uv.h>

const char *cs_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define X(name, off, text)                                                                         \
    case CS_##name:                                                                                \
        return text;
        CS_ERRORS(X)
#undef X
    default:
        return code < 0 ? uv_strerror(code) : "unknown error";
    }
}
