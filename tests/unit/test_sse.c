// common/lull_sse: the SSE framing and one stream's capped queue, as the web chat and the inbox use them.
#include "lull_test.h"
#include "lull_sse.h"

#include <stdlib.h>
#include <string.h>

LULL_TEST(frames)
{
    size_t n = 0;
    char *f = lull_sse_frame("42", "message", "{\"a\":1}", &n);
    LULL_CHECK_EQ_STR(f, "id: 42\nevent: message\ndata: {\"a\":1}\n\n");
    LULL_CHECK_EQ_INT((int)n, (int)strlen(f));
    free(f);
    // several lines: one data line each, carriage returns dropped; no id line without an id
    f = lull_sse_frame(NULL, "list", "{\r\n \"x\": 1\n}", &n);
    LULL_CHECK_EQ_STR(f, "event: list\ndata: {\ndata:  \"x\": 1\ndata: }\n\n");
    LULL_CHECK_EQ_INT((int)n, (int)strlen(f));
    free(f);
    f = lull_sse_frame(NULL, "e", "", &n);
    LULL_CHECK_EQ_STR(f, "event: e\ndata: \n\n");
    free(f);
    f = lull_sse_frame("1", "e", "\n\n\n", &n);  // only newlines: the worst growth per byte
    LULL_CHECK_EQ_STR(f, "id: 1\nevent: e\ndata: \ndata: \ndata: \ndata: \n\n");
    LULL_CHECK_EQ_INT((int)n, (int)strlen(f));
    free(f);
}

LULL_TEST(queue)
{
    lull_sse_t s;
    lull_sse_init(&s, NULL, 10);
    char buf[16];
    LULL_CHECK_EQ_INT(lull_sse_append(&s, "abcdef", 6), LULL_SSE_QUEUED);
    LULL_CHECK_EQ_INT((int)lull_sse_read(&s, buf, 4), 4);
    LULL_CHECK(memcmp(buf, "abcd", 4) == 0);
    // 2 bytes still queued: 8 more fit the cap of 10 (read bytes do not count), 9 would not
    LULL_CHECK_EQ_INT(lull_sse_append(&s, "12345678", 8), LULL_SSE_QUEUED);
    LULL_CHECK_EQ_INT((int)lull_sse_read(&s, buf, sizeof buf), 10);
    LULL_CHECK(memcmp(buf, "ef12345678", 10) == 0);
    LULL_CHECK_EQ_INT(lull_sse_append(&s, "0123456789", 10), LULL_SSE_QUEUED);
    LULL_CHECK_EQ_INT(lull_sse_append(&s, "x", 1), LULL_SSE_OVERFLOW);
    LULL_CHECK(s.closed);
    LULL_CHECK_EQ_INT(lull_sse_append(&s, "y", 1), LULL_SSE_DROPPED);
    // a closed stream ends once what was queued is read
    LULL_CHECK_EQ_INT((int)lull_sse_read(&s, buf, sizeof buf), 10);
    LULL_CHECK(lull_sse_read(&s, buf, sizeof buf) == MHD_CONTENT_READER_END_OF_STREAM);
    lull_sse_clear(&s);
    LULL_CHECK(s.buf == NULL);
    lull_sse_clear(&s);  // twice: harmless
}

int main(void)
{
    LULL_RUN(frames);
    LULL_RUN(queue);
    return lull_test_summary();
}
