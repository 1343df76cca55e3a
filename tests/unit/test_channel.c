// Unit tests of lull_channel: every name round-trips, unknown names fall to OTHER, the input and Twilio columns.
#include "lull_test.h"
#include "lull_channel.h"

LULL_TEST(names_round_trip)
{
    static const char *const names[] = {"generic", "sms", "whatsapp", "tiktok", "webchat", "other"};
    LULL_CHECK_EQ_INT(LULL_CH_COUNT, 6);
    for (int i = 0; i < LULL_CH_COUNT; i++) {
        LULL_CHECK_EQ_STR(lull_channel_name((lull_channel_t)i), names[i]);
        LULL_CHECK_EQ_INT(lull_channel_parse(names[i]), i);
    }
    // the stored values: the enum order is the order of the rows, and never changes
    LULL_CHECK_EQ_INT(LULL_CH_GENERIC, 0);
    LULL_CHECK_EQ_INT(LULL_CH_WHATSAPP, 2);
    LULL_CHECK_EQ_INT(LULL_CH_OTHER, 5);
}

LULL_TEST(unknown_names_are_other)
{
    LULL_CHECK_EQ_INT(lull_channel_parse(NULL), LULL_CH_OTHER);
    LULL_CHECK_EQ_INT(lull_channel_parse(""), LULL_CH_OTHER);
    LULL_CHECK_EQ_INT(lull_channel_parse("fax"), LULL_CH_OTHER);
    LULL_CHECK_EQ_INT(lull_channel_parse("SMS"), LULL_CH_OTHER);     // names are exact
    LULL_CHECK_EQ_INT(lull_channel_parse("sms "), LULL_CH_OTHER);
    LULL_CHECK_EQ_INT(lull_channel_parse("whatsapp:"), LULL_CH_OTHER);
    LULL_CHECK_EQ_STR(lull_channel_name((lull_channel_t)-1), "other");
    LULL_CHECK_EQ_STR(lull_channel_name(LULL_CH_COUNT), "other");
    LULL_CHECK_EQ_STR(lull_channel_name((lull_channel_t)99), "other");
}

LULL_TEST(input_column)
{
    // the admin API's accepted channels: all but the catch-all
    LULL_CHECK(lull_channel_is_input(LULL_CH_GENERIC));
    LULL_CHECK(lull_channel_is_input(LULL_CH_SMS));
    LULL_CHECK(lull_channel_is_input(LULL_CH_WHATSAPP));
    LULL_CHECK(lull_channel_is_input(LULL_CH_TIKTOK));
    LULL_CHECK(lull_channel_is_input(LULL_CH_WEBCHAT));
    LULL_CHECK(!lull_channel_is_input(LULL_CH_OTHER));
    LULL_CHECK(!lull_channel_is_input(lull_channel_parse("fax")));
    LULL_CHECK(!lull_channel_is_input(LULL_CH_COUNT));
    char names[128];
    LULL_CHECK_EQ_STR(lull_channel_input_names(names, sizeof names), "generic, sms, whatsapp, tiktok, webchat");
    char small[10];
    LULL_CHECK_EQ_STR(lull_channel_input_names(small, sizeof small), "generic, ");  // truncated, terminated
    char none[1];
    LULL_CHECK_EQ_STR(lull_channel_input_names(none, sizeof none), "");
}

LULL_TEST(twilio_column)
{
    int n = 0;
    for (int i = 0; i < LULL_CH_COUNT; i++) n += lull_channel_is_twilio((lull_channel_t)i);
    LULL_CHECK_EQ_INT(n, 2);
    LULL_CHECK(lull_channel_is_twilio(LULL_CH_SMS));
    LULL_CHECK(lull_channel_is_twilio(LULL_CH_WHATSAPP));
    LULL_CHECK(!lull_channel_is_twilio(LULL_CH_TIKTOK));
    LULL_CHECK(!lull_channel_is_twilio(LULL_CH_OTHER));
}

int main(void)
{
    LULL_RUN(names_round_trip);
    LULL_RUN(unknown_names_are_other);
    LULL_RUN(input_column);
    LULL_RUN(twilio_column);
    return lull_test_summary();
}
