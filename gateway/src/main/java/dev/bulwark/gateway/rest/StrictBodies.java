package dev.bulwark.gateway.rest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;

import java.io.IOException;

/**
 * Reads request bodies in which an unknown field is an error: Quarkus's JSON reader skips unknown fields, which is
 * harmless for most bodies but would take a misspelt limit ({@code "maxTopic"}) for no limit at all. A body with an
 * unknown field is answered 400 naming it ({@link RestErrors}).
 */
@ApplicationScoped
public class StrictBodies {

    @Inject
    ObjectMapper mapper;

    /**
     * The body as {@code type}, refusing unknown fields.
     *
     * @param shape what the body must look like, the answer to a body that is no JSON object
     * @throws BadRequestException      when the body is absent or not a JSON object
     * @throws JsonProcessingException  when a field is unknown or of the wrong type (mapped to 400)
     */
    <T> T read(JsonNode body, Class<T> type, String shape) throws IOException {
        if (body == null || !body.isObject()) {
            throw new BadRequestException(shape);
        }
        return mapper.readerFor(type).with(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(body);
    }
}
