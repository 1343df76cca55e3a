// Benchmark of the worker's CPU per conversation in its LLM code alone (no network, no database): what a
// job does around its one combined request, per provider: the analysis and combined schemas, the request
// body (a tenant system prompt, six history messages, the tools), the parse of a typical answer, and the
// combined answer's validation (once: the chain's check keeps the parts for the job). Prints one line per provider:
//   worker_llm: provider=P convs=N cpu_ns_per_conv=X schema_ns=S build_ns=B parse_ns=A combined_ns=C body_bytes=L
// Usage: bench_worker_llm [CONVS]   (default 20000); bench_worker_llm --bodies prints each provider's request
// body and the combined answer's analysis instead (to diff two builds: they must be byte-identical). Link it against another liblull.a to compare builds of the
// worker on the same machine in one go.
#include "../../worker/worker_combined.h"
#include "../../worker/worker_llm.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const s_analysis = "\"sentiment\":\"neutral\",\"confidence\":0.8,\"intent\":\"inquiry\","
                                      "\"priority\":\"normal\",\"escalate\":false,\"escalate_reason\":\"\","
                                      "\"entities\":{\"names\":[\"Ann\"],\"emails\":[],\"phones\":[],\"order_numbers\":[]},"
                                      "\"moderation\":{\"flagged\":false,\"categories\":[]},\"extracted\":{}";
static const char *const s_reply = "We open at 10 on Sundays and close at 4. Anything else I can help with?";

static long s_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

// The answer body of provider pi carrying the combined answer text, as the provider sends it; n makes the
// reply of each conversation different, as real answers are.
static char *s_answer(int pi, long n)
{
    char text[1024], esc[2048], *out = malloc(4096);
    snprintf(text, sizeof text, "{\"reply\":\"%s (%ld)\",%s}", s_reply, n, s_analysis);
    size_t j = 0;
    for (size_t i = 0; text[i] && j + 2 < sizeof esc; i++) {
        if (text[i] == '"') esc[j++] = '\\';
        esc[j++] = text[i];
    }
    esc[j] = 0;
    if (!out) return NULL;
    if (pi == 0)
        snprintf(out, 4096, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o-mini\","
                 "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"%s\"},\"finish_reason\":\"stop\"}],"
                 "\"usage\":{\"prompt_tokens\":900,\"completion_tokens\":80,\"total_tokens\":980,"
                 "\"prompt_tokens_details\":{\"cached_tokens\":768}}}", esc);
    else if (pi == 1)
        snprintf(out, 4096, "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-3-5-haiku\","
                 "\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"%s\",\"input\":%s}],"
                 "\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":900,\"output_tokens\":80,"
                 "\"cache_read_input_tokens\":768,\"cache_creation_input_tokens\":0}}", WORKER_COMBINED_NAME, text);
    else
        snprintf(out, 4096, "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"%s\"}]},"
                 "\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":900,\"candidatesTokenCount\":80,"
                 "\"cachedContentTokenCount\":768}}", esc);
    return out;
}

static bool s_bodies;

static int s_run(int pi, long convs)
{
    const worker_provider_t *p = WORKER_PROVIDERS[pi];
    static const char *const models[] = {"gpt-4o-mini", "claude-3-5-haiku", "gemini-3-flash"};
    char system[1200];
    snprintf(system, sizeof system, "%s", "You are the assistant of Bella's Bakery, a family bakery in Springfield. "
             "Answer briefly and kindly, in the customer's language. Opening hours: Monday to Saturday 8 to 6, "
             "Sunday 10 to 4. We sell bread, cakes, pastries and coffee; custom cakes need two days' notice. "
             "Never invent prices: use the inventory search tool. Do not give medical or legal advice.\n\n"
             "Answer with one JSON object: reply (your message to the customer) and the analysis of their "
             "latest messages (sentiment, intent, entities, priority, escalate, moderation, extracted fields).");
    size_t body_bytes = 0;
    long t_schema = 0, t_build = 0, t_parse = 0, t_comb = 0;
    for (long n = 0; n < convs; n++) {
        char *body = s_answer(pi, n);
        if (!body) return -1;
        size_t blen = strlen(body);
        long a = s_cpu_ns();
        char *an_schema = worker_analysis_schema(NULL), *schema = worker_combined_schema(NULL);
        long b = s_cpu_ns();
        worker_conv_t conv = {.mode = WORKER_MODE_COMBINED, .system = system, .model = models[pi], .temperature = 0.7,
                              .max_tokens = 1324, .tools = true, .schema = schema, .cache_key = "lull-t1"};
        static const char *const hist[] = {"Hi, do you make gluten-free bread?", "Yes, every Thursday and Saturday.",
                                           "Great. Can I order a birthday cake for Sunday?",
                                           "Of course! What size and flavour would you like?",
                                           "Chocolate, for 12 people.", "Hello, when do you open on Sunday?"};
        for (size_t i = 0; i < 6; i++)
            if (worker_conv_add(&conv, i % 2 == 0 ? WORKER_ITEM_USER : WORKER_ITEM_ASSISTANT, hist[i], NULL, NULL,
                                NULL) != 0)
                return -1;
        char *req = p->build(&conv);
        if (!req) return -1;
        body_bytes = strlen(req);
        long c = s_cpu_ns();
        worker_llm_result_t res = {0};
        p->parse(body, blen, &res);
        if (res.cls != WORKER_LLM_OK || !res.text) {
            fprintf(stderr, "bench_worker_llm: %s: answer not parsed: %s\n", p->name, res.error);
            return -1;
        }
        long d = s_cpu_ns();
        {  // the chain's check (the job takes its parts)
            char *reply = NULL, err[160];
            worker_analysis_t an = {0};
            if (worker_combined_parse(res.text, NULL, &reply, &an, err, sizeof err) != 0) {
                fprintf(stderr, "bench_worker_llm: %s: combined answer refused: %s\n", p->name, err);
                return -1;
            }
            if (s_bodies)
                printf("%s request: %s\n%s reply: %s\n%s analysis: %s\n", p->name, req, p->name, reply, p->name, an.raw);
            free(reply);
            worker_analysis_clear(&an);
        }
        long e = s_cpu_ns();
        worker_llm_result_clear(&res);
        free(body);
        free(req);
        worker_conv_clear(&conv);
        free(schema);
        free(an_schema);
        t_schema += b - a;
        t_build += c - b;
        t_parse += d - c;
        t_comb += e - d;
    }
    long total = t_schema + t_build + t_parse + t_comb;  // without making the answers
    if (!s_bodies)
        printf("worker_llm: provider=%s convs=%ld cpu_ns_per_conv=%ld schema_ns=%ld build_ns=%ld parse_ns=%ld "
           "combined_ns=%ld body_bytes=%zu\n",
           p->name, convs, total / convs, t_schema / convs, t_build / convs, t_parse / convs, t_comb / convs, body_bytes);
    return 0;
}

int main(int argc, char **argv)
{
    s_bodies = argc > 1 && strcmp(argv[1], "--bodies") == 0;
    long convs = s_bodies ? 1 : argc > 1 ? atol(argv[1]) : 20000;
    if (convs <= 0) convs = 20000;
    for (int pi = 0; pi < WORKER_NPROVIDERS; pi++)
        if (s_run(pi, convs) != 0) return 1;
    return 0;
}
