package org.jgemma.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufFormatException;
import org.jgemma.model.ModelFormatException;

/**
 * Gemma's SentencePiece tokenizer as llama.cpp runs it from a GGUF vocabulary ({@code tokenizer.ggml.model = "llama"},
 * llama.cpp's SPM path in {@code src/llama-vocab.cpp}). Immutable and thread-safe.
 *
 * <p>encode: cut special tokens out of the text ({@link SpecialTokenMatcher}), emit BOS if asked, then for each
 * raw fragment: a space prefix when {@code add_space_prefix} and the previous fragment was a token (or it is the
 * first), spaces to U+2581, the SPM merge ({@link SpmMerger}).
 */
public final class Tokenizer {
    /** EOG texts from llama.cpp's loader (llama_vocab::impl::load); the file's eos / eot ids are added to these. */
    private static final Set<String> EOG_TEXTS = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
            "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]",
            "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
            "<｜end▁of▁sentence｜>", "[e~[");
    /** EOT texts llama.cpp auto-detects when the file has no {@code tokenizer.ggml.eot_token_id}. */
    private static final Set<String> EOT_TEXTS = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>");
    private static final byte[] SPACE_ESCAPE = {(byte) 0xE2, (byte) 0x96, (byte) 0x81}; // U+2581 '▁'

    private final TokenIndex index;
    private final String[] texts;     // [n_vocab]
    private final float[] scores;     // [n_vocab]
    private final TokenType[] types;  // [n_vocab] as stored in the file
    private final int[] attrs;        // [n_vocab] TokenAttr bits after llama.cpp's adjustments
    private final int[] byteTokens;   // [256] byte-fallback ids, -1 = missing
    private final boolean[] eog;      // [n_vocab]
    private final SpecialTokenMatcher matcher;
    private final int bos, eos, unk, pad, eot;
    private final boolean addBos, addEos, addSpacePrefix;

    /**
     * A tokenizer from raw vocabulary arrays, with llama.cpp's SPM defaults for what is absent (ids -1).
     *
     * @param tokens [n] token texts; scores [n] (null: all 0); types [n] type codes (null: all NORMAL)
     */
    public static Tokenizer of(String[] tokens, float[] scores, int[] types, int bos, int eos, int unk, int pad,
            boolean addBos, boolean addEos, boolean addSpacePrefix) {
        return new Tokenizer(tokens, scores, types, bos, eos, -1, unk, pad, addBos, addEos, addSpacePrefix);
    }

    /**
     * The tokenizer of a GGUF file: every token of {@code tokenizer.ggml.tokens}, or only the first
     * {@code token_embd.ne[1]} when the file has that tensor with fewer rows (Ollama blobs, see {@link #from(GgufFile, int)}).
     */
    public static Tokenizer from(GgufFile gguf) throws GgufFormatException {
        long rows = gguf.findTensor("token_embd.weight").map(t -> t.dim(1)).orElse((long) Integer.MAX_VALUE);
        return from(gguf, (int) Math.min(rows, Integer.MAX_VALUE));
    }

    /**
     * The tokenizer of a GGUF file, its arrays cut to {@code maxTokens} entries: Ollama's token arrays can be longer
     * than {@code token_embd} has rows, and Ollama's llama.cpp shim truncates them to the row count.
     */
    public static Tokenizer from(GgufFile gguf, int maxTokens) throws GgufFormatException {
        try {
            Tokenizer t = read(gguf, maxTokens);
            t.checkByteFallback();
            return t;
        } catch (IllegalArgumentException e) {
            // the vocabulary's contents are the file's: a bad one is a model format error, not a caller's
            throw new ModelFormatException((gguf.path() == null ? "" : gguf.path().getFileName() + ": ") + e.getMessage(), e);
        }
    }

    private static Tokenizer read(GgufFile gguf, int maxTokens) throws GgufFormatException {
        String model = gguf.findString("tokenizer.ggml.model").orElseThrow(() -> new GgufFormatException(
                "metadata key 'tokenizer.ggml.model' is missing: the file has no tokenizer", -1));
        if (!model.equals("llama")) {
            throw new GgufFormatException("tokenizer.ggml.model = '" + model + "': only 'llama' (SentencePiece) is supported", -1);
        }
        String[] tokens = gguf.getStringArray("tokenizer.ggml.tokens");
        if (maxTokens < Integer.MAX_VALUE && tokens.length < maxTokens) {
            // every embedding row is a logit: a sampled id past the vocabulary could not be decoded
            throw new IllegalArgumentException("tokenizer.ggml.tokens has " + tokens.length + " tokens, fewer than the "
                    + maxTokens + " rows of token_embd.weight (the vocabulary size)");
        }
        int n = Math.min(tokens.length, maxTokens);
        float[] scores = null;
        int[] types = null;
        if (gguf.has("tokenizer.ggml.scores")) {
            scores = gguf.getFloatArray("tokenizer.ggml.scores");
            if (scores.length < n) {
                throw new GgufFormatException("tokenizer.ggml.scores has " + scores.length + " entries, fewer than the "
                        + n + " tokens", -1);
            }
        }
        if (gguf.has("tokenizer.ggml.token_type")) {
            types = gguf.getIntArray("tokenizer.ggml.token_type");
            if (types.length < n) {
                throw new GgufFormatException("tokenizer.ggml.token_type has " + types.length + " entries, fewer than the "
                        + n + " tokens", -1);
            }
        }
        if (n < tokens.length) tokens = Arrays.copyOf(tokens, n);
        return new Tokenizer(tokens, scores, types,
                specialId(gguf, "tokenizer.ggml.bos_token_id", 1, n),
                specialId(gguf, "tokenizer.ggml.eos_token_id", 2, n),
                specialId(gguf, "tokenizer.ggml.eot_token_id", -1, n),
                specialId(gguf, "tokenizer.ggml.unknown_token_id", 0, n),
                specialId(gguf, "tokenizer.ggml.padding_token_id", -1, n),
                gguf.findBool("tokenizer.ggml.add_bos_token").orElse(true),
                gguf.findBool("tokenizer.ggml.add_eos_token").orElse(false),
                // absent means true for SPM in llama.cpp (Ollama blobs lack the key, FACTS §6.2)
                gguf.findBool("tokenizer.ggml.add_space_prefix").orElse(true));
    }

    /** llama.cpp: a file id out of range keeps the default; a default out of range is disabled. */
    private static int specialId(GgufFile gguf, String key, int dflt, int n) throws GgufFormatException {
        int id = dflt >= n ? -1 : dflt;
        if (gguf.has(key)) {
            long v = gguf.getLong(key);
            if (v >= 0 && v < n) id = (int) v;
        }
        return id;
    }

    private Tokenizer(String[] tokens, float[] scores, int[] typeCodes, int bos, int eos, int eotKey, int unk, int pad,
            boolean addBos, boolean addEos, boolean addSpacePrefix) {
        int n = tokens.length;
        this.texts = new String[n];
        this.scores = scores == null ? new float[n] : Arrays.copyOf(scores, n);
        this.types = new TokenType[n];
        this.attrs = new int[n];
        byte[][] bytes = new byte[n][];
        int total = 0;
        for (int i = 0; i < n; i++) {
            String t = tokens[i] == null || tokens[i].isEmpty() ? "[EMPTY_" + i + "]" : tokens[i];
            texts[i] = t;
            bytes[i] = t.getBytes(StandardCharsets.UTF_8);
            total += bytes[i].length;
            types[i] = typeCodes == null ? TokenType.NORMAL : TokenType.fromCode(typeCodes[i]);
            attrs[i] = TokenAttr.of(types[i]);
            if (types[i] == TokenType.BYTE && !isByteText(t)) {
                throw new IllegalArgumentException("tokenizer.ggml.tokens: token " + i + " has type BYTE but its text '"
                        + org.jgemma.text.ControlChars.escape(t) + "' is not <0xHH>");
            }
        }
        byte[] pool = new byte[total];
        int[] offsets = new int[n + 1];
        for (int i = 0, o = 0; i < n; i++) {
            System.arraycopy(bytes[i], 0, pool, o, bytes[i].length);
            o += bytes[i].length;
            offsets[i + 1] = o;
        }
        this.index = new TokenIndex(pool, offsets);
        if (addBos && bos < 0) throw new IllegalArgumentException("tokenizer.ggml.add_bos_token is true but the vocabulary has no BOS token");
        if (addEos && eos < 0) throw new IllegalArgumentException("tokenizer.ggml.add_eos_token is true but the vocabulary has no EOS token");
        this.bos = bos;
        this.eos = eos;
        this.unk = unk;
        this.pad = pad;
        this.addBos = addBos;
        this.addEos = addEos;
        this.addSpacePrefix = addSpacePrefix;

        // llama.cpp load: EOT by key or by text (forced CONTROL), UNUSED for control "unused" tokens, EOG by text
        int eotId = eotKey;
        for (int i = 0; i < n && eotId < 0; i++) {
            if (EOT_TEXTS.contains(texts[i])) eotId = i;
        }
        if (eotKey < 0 && eotId >= 0) attrs[eotId] |= TokenAttr.CONTROL;
        this.eot = eotId;
        for (int i = 0; i < n; i++) {
            if ((attrs[i] & TokenAttr.CONTROL) != 0 && texts[i].contains("unused")) attrs[i] |= TokenAttr.UNUSED;
        }
        this.eog = new boolean[n];
        int toolResponse = -1, endS = -1;
        for (int i = 0; i < n; i++) {
            if (EOG_TEXTS.contains(texts[i])) {
                eog[i] = true;
                attrs[i] |= TokenAttr.CONTROL;
                if (texts[i].equals("<|tool_response>")) toolResponse = i;
                if (texts[i].equals("</s>")) endS = i;
            }
        }
        if (eos >= 0) eog[eos] = true;
        if (eotId >= 0) eog[eotId] = true;
        if (toolResponse >= 0 && endS >= 0) { // llama.cpp's gemma4 / paddleocr workaround
            eog[endS] = false;
            attrs[endS] = TokenAttr.NORMAL;
        }

        this.byteTokens = new int[256];
        byte[] hex = {'<', '0', 'x', 0, 0, '>'};
        String digits = "0123456789ABCDEF";
        for (int b = 0; b < 256; b++) {
            hex[3] = (byte) digits.charAt(b >> 4);
            hex[4] = (byte) digits.charAt(b & 15);
            int id = index.find(hex, 0, 6);
            if (id < 0) id = index.find(new byte[] {(byte) b}, 0, 1);
            byteTokens[b] = id;
        }
        this.matcher = new SpecialTokenMatcher(index, attrs);
    }

    /** {@code <0xHH>} with two hex digits, the text of a BYTE token (llama.cpp token_to_byte reads it so). */
    private static boolean isByteText(String t) {
        return t.length() == 6 && t.startsWith("<0x") && t.charAt(5) == '>'
                && Character.digit(t.charAt(3), 16) >= 0 && Character.digit(t.charAt(4), 16) >= 0;
    }

    /**
     * SPM encodes a byte no token covers through its byte-fallback token {@code <0xHH>} (or the one-byte token), so all
     * 256 must be present: llama.cpp fails on the first such text (byte_to_token's {@code at()}); this fails at load.
     */
    private void checkByteFallback() {
        for (int b = 0; b < 256; b++) {
            if (byteTokens[b] < 0) {
                throw new IllegalArgumentException(String.format("tokenizer.ggml.tokens: the vocabulary has no byte-fallback "
                        + "token <0x%02X> (nor the one-byte token), so text with that byte could not be tokenized", b));
            }
        }
    }

    // ---------------------------------------------------------------- encode

    /**
     * Token ids of {@code text}, as llama.cpp's {@code llama_tokenize}.
     *
     * @param addSpecial add BOS (and EOS) as the vocabulary's add_bos_token / add_eos_token say
     * @param parseSpecial recognise CONTROL / UNKNOWN token texts such as {@code <start_of_turn>} in the text
     *     (USER_DEFINED tokens such as runs of spaces are always recognised)
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        byte[] raw = text.getBytes(StandardCharsets.UTF_8);
        return encode(raw, addSpecial, parseSpecial ? null : SpecialTokenMatcher.ALL_PROTECTED);
    }

    /**
     * Token ids of {@code text} with special tokens recognised everywhere except in the protected ranges: a CONTROL
     * or UNKNOWN token text (such as {@code <start_of_turn>}) that overlaps a protected range stays text, as with
     * parse_special false; USER_DEFINED tokens are split out everywhere, as llama.cpp always does. The ranges only
     * decide which special-token matches are cut out; the text between the cut-out tokens is merged as usual, across
     * range boundaries. With no ranges this is {@code encode(text, addSpecial, true)}; with one range over the whole
     * text it is {@code encode(text, addSpecial, false)}.
     *
     * <p>Use it for a rendered chat prompt whose message contents must not inject control tokens.
     *
     * @param protectedChars ranges {@code {start, end}} of UTF-16 char indices into {@code text}, end exclusive, in
     *     any order, possibly overlapping; a range that cuts a surrogate pair protects the whole character
     */
    public int[] encode(String text, boolean addSpecial, List<int[]> protectedChars) {
        byte[] raw = text.getBytes(StandardCharsets.UTF_8);
        if (protectedChars.isEmpty()) return encode(raw, addSpecial, null);
        return encode(raw, addSpecial, protectedPrefix(text, raw.length, protectedChars));
    }

    /** [bytes + 1] number of protected UTF-8 bytes before each byte position. */
    private static int[] protectedPrefix(String text, int bytes, List<int[]> ranges) {
        int n = text.length();
        // byteStart[i] / byteEnd[i]: the UTF-8 bytes of the character char i belongs to (as String.getBytes encodes it)
        int[] byteStart = new int[n], byteEnd = new int[n];
        for (int i = 0, b = 0; i < n; ) {
            char c = text.charAt(i);
            int w;
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                byteStart[i] = byteStart[i + 1] = b;
                byteEnd[i] = byteEnd[i + 1] = b + 4;
                b += 4;
                i += 2;
                continue;
            }
            w = c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 1 /* lone surrogate: '?' */ : 3;
            byteStart[i] = b;
            byteEnd[i] = b + w;
            b += w;
            i++;
        }
        int[] delta = new int[bytes + 1];
        for (int[] r : ranges) {
            if (r.length != 2 || r[0] < 0 || r[1] > n || r[0] > r[1]) {
                throw new IllegalArgumentException("protected range " + Arrays.toString(r) + " is not {start, end} within [0, "
                        + n + "]");
            }
            if (r[0] == r[1]) continue;
            delta[byteStart[r[0]]]++;
            delta[byteEnd[r[1] - 1]]--;
        }
        int[] prefix = new int[bytes + 1];
        for (int i = 0, depth = 0; i < bytes; i++) {
            depth += delta[i];
            prefix[i + 1] = prefix[i] + (depth > 0 ? 1 : 0);
        }
        return prefix;
    }

    private int[] encode(byte[] raw, boolean addSpecial, int[] protectedPrefix) {
        int len = raw.length;
        IntList out = new IntList(len / 3 + 4);
        if (addSpecial && addBos) {
            if (bos < 0) throw new IllegalStateException("add_bos_token is set but the vocabulary has no BOS token");
            out.add(bos);
        }
        int[] tokenAt = new int[len];
        boolean[] covered = new boolean[len];
        if (len > 0) matcher.partition(raw, len, protectedPrefix, tokenAt, covered);
        if (len > (Integer.MAX_VALUE - 3) / 3) throw new IllegalArgumentException("text of " + len + " bytes is too long to tokenize");
        byte[] frag = new byte[len * 3 + 3];
        SpmMerger merger = new SpmMerger(index, scores, byteTokens);
        boolean prevSpecial = true; // the first fragment gets the space prefix too
        for (int i = 0; i < len; ) {
            if (covered[i]) {
                int id = tokenAt[i];
                out.add(id);
                i += index.tokenLength(id);
                prevSpecial = true;
                continue;
            }
            int j = i;
            while (j < len && !covered[j]) j++;
            int f = 0;
            if (addSpacePrefix && prevSpecial) f = putSpace(frag, f);
            for (int k = i; k < j; k++) {
                if (raw[k] == ' ') f = putSpace(frag, f);
                else frag[f++] = raw[k];
            }
            merger.tokenize(frag, f, out);
            prevSpecial = false;
            i = j;
        }
        if (addSpecial && addEos) {
            if (eos < 0) throw new IllegalStateException("add_eos_token is set but the vocabulary has no EOS token");
            out.add(eos);
        }
        return out.toArray();
    }

    private static int putSpace(byte[] frag, int f) {
        frag[f] = SPACE_ESCAPE[0];
        frag[f + 1] = SPACE_ESCAPE[1];
        frag[f + 2] = SPACE_ESCAPE[2];
        return f + 3;
    }

    // ---------------------------------------------------------------- decode

    /** The text of {@code ids}, special tokens (CONTROL / UNKNOWN) left out. */
    public String decode(int[] ids) {
        return decode(ids, false, false);
    }

    /**
     * The text of {@code ids}, as llama.cpp's {@code llama_detokenize}: the concatenated pieces; with
     * {@code removeSpecial} a leading BOS (and trailing EOS when add_eos) is dropped; with add_space_prefix the first
     * piece loses one leading space (unless a BOS was removed). Invalid UTF-8 becomes U+FFFD.
     */
    public String decode(int[] ids, boolean removeSpecial, boolean renderSpecial) {
        int from = 0, to = ids.length;
        boolean removeSpace = addSpacePrefix;
        if (removeSpecial && addBos && to > 0 && ids[0] == bos) {
            removeSpace = false;
            from++;
        }
        if (removeSpecial && addEos && to > from && ids[to - 1] == eos) to--;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = from; i < to; i++) {
            appendPiece(ids[i], renderSpecial, removeSpace, out);
            removeSpace = false;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The bytes {@code id} decodes to (llama.cpp token_to_piece with lstrip 0). */
    public byte[] pieceBytes(int id, boolean renderSpecial) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16);
        appendPiece(id, renderSpecial, false, out);
        return out.toByteArray();
    }

    /**
     * token_to_piece: CONTROL / UNKNOWN empty unless {@code renderSpecial}, then verbatim; USER_DEFINED verbatim;
     * NORMAL with U+2581 as space; BYTE the byte of {@code <0xHH>}; anything else (UNUSED, UNDEFINED) empty.
     */
    void appendPiece(int id, boolean renderSpecial, boolean stripOneSpace, ByteArrayOutputStream out) {
        checkId(id);
        int a = attrs[id];
        if (!renderSpecial && (a & (TokenAttr.UNKNOWN | TokenAttr.CONTROL)) != 0) return;
        byte[] pool = index.pool();
        int s = index.tokenOffset(id), len = index.tokenLength(id);
        if ((a & (TokenAttr.UNKNOWN | TokenAttr.CONTROL | TokenAttr.USER_DEFINED)) != 0) {
            if (stripOneSpace && len > 0 && pool[s] == ' ') {
                s++;
                len--;
            }
            out.write(pool, s, len);
        } else if ((a & TokenAttr.NORMAL) != 0) {
            boolean first = true;
            for (int i = s, end = s + len; i < end; ) {
                if (i + 2 < end && pool[i] == SPACE_ESCAPE[0] && pool[i + 1] == SPACE_ESCAPE[1] && pool[i + 2] == SPACE_ESCAPE[2]) {
                    if (!(first && stripOneSpace)) out.write(' ');
                    i += 3;
                } else {
                    out.write(pool[i++]);
                }
                first = false;
            }
        } else if ((a & TokenAttr.BYTE) != 0) {
            int b = Integer.parseInt(texts[id], 3, 5, 16);
            if (!(stripOneSpace && b == ' ')) out.write(b);
        }
    }

    /** A decoder that turns a stream of generated ids into text, emitting only complete UTF-8 characters. */
    public StreamingDetokenizer streamingDetokenizer(boolean renderSpecial) {
        return new StreamingDetokenizer(this, renderSpecial);
    }

    // ---------------------------------------------------------------- queries

    public int vocabularySize() {
        return texts.length;
    }

    /** The token's text as stored in the file (an empty one reads {@code [EMPTY_id]}, as llama.cpp). */
    public String tokenText(int id) {
        checkId(id);
        return texts[id];
    }

    /** The id of the token whose text is exactly {@code text}, or -1. */
    public int tokenId(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return index.find(b, 0, b.length);
    }

    public float score(int id) {
        checkId(id);
        return scores[id];
    }

    /** The type stored in the file. */
    public TokenType tokenType(int id) {
        checkId(id);
        return types[id];
    }

    /** CONTROL after llama.cpp's adjustments (so also {@code <end_of_turn>}, {@code </s>}). */
    public boolean isControl(int id) {
        return has(id, TokenAttr.CONTROL);
    }

    public boolean isUserDefined(int id) {
        return has(id, TokenAttr.USER_DEFINED);
    }

    public boolean isByte(int id) {
        return has(id, TokenAttr.BYTE);
    }

    public boolean isUnused(int id) {
        return has(id, TokenAttr.UNUSED);
    }

    public boolean isNormal(int id) {
        return has(id, TokenAttr.NORMAL);
    }

    /** Whether generation stops at this id: EOS, EOT and the EOG-looking texts ({@code <eos>}, {@code <end_of_turn>}, ...). */
    public boolean isEndOfGeneration(int id) {
        return id >= 0 && id < eog.length && eog[id];
    }

    /** The end-of-generation ids, ascending. */
    public int[] endOfGenerationIds() {
        int c = 0;
        for (boolean b : eog) if (b) c++;
        int[] r = new int[c];
        for (int i = 0, k = 0; i < eog.length; i++) if (eog[i]) r[k++] = i;
        return r;
    }

    public int bosId() { return bos; }
    public int eosId() { return eos; }
    public int eotId() { return eot; }
    public int unknownId() { return unk; }
    public int padId() { return pad; }
    public boolean addBos() { return addBos; }
    public boolean addEos() { return addEos; }
    public boolean addSpacePrefix() { return addSpacePrefix; }

    private boolean has(int id, int bit) {
        checkId(id);
        return (attrs[id] & bit) != 0;
    }

    private void checkId(int id) {
        if (id < 0 || id >= texts.length) {
            throw new IndexOutOfBoundsException("token id " + id + " is outside the vocabulary [0, " + texts.length + ")");
        }
    }
}
