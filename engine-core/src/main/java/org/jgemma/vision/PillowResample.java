package org.jgemma.vision;

/**
 * Pillow's {@code Image.resize(..., BILINEAR)} for 8-bit RGB (src/libImaging/Resample.c: {@code precompute_coeffs},
 * {@code normalize_coeffs_8bpc}, {@code ImagingResampleHorizontal_8bpc} / {@code ...Vertical_8bpc}): a separable
 * triangle filter with support 1, widened by the scale when downscaling (antialiasing), coefficients computed in double
 * and rounded to {@value #PRECISION_BITS}-bit fixed point, horizontal pass first into a uint8 image, then vertical.
 */
final class PillowResample {
    private PillowResample() {}

    private static final int PRECISION_BITS = 32 - 8 - 2;

    /** Coefficients of one axis: output i reads input {@code bounds[2i] ..+ bounds[2i+1]} with weights {@code k[i*ksize ..]}. */
    private record Coeffs(int ksize, int[] bounds, int[] k) {}

    private static double bilinearFilter(double x) {
        if (x < 0.0) x = -x;
        if (x < 1.0) return 1.0 - x;
        return 0.0;
    }

    private static Coeffs precompute(int inSize, int outSize) {
        double support = 1.0; // bilinear filter support
        double scale = (double) inSize / outSize, filterscale = Math.max(scale, 1.0);
        support *= filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] bounds = new int[2 * outSize];
        int[] kk = new int[outSize * ksize];
        double[] k = new double[ksize];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
            int xmin = (int) (center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            for (int x = 0; x < xmax; x++) {
                double w = bilinearFilter((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < ksize; x++) {
                double v = x < xmax ? (ww != 0.0 ? k[x] / ww : k[x]) : 0.0;
                kk[xx * ksize + x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS)) : (int) (0.5 + v * (1 << PRECISION_BITS));
            }
            bounds[2 * xx] = xmin;
            bounds[2 * xx + 1] = xmax;
        }
        return new Coeffs(ksize, bounds, kk);
    }

    private static int clip8(long in) {
        if (in >= (1L << PRECISION_BITS << 8)) return 255;
        if (in <= 0) return 0;
        return (int) (in >> PRECISION_BITS);
    }

    static RgbImage bilinear(RgbImage src, int outW, int outH) {
        RgbImage img = src;
        if (outW != src.width()) { // ImagingResampleInner: need_horizontal
            Coeffs h = precompute(src.width(), outW);
            byte[] out = new byte[3 * outW * src.height()];
            for (int y = 0; y < src.height(); y++) {
                for (int xx = 0; xx < outW; xx++) {
                    int xmin = h.bounds[2 * xx], xmax = h.bounds[2 * xx + 1], ko = xx * h.ksize;
                    for (int c = 0; c < 3; c++) {
                        long ss = 1L << (PRECISION_BITS - 1);
                        for (int x = 0; x < xmax; x++) ss += (long) src.get(x + xmin, y, c) * h.k[ko + x];
                        out[(y * outW + xx) * 3 + c] = (byte) clip8(ss);
                    }
                }
            }
            img = new RgbImage(outW, src.height(), out);
        }
        if (outH != img.height()) {
            Coeffs v = precompute(img.height(), outH);
            byte[] out = new byte[3 * img.width() * outH];
            for (int yy = 0; yy < outH; yy++) {
                int ymin = v.bounds[2 * yy], ymax = v.bounds[2 * yy + 1], ko = yy * v.ksize;
                for (int x = 0; x < img.width(); x++) {
                    for (int c = 0; c < 3; c++) {
                        long ss = 1L << (PRECISION_BITS - 1);
                        for (int y = 0; y < ymax; y++) ss += (long) img.get(x, y + ymin, c) * v.k[ko + y];
                        out[(yy * img.width() + x) * 3 + c] = (byte) clip8(ss);
                    }
                }
            }
            img = new RgbImage(img.width(), outH, out);
        }
        return img;
    }
}
