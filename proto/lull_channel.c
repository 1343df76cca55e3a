// The channel table: names and columns of proto/lull_channel.def, indexed by lull_channel_t.
#include "lull_channel.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    bool input;
    bool twilio;
} s_row_t;

static const s_row_t s_rows[] = {
#define LULL_CHANNEL(id, name_, input_, twilio_) [LULL_CH_##id] = {name_, input_, twilio_},
#include "lull_channel.def"
#undef LULL_CHANNEL
};

_Static_assert(sizeof s_rows / sizeof s_rows[0] == LULL_CH_COUNT, "one row per channel");

static const s_row_t *s_row(lull_channel_t ch)
{
    return (int)ch >= 0 && ch < LULL_CH_COUNT ? &s_rows[ch] : &s_rows[LULL_CH_OTHER];
}

lull_channel_t lull_channel_parse(const char *name)
{
    if (!name) return LULL_CH_OTHER;
    for (int i = 0; i < LULL_CH_COUNT; i++)
        if (strcmp(name, s_rows[i].name) == 0) return (lull_channel_t)i;
    return LULL_CH_OTHER;
}

const char *lull_channel_name(lull_channel_t ch) { return s_row(ch)->name; }

bool lull_channel_is_input(lull_channel_t ch) { return s_row(ch)->input; }

char *lull_channel_input_names(char *out, size_t cap)
{
    size_t len = 0;
    if (cap) out[0] = '\0';
    for (int i = 0; i < LULL_CH_COUNT && len < cap; i++) {
        if (!s_rows[i].input) continue;
        int n = snprintf(out + len, cap - len, "%s%s", len ? ", " : "", s_rows[i].name);
        if (n < 0) break;
        len += (size_t)n;
    }
    return out;
}

bool lull_channel_is_twilio(lull_channel_t ch) { return s_row(ch)->twilio; }
