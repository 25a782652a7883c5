#include "llama.h"
#include <cstdio>
#include <vector>
#include <random>
#include <cmath>
// Reference for jgemma's SamplerTest: llama.cpp's sampler chain on synthetic logits.
static void run(const char* name, int V, int topk, float topp, float minp, float temp, int lastn, float rep, float freq, float pres, uint32_t seed, int steps) {
    llama_sampler * ch = llama_sampler_chain_init(llama_sampler_chain_default_params());
    llama_sampler_chain_add(ch, llama_sampler_init_penalties(V, lastn, rep, freq, pres));
    llama_sampler_chain_add(ch, llama_sampler_init_top_k(topk));
    llama_sampler_chain_add(ch, llama_sampler_init_top_p(topp, 0));
    llama_sampler_chain_add(ch, llama_sampler_init_min_p(minp, 0));
    llama_sampler_chain_add(ch, llama_sampler_init_temp(temp));
    llama_sampler_chain_add(ch, llama_sampler_init_dist(seed));
    std::vector<llama_token_data> d(V);
    printf("%s:", name);
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < V; i++) {
            long m = ((long) i * 7919 + (long) s * 104729) % V;
            float l = (float) (m / (V / 10.0) - 5.0);
            d[i] = {i, l, 0.0f};
        }
        llama_token_data_array a = {d.data(), (size_t) V, -1, false};
        llama_sampler_apply(ch, &a);
        llama_token t = a.data[a.selected].id;
        llama_sampler_accept(ch, t);
        printf(" %d", t);
    }
    printf("\n");
    llama_sampler_free(ch);
}
int main() {
    std::mt19937 g(42);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    printf("canonical42:"); for (int i = 0; i < 4; i++) printf(" %.17g", u(g)); printf("\n");
    std::mt19937 g2(5489); for (int i = 0; i < 9999; i++) g2(); printf("mt10000: %u\n", (unsigned) g2());
    run("defaults1000", 1000, 40, 0.95f, 0.05f, 0.8f, 64, 1.0f, 0.0f, 0.0f, 1234, 24);
    run("penalties1000", 1000, 40, 0.95f, 0.05f, 0.8f, 64, 1.3f, 0.5f, 0.4f, 7, 24);
    run("topp_only1000", 1000, 0, 0.9f, 0.0f, 1.5f, 0, 1.0f, 0.0f, 0.0f, 99, 24);
    run("minp_only1000", 1000, 0, 1.0f, 0.02f, 2.0f, 0, 1.0f, 0.0f, 0.0f, 5, 24);
    run("gemma262144", 262144, 64, 0.95f, 0.0f, 1.0f, 64, 1.0f, 0.0f, 0.0f, 42, 16);
    run("topp262144", 262144, 0, 0.5f, 0.0f, 3.0f, 8, 1.2f, 0.0f, 0.0f, 3, 8);
    return 0;
}
