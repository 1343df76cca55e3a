// Unit tests of lull_mask: passwords in every connection-string form, echoes in error texts, credentials in
// libmicrohttpd's messages.
#include "lull_mask.h"
#include "lull_config.h"
#include "lull_db.h"
#include "lull_test.h"

#include <stdlib.h>

static void s_expect_conninfo(const char *in, const char *want)
{
    char *m = lull_mask_conninfo(in);
    LULL_CHECK_EQ_STR(m, want);
    free(m);
    m = lull_config_mask(in);  // what the config log line and /config show
    LULL_CHECK_EQ_STR(m, want);
    free(m);
}

LULL_TEST(url_userinfo)
{
    s_expect_conninfo("postgresql://lull:hunter2@db.example:5432/lull", "postgresql://lull:***@db.example:5432/lull");
    s_expect_conninfo("postgres://lull:p%40ss@db/lull?sslmode=require", "postgres://lull:***@db/lull?sslmode=require");
    s_expect_conninfo("postgresql://lull:a@b@db/lull", "postgresql://lull:***@db/lull");  // the last '@' ends it
    s_expect_conninfo("postgresql://lull@127.0.0.1:5432/lull", "postgresql://lull@127.0.0.1:5432/lull");
    s_expect_conninfo("postgresql:///lull", "postgresql:///lull");
    // libpq multi-host URLs (failover): one userinfo for every host
    s_expect_conninfo("postgresql://lull:hunter2@db1:5432,db2:5433/lull?target_session_attrs=read-write",
                      "postgresql://lull:***@db1:5432,db2:5433/lull?target_session_attrs=read-write");
    s_expect_conninfo("postgresql://lull@db1,db2/lull?target_session_attrs=read-write&password=hunter2",
                      "postgresql://lull@db1,db2/lull?target_session_attrs=read-write&password=***");
    s_expect_conninfo("host=db1,db2 port=5432,5433 password=hunter2 target_session_attrs=read-write",
                      "host=db1,db2 port=5432,5433 password=*** target_session_attrs=read-write");
}

LULL_TEST(url_query_password)
{
    s_expect_conninfo("postgresql://lull@db/lull?password=hunter2", "postgresql://lull@db/lull?password=***");
    s_expect_conninfo("postgresql://db/lull?sslmode=require&password=hunter2&application_name=x",
                      "postgresql://db/lull?sslmode=require&password=***&application_name=x");
    s_expect_conninfo("postgresql://u:one@db/lull?password=two", "postgresql://u:***@db/lull?password=***");
    s_expect_conninfo("postgresql://db/lull?passwordx=1", "postgresql://db/lull?passwordx=1");
}

LULL_TEST(keyvalue)
{
    s_expect_conninfo("host=db port=5432 dbname=lull user=lull password=hunter2",
                      "host=db port=5432 dbname=lull user=lull password=***");
    s_expect_conninfo("password = 'hun ter\\'2' host=db", "password = *** host=db");
    s_expect_conninfo("host=db dbname=lull", "host=db dbname=lull");
    LULL_CHECK(lull_mask_is_keyvalue("host=db password=x"));
    LULL_CHECK(!lull_mask_is_keyvalue("sk-abcdef"));
    LULL_CHECK(!lull_mask_is_keyvalue("abc=="));          // a base64 token is no connection string
    LULL_CHECK(!lull_mask_is_keyvalue("password='open"));  // unterminated quote
    char *m = lull_config_mask("abc==");
    LULL_CHECK_EQ_STR(m, "***");
    free(m);
}

LULL_TEST(echo)
{
    char out[256];
    lull_mask_echo("invalid percent-encoded token: \"hunter%zz\"", "postgresql://u:hunter%zz@db/x", out, sizeof out);
    LULL_CHECK_EQ_STR(out, "invalid percent-encoded token: \"***\"");
    lull_mask_echo("bad URI: \"postgresql://u@db/x?password=pw1&bogus\"", "postgresql://u@db/x?password=pw1&bogus",
                   out, sizeof out);
    LULL_CHECK_EQ_STR(out, "bad URI: \"postgresql://u@db/x?password=***&bogus\"");
    lull_mask_echo("invalid sslmode value: \"xx\"", "host=db password='s3cret' sslmode=xx", out, sizeof out);
    LULL_CHECK_EQ_STR(out, "invalid sslmode value: \"xx\"");
    lull_mask_echo("nothing to hide", NULL, out, sizeof out);
    LULL_CHECK_EQ_STR(out, "nothing to hide");
    lull_mask_echo("truncated text", NULL, out, 6);
    LULL_CHECK_EQ_STR(out, "trunc");
}

LULL_TEST(db_errors_never_echo_the_password)
{
    lull_db_t *db = lull_db_new("postgresql://u:hunter%zz@127.0.0.1:1/none?connect_timeout=1");
    LULL_CHECK(db != NULL);
    LULL_CHECK(!lull_db_connected(db));
    LULL_CHECK(strstr(lull_db_error(db), "percent-encoded") != NULL);  // libpq's own text, kept
    LULL_CHECK(strstr(lull_db_error(db), "hunter") == NULL);
    lull_db_destroy(&db);
}

LULL_TEST(text)
{
    char out[256];
    lull_mask_text("Error in GET /api/v1/chat/history/ws_0123abcdEF-_9 from 127.0.0.1", out, sizeof out);
    LULL_CHECK_EQ_STR(out, "Error in GET /api/v1/chat/history/ws_*** from 127.0.0.1");
    lull_mask_text("Authorization: Bearer abc.def, next", out, sizeof out);
    LULL_CHECK_EQ_STR(out, "Authorization: ***, next");
    lull_mask_text("header: Bearer abc.def rest", out, sizeof out);
    LULL_CHECK_EQ_STR(out, "header: Bearer *** rest");
    lull_mask_text("/x?token=abc&n=1&api_key=zz; password=p w", out, sizeof out);
    LULL_CHECK_EQ_STR(out, "/x?token=***&n=1&api_key=***; password=*** w");
    lull_mask_text("news_feed ws_ plain", out, sizeof out);  // not a session id
    LULL_CHECK_EQ_STR(out, "news_feed ws_ plain");
    lull_mask_text("Closing connection (client sent bad request line)", out, sizeof out);
    LULL_CHECK_EQ_STR(out, "Closing connection (client sent bad request line)");
}

int main(void)
{
    LULL_RUN(url_userinfo);
    LULL_RUN(url_query_password);
    LULL_RUN(keyvalue);
    LULL_RUN(echo);
    LULL_RUN(db_errors_never_echo_the_password);
    LULL_RUN(text);
    return lull_test_summary();
}
