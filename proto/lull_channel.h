// The channel vocabulary shared by every process: an enum built from proto/lull_channel.def, the names the
// wire and the database carry, and the predicates the tiers branch on. Names are parsed here and nowhere else.
#ifndef LULL_CHANNEL_H
#define LULL_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
#define LULL_CHANNEL(id, name, input, twilio) LULL_CH_##id,
#include "lull_channel.def"
#undef LULL_CHANNEL
    LULL_CH_COUNT  // number of channels (not a channel)
} lull_channel_t;

// The channel of a name ("sms" → LULL_CH_SMS); LULL_CH_OTHER for NULL or a name lull does not know.
lull_channel_t lull_channel_parse(const char *name);
// The name of a channel ("sms"); "other" for a value out of range. Static string.
const char *lull_channel_name(lull_channel_t ch);
// True when the admin API accepts the channel as a filter or value (every channel but OTHER).
bool lull_channel_is_input(lull_channel_t ch);
// The names of the input channels, comma-separated ("generic, sms, …"), into out (cap bytes, truncated to fit;
// for error messages). Returns out.
char *lull_channel_input_names(char *out, size_t cap);
// True for the channels Twilio's Messages API delivers (sms, whatsapp).
bool lull_channel_is_twilio(lull_channel_t ch);

#endif
