package org.jgemma.cli;

import java.util.Arrays;

/**
 * The statistics of llama-perplexity's {@code --kl-divergence} (tools/perplexity/perplexity.cpp ::
 * kl_divergence_result, log_softmax(..., base_log_prob, tok, kld), kl_divergence): per scored token the model's
 * negative log-likelihood and the base's (from its 16-bit log-probabilities), KL(base || model) over the base's
 * tokens within 16 nats of its top, whether the top tokens agree, and the change in the token's probability;
 * then means with uncertainties, percentiles and the perplexity ratio, with the same formulas and float/double mix.
 */
final class KlDivergence {
    double sumNll, sumNll2, sumNllBase, sumNllBase2, sumNllNllBase, sumKld, sumKld2, sumPDiff, sumPDiff2, sumPDiff4;
    float maxPDiff;
    long nSameTop, count;
    private float[] kldValues = new float[1024];
    private float[] pDiffValues = new float[1024];

    /** One scored position: the model's {@code logits[off .. off+n)}, the base row in {@code base}, the next token. */
    void add(float[] logits, int off, int n, LogProbs.Reader base, int tok) {
        float maxLogit = logits[off];
        int imax = 0;
        for (int i = 1; i < n; i++) {
            if (logits[off + i] > maxLogit) {
                maxLogit = logits[off + i];
                imax = i;
            }
        }
        double sumExp = 0.0;
        for (int i = 0; i < n; i++) sumExp += (float) Math.exp(logits[off + i] - maxLogit);
        float logSumExp = (float) Math.log(sumExp);
        float scale = base.scale, minLogProb = base.minLogProb;
        char[] q = base.q;
        float nll = maxLogit + logSumExp - logits[off + tok];
        sumNll += nll;
        sumNll2 += nll * nll; // float product, as in C (nll*nll with float nll)
        float nllBase = -(scale * q[tok] + minLogProb);
        sumNllBase += nllBase;
        sumNllBase2 += nllBase * nllBase;
        sumNllNllBase += nll * nllBase;
        maxLogit += logSumExp;
        double sum = 0;
        int imaxBase = -1;
        float pLogBaseMax = 0;
        for (int i = 0; i < n; i++) {
            float pLogBase = scale * q[i] + minLogProb;
            if (i == 0 || pLogBase > pLogBaseMax) {
                pLogBaseMax = pLogBase;
                imaxBase = i;
            }
            if (pLogBase > -16.f) {
                float pBase = (float) Math.exp(pLogBase);
                sum += pBase * (pLogBase - logits[off + i] + maxLogit);
            }
        }
        sumKld += sum;
        sumKld2 += sum * sum;
        if (imax == imaxBase) nSameTop++;
        float pBase = (float) Math.exp(-nllBase);
        float p = (float) Math.exp(-nll);
        float pDiff = p - pBase;
        sumPDiff += pDiff;
        double pDiff2 = pDiff * pDiff;
        sumPDiff2 += pDiff2;
        sumPDiff4 += pDiff2 * pDiff2;
        maxPDiff = Math.max(maxPDiff, Math.abs(pDiff));
        if (count == kldValues.length) {
            kldValues = Arrays.copyOf(kldValues, kldValues.length * 2);
            pDiffValues = Arrays.copyOf(pDiffValues, pDiffValues.length * 2);
        }
        kldValues[(int) count] = (float) sum;
        pDiffValues[(int) count] = pDiff;
        count++;
    }

    /** A value and its uncertainty. */
    record Estimate(double value, double uncertainty) {}

    /** mean_and_uncertainty. */
    static Estimate meanAndUncertainty(double sum, double sum2, long count) {
        if (count < 1) return new Estimate(0, 0);
        double f = sum / count;
        double df = sum2 / count - f * f;
        df = df > 0 && count > 10 ? Math.sqrt(df / (count - 1)) : 0.;
        return new Estimate(f, df);
    }

    /** covariance. */
    static double covariance(double suma, double sumb, double sumab, long count) {
        if (count < 10) return 0.0;
        double var = sumab / count - (suma / count) * (sumb / count);
        return var / (count - 1);
    }

    /** The percentile as perplexity.cpp interpolates it, over the sorted values. */
    static float percentile(float[] sorted, int n, float fraction) {
        if (fraction <= 0) return sorted[0];
        if (fraction >= 1) return sorted[n - 1];
        float p = fraction * (n - 1);
        int ip = (int) p;
        p -= ip;
        return (1 - p) * sorted[ip] + p * sorted[Math.min(ip + 1, n - 1)];
    }

    /** The summary llama-perplexity prints at the end. */
    record Summary(long count, Estimate ppl, Estimate pplBase, Estimate lnPplRatio, Estimate pplDiff, Estimate kld,
                   float kldMax, float kld99, float kldMedian, Estimate sameTop, Estimate pDiffRms) {}

    Summary summary() {
        Estimate logPpl = meanAndUncertainty(sumNll, sumNll2, count);
        double pplVal = Math.exp(logPpl.value()), pplUnc = pplVal * logPpl.uncertainty();
        Estimate logPplBase = meanAndUncertainty(sumNllBase, sumNllBase2, count);
        double pplBaseVal = Math.exp(logPplBase.value()), pplBaseUnc = pplBaseVal * logPplBase.uncertainty();
        double cov = covariance(sumNll, sumNllBase, sumNllNllBase, count);
        double ratioVal = logPpl.value() - logPplBase.value();
        // as perplexity.cpp, but a variance that rounds below zero (identical models) gives 0, not NaN
        double ratioUnc = Math.sqrt(Math.max(0, logPpl.uncertainty() * logPpl.uncertainty()
                + logPplBase.uncertainty() * logPplBase.uncertainty() - 2.0 * cov));
        double pplCov = pplVal * pplBaseVal * cov;
        double diffUnc = Math.sqrt(Math.max(0, pplUnc * pplUnc + pplBaseUnc * pplBaseUnc - 2.0 * pplCov));
        Estimate kl = meanAndUncertainty(sumKld, sumKld2, count);
        int n = (int) count;
        float[] sorted = Arrays.copyOf(kldValues, n);
        Arrays.sort(sorted);
        float median = n == 0 ? 0 : n % 2 == 0 ? 0.5f * (sorted[n / 2] + sorted[n / 2 - 1]) : sorted[n / 2];
        double top = count == 0 ? 0 : 1. * nSameTop / count;
        double topUnc = count > 1 ? Math.sqrt(top * (1 - top) / (count - 1)) : 0;
        Estimate mse = meanAndUncertainty(sumPDiff2, sumPDiff4, count);
        double rms = Math.sqrt(mse.value());
        double rmsUnc = rms > 0 ? 0.5 / rms * mse.uncertainty() : 0;
        return new Summary(count, new Estimate(pplVal, pplUnc), new Estimate(pplBaseVal, pplBaseUnc),
                new Estimate(ratioVal, ratioUnc), new Estimate(pplVal - pplBaseVal, diffUnc), kl,
                n == 0 ? 0 : sorted[n - 1], n == 0 ? 0 : percentile(sorted, n, 0.990f), median,
                new Estimate(top, topUnc), new Estimate(rms, rmsUnc));
    }
}
