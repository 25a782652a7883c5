package org.jgemma.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Reading untrusted JSON requests: typed accessors that answer a wrong type, a non-finite or out-of-range number
 * with a 400 naming the field, expected and actual. Nesting depth and number / string lengths are bounded by
 * Jackson's {@link StreamReadConstraints}.
 */
final class Json {
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(64).maxNumberLength(64).maxStringLength(64 << 20).build());
    }

    private Json() {}

    /** Parses a request body that must be one JSON object. */
    static ObjectNode parseObject(byte[] body) {
        if (body.length == 0) throw ApiException.badRequest("missing request body");
        JsonNode n;
        try {
            n = MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("invalid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiException.badRequest("unreadable request body: " + e.getMessage());
        }
        if (n == null || n.isMissingNode()) throw ApiException.badRequest("missing request body");
        if (!(n instanceof ObjectNode o)) throw ApiException.badRequest("the request body must be a JSON object, got " + kind(n));
        return o;
    }

    static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    static byte[] bytes(JsonNode n) {
        try {
            return MAPPER.writeValueAsBytes(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A field that is absent or null counts as not given. */
    static boolean given(JsonNode o, String field) {
        JsonNode n = o.get(field);
        return n != null && !n.isNull();
    }

    static String string(JsonNode o, String field, String dflt) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return dflt;
        if (!n.isTextual()) throw wrongType(field, "a string", n);
        return n.textValue();
    }

    static boolean bool(JsonNode o, String field, boolean dflt) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return dflt;
        if (!n.isBoolean()) throw wrongType(field, "true or false", n);
        return n.booleanValue();
    }

    /** An integer in [min, max]. */
    static Long integer(JsonNode o, String field, long min, long max) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return null;
        long v;
        if (n.isIntegralNumber() && n.canConvertToLong()) {
            v = n.longValue();
        } else if (n.isFloatingPointNumber() && Double.isFinite(n.doubleValue()) && n.doubleValue() == Math.rint(n.doubleValue())
                && Math.abs(n.doubleValue()) < 9.0e15) {
            v = (long) n.doubleValue(); // 5.0 is an integer for JavaScript clients
        } else if (n.isNumber()) {
            throw ApiException.badRequest("field '" + field + "' must be an integer in [" + min + ", " + max + "], got " + n.asText());
        } else {
            throw wrongType(field, "an integer", n);
        }
        if (v < min || v > max) {
            throw ApiException.badRequest("field '" + field + "' must be in [" + min + ", " + max + "], got " + v);
        }
        return v;
    }

    /** A finite number in [min, max]. */
    static Double number(JsonNode o, String field, double min, double max) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isNumber()) throw wrongType(field, "a number", n);
        double v = n.doubleValue();
        if (!Double.isFinite(v) || v < min || v > max) {
            throw ApiException.badRequest("field '" + field + "' must be a number in [" + min + ", " + max + "], got " + n.asText());
        }
        return v;
    }

    /** A string or an array of strings (OpenAI's and Ollama's {@code stop}); null when absent. */
    static List<String> strings(JsonNode o, String field, int maxCount) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return null;
        List<String> out = new ArrayList<>();
        if (n.isTextual()) {
            out.add(n.textValue());
        } else if (n.isArray()) {
            for (JsonNode e : n) {
                if (!e.isTextual()) throw wrongType(field + "[]", "a string", e);
                out.add(e.textValue());
            }
        } else {
            throw wrongType(field, "a string or an array of strings", n);
        }
        if (out.size() > maxCount) throw ApiException.badRequest("field '" + field + "' holds " + out.size() + " strings; at most " + maxCount);
        for (String s : out) {
            if (s.isEmpty()) throw ApiException.badRequest("field '" + field + "' holds an empty string");
        }
        return out;
    }

    /** Whether {@code o.field} holds something: not absent, null, an empty array or an empty string. */
    static boolean nonEmpty(JsonNode o, String field) {
        JsonNode n = o.get(field);
        return n != null && !n.isNull() && !(n.isArray() && n.isEmpty()) && !(n.isTextual() && n.textValue().isEmpty());
    }

    static ApiException wrongType(String field, String expected, JsonNode actual) {
        return ApiException.badRequest("field '" + field + "' must be " + expected + ", got " + kind(actual));
    }

    static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT, POJO -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL, MISSING -> "null";
            case BINARY -> "binary data";
        };
    }
}
