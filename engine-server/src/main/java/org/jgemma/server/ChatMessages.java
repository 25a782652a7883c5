package org.jgemma.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jgemma.chat.ChatMessage;

/**
 * The {@code messages} array of a chat request, read once for both APIs (Ollama's {@code /api/chat}, OpenAI's
 * {@code /v1/chat/completions}): each entry an object with a role; function calling ({@code tool_calls}, its roles)
 * refused by name; a role outside the API's list a 400 naming the entry; the model's own system prompt put first
 * when the request has none (as Ollama does with a Modelfile's SYSTEM). What differs between the APIs is the
 * {@link Dialect}: the roles and how an entry's content and images are read.
 */
final class ChatMessages {
    private ChatMessages() {}

    /** Reads one entry's content and images into a message of the given (already checked) role. */
    interface Content {
        ChatMessage read(String role, JsonNode entry, String where);
    }

    /**
     * What one API accepts.
     *
     * @param roles         accepted role names, in the order error messages list them, to the role they stand for
     * @param functionRoles roles of function calling, refused as not supported
     * @param content       how an entry's content (and images) are read
     */
    record Dialect(Map<String, String> roles, Set<String> functionRoles, Content content) {
        /** "system, user or assistant". */
        String roleList() {
            List<String> r = List.copyOf(roles.keySet());
            return String.join(", ", r.subList(0, r.size() - 1)) + " or " + r.getLast();
        }
    }

    /** {@code system, user, assistant}, each standing for itself. */
    static Map<String, String> roles(String... names) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String n : names) m.put(n, n);
        return m;
    }

    /**
     * The messages of {@code msgs} (not null), with {@code modelSystem} (null or empty: none) first unless the request
     * begins with a system message of its own.
     */
    static List<ChatMessage> parse(JsonNode msgs, Dialect dialect, String modelSystem) {
        if (!msgs.isArray()) throw Json.wrongType("messages", "an array", msgs);
        List<ChatMessage> messages = new ArrayList<>();
        int i = 0;
        for (JsonNode m : msgs) {
            String where = "messages[" + i++ + "]";
            if (!m.isObject()) throw Json.wrongType(where, "an object", m);
            String role = Json.string(m, "role", null);
            if (role == null) throw ApiException.badRequest("field '" + where + ".role' is required");
            if (Json.nonEmpty(m, "tool_calls")) throw ApiException.unsupported("tool_calls (function calling) in " + where);
            if (dialect.functionRoles().contains(role)) {
                throw ApiException.unsupported("role '" + role + "' (function calling) in " + where);
            }
            String as = dialect.roles().get(role);
            if (as == null) {
                throw ApiException.badRequest("field '" + where + ".role' must be " + dialect.roleList() + ", got '" + role + "'");
            }
            messages.add(dialect.content().read(as, m, where));
        }
        if (modelSystem != null && !modelSystem.isEmpty() && !messages.isEmpty() && !messages.getFirst().role().equals("system")) {
            messages.addFirst(new ChatMessage("system", modelSystem));
        }
        return messages;
    }
}
