// Unit tests of worker_prompt: template variables, unknown variables, the channel length hint, phrase
// matching for the content filter and escalation keywords (PostgreSQL text[] literals).
#include "lull_test.h"
#include "../../worker/worker_prompt.h"

#include <stdlib.h>

LULL_TEST(render_variables)
{
    worker_prompt_vars_t v = {"Acme", "Lou", "Ann", "sms"};
    char *p = worker_prompt_render("Hi {{customer_name}}, {{ agent_name }} of {{company_name}} on {{channel}}.", &v);
    LULL_CHECK(p != NULL);
    LULL_CHECK(strncmp(p, "Hi Ann, Lou of Acme on sms.", 27) == 0);
    LULL_CHECK(strstr(p, "very short") != NULL);  // sms hint appended
    free(p);
}

LULL_TEST(render_unknown_and_broken)
{
    worker_prompt_vars_t v = {NULL, "Lou", NULL, "webchat"};
    char *p = worker_prompt_render("a{{nope}}b {{company_name}}| {{unclosed", &v);
    LULL_CHECK(p != NULL);
    LULL_CHECK(strncmp(p, "ab | {{unclosed", 15) == 0);  // unknown removed, NULL value empty, text kept
    LULL_CHECK(strstr(p, "concise") != NULL);
    free(p);
    p = worker_prompt_render(NULL, &v);
    LULL_CHECK(p != NULL && strstr(p, "concise") != NULL);
    free(p);
    // a huge template is capped
    char *big = malloc(100000);
    memset(big, 'x', 99999);
    big[99999] = '\0';
    p = worker_prompt_render(big, &v);
    LULL_CHECK(p != NULL && strlen(p) <= WORKER_PROMPT_MAX);
    free(p);
    free(big);
}

LULL_TEST(length_hints)
{
    LULL_CHECK(strstr(worker_prompt_length_hint("tiktok"), "very short") != NULL);
    LULL_CHECK(strstr(worker_prompt_length_hint("sms"), "very short") != NULL);
    LULL_CHECK(strstr(worker_prompt_length_hint("generic"), "very short") == NULL);
    LULL_CHECK(worker_prompt_length_hint(NULL) != NULL);
}

LULL_TEST(phrase_matching)
{
    char found[64];
    LULL_CHECK(worker_text_contains("I want a REFUND now", "refund"));
    LULL_CHECK(!worker_text_contains("hello", ""));
    LULL_CHECK(!worker_text_contains(NULL, "x"));
    LULL_CHECK_EQ_INT(worker_text_match_array("call my Lawyer", "{refund,lawyer}", found, sizeof found), 1);
    LULL_CHECK_EQ_STR(found, "lawyer");
    LULL_CHECK_EQ_INT(worker_text_match_array("please speak to someone", "{x,\"speak to someone\"}", found, sizeof found), 1);
    LULL_CHECK_EQ_STR(found, "speak to someone");
    LULL_CHECK_EQ_INT(worker_text_match_array("say \"hi\" ok", "{\"say \\\"hi\\\"\"}", found, sizeof found), 0);
    LULL_CHECK_EQ_INT(worker_text_match_array("nothing", "{a,b}", NULL, 0), -1);
    LULL_CHECK_EQ_INT(worker_text_match_array("anything", "{}", found, sizeof found), -1);
    LULL_CHECK_EQ_INT(worker_text_match_array("NULL here", "{NULL}", found, sizeof found), -1);  // SQL NULL element
    LULL_CHECK_EQ_INT(worker_text_match_array("x", "not an array", found, sizeof found), -1);
    LULL_CHECK_EQ_INT(worker_text_match_array("x", "{\"unterminated", found, sizeof found), -1);
    LULL_CHECK_EQ_INT(worker_text_match_array("x", NULL, found, sizeof found), -1);
}

int main(void)
{
    LULL_RUN(render_variables);
    LULL_RUN(render_unknown_and_broken);
    LULL_RUN(length_hints);
    LULL_RUN(phrase_matching);
    return lull_test_summary();
}
