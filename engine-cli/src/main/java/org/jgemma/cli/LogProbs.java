package org.jgemma.cli;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * llama-perplexity's {@code --kl-divergence-base} file (tools/perplexity/perplexity.cpp :: perplexity, kl_divergence),
 * read and written in its exact layout so files made by either program work with both (little endian):
 * <pre>
 *   "_logits_"  u32 n_ctx  i32 n_vocab  i32 n_chunk  i32 tokens[n_chunk * n_ctx]
 *   per chunk, per scored position (n_ctx - 1 - n_ctx/2 of them):
 *     f32 scale, f32 min_log_prob, u16 q[n_vocab], u16 pad[nv - 4 - n_vocab]      (nv = 2*((n_vocab+1)/2) + 4 u16s)
 * </pre>
 * A row stores log-probabilities as {@code scale * q + min_log_prob}, quantized to 16 bits over the 16 nats below the
 * top logit (perplexity.cpp :: log_softmax(n_vocab, logits, log_prob, tok)).
 */
final class LogProbs {
    private LogProbs() {}

    static final byte[] MAGIC = "_logits_".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** u16 slots per row: 2*((n_vocab+1)/2) + 4. */
    static int rowShorts(int nVocab) {
        return 2 * ((nVocab + 1) / 2) + 4;
    }

    /** ggml's nearest_int (round half to even through the 1.5*2^23 trick), as perplexity.cpp defines it. */
    static int nearestInt(float v) {
        float val = v + 12582912.f;
        return (Float.floatToRawIntBits(val) & 0x007fffff) - 0x00400000;
    }

    /**
     * Encodes the row {@code logits[off .. off+n)} into {@code row} (little-endian, {@code 2*rowShorts(n)} bytes) and
     * returns the negative log-likelihood of {@code tok} (max + log(sum exp) - logit[tok]).
     */
    static double encodeRow(float[] logits, int off, int n, int tok, ByteBuffer row) {
        float max = logits[off], min = logits[off];
        for (int i = 1; i < n; i++) {
            max = Math.max(max, logits[off + i]);
            min = Math.min(min, logits[off + i]);
        }
        min = Math.max(min, max - 16);
        double sumExp = 0.0;
        for (int i = 0; i < n; i++) sumExp += (float) Math.exp(logits[off + i] - max);
        float logSumExp = (float) Math.log(sumExp);
        float minLogProb = min - max - logSumExp;
        float scale = (max - min) / 65535.f;
        row.clear();
        row.putFloat(scale).putFloat(minLogProb);
        if (scale != 0) {
            float inv = 1 / scale;
            for (int i = 0; i < n; i++) row.putShort((short) (logits[off + i] > min ? nearestInt(inv * (logits[off + i] - min)) : 0));
        } else {
            for (int i = 0; i < n; i++) row.putShort((short) 0);
        }
        while (row.hasRemaining()) row.put((byte) 0);
        return max + logSumExp - logits[off + tok];
    }

    /** Writes a base file: the header with all tokens, then rows as they come. */
    static final class Writer implements Closeable {
        private final OutputStream out;
        private final ByteBuffer row;
        private final int nVocab;

        Writer(Path path, int nCtx, int nVocab, int nChunk, int[] tokens) throws IOException {
            this.out = new BufferedOutputStream(Files.newOutputStream(path), 1 << 20);
            this.nVocab = nVocab;
            this.row = ByteBuffer.allocate(2 * rowShorts(nVocab)).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer h = ByteBuffer.allocate(8 + 12 + 4 * nChunk * nCtx).order(ByteOrder.LITTLE_ENDIAN);
            h.put(MAGIC).putInt(nCtx).putInt(nVocab).putInt(nChunk);
            for (int i = 0; i < nChunk * nCtx; i++) h.putInt(tokens[i]);
            out.write(h.array());
        }

        /** Appends the row for {@code logits[off ..]}; returns the token's negative log-likelihood. */
        double add(float[] logits, int off, int tok) throws IOException {
            double nll = encodeRow(logits, off, nVocab, tok, row);
            out.write(row.array());
            return nll;
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    /** Reads a base file: the header up front, then one row at a time. */
    static final class Reader implements Closeable {
        final int nCtx, nVocab, nChunk;
        final int[] tokens;
        private final DataInputStream in;
        private final byte[] rowBytes;
        /** The last row read: scale, min_log_prob, q[n_vocab] (unsigned). */
        float scale, minLogProb;
        final char[] q;

        Reader(Path path, long fileSize) throws IOException {
            InputStream raw = Files.newInputStream(path);
            this.in = new DataInputStream(new BufferedInputStream(raw, 1 << 20));
            try {
                byte[] magic = new byte[8];
                in.readFully(magic);
                if (!java.util.Arrays.equals(magic, MAGIC)) {
                    throw new IOException(path + " is not a llama-perplexity log-probability file (no \"_logits_\" magic)");
                }
                ByteBuffer h = ByteBuffer.wrap(in.readNBytes(12)).order(ByteOrder.LITTLE_ENDIAN);
                if (h.remaining() != 12) throw new EOFException(path + ": truncated header");
                nCtx = h.getInt();
                nVocab = h.getInt();
                nChunk = h.getInt();
                if (nCtx < 4 || nVocab < 1 || nChunk < 1 || nCtx > (1 << 24) || nVocab > (1 << 24)) {
                    throw new IOException(path + ": implausible header n_ctx " + nCtx + ", n_vocab " + nVocab + ", n_chunk " + nChunk);
                }
                long need = 20 + 4L * nCtx * nChunk + (long) nChunk * (nCtx - 1 - nCtx / 2) * 2L * rowShorts(nVocab);
                if (need != fileSize) {
                    throw new IOException(path + " holds " + fileSize + " bytes; n_ctx " + nCtx + ", n_vocab " + nVocab + ", "
                            + nChunk + " chunks need " + need);
                }
                tokens = new int[nCtx * nChunk];
                ByteBuffer t = ByteBuffer.wrap(in.readNBytes(4 * tokens.length)).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < tokens.length; i++) tokens[i] = t.getInt();
                rowBytes = new byte[2 * rowShorts(nVocab)];
                q = new char[nVocab];
            } catch (IOException | RuntimeException e) {
                in.close();
                throw e;
            }
        }

        /** Reads the next row into {@link #scale}, {@link #minLogProb}, {@link #q}. */
        void next() throws IOException {
            in.readFully(rowBytes);
            ByteBuffer b = ByteBuffer.wrap(rowBytes).order(ByteOrder.LITTLE_ENDIAN);
            scale = b.getFloat();
            minLogProb = b.getFloat();
            b.asCharBuffer().get(q);
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
