package dev.bulwark.gateway.rest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.util.List;

/**
 * Every error the REST API answers has the body {@code {"error": "..."}}: the resources' own refusals and the REST
 * layer's (unknown path, wrong method, unsupported media type), each with its status and headers kept.
 */
public class RestErrors {

    static final String UNREADABLE_BODY = "the request body is not the JSON this endpoint takes";

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e) {
        // The JSON reader reports a body that does not parse as a 400 caused by Jackson's exception.
        String message = e.getCause() instanceof JsonProcessingException json ? unreadable(json) : e.getMessage();
        return Response.fromResponse(e.getResponse())
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(new ApiError(message))
                .build();
    }

    /**
     * A body that is not the JSON the endpoint takes (Jackson's own words would name Java types). Named apart from
     * its superclass so that this mapper, not quarkus-rest-jackson's (400 without a body), answers it.
     */
    @ServerExceptionMapper({JsonProcessingException.class, MismatchedInputException.class})
    public Response unreadableBody(JsonProcessingException e) {
        return response(Response.Status.BAD_REQUEST, unreadable(e));
    }

    /**
     * What is wrong with a body: a field that a strict body (its record says {@code ignoreUnknown = false}) does not
     * take is named with those it takes, so that a misspelt one is neither ignored nor a puzzle; anything else is
     * {@link #UNREADABLE_BODY}.
     */
    private static String unreadable(JsonProcessingException e) {
        if (e instanceof UnrecognizedPropertyException unknown) {
            List<String> known = unknown.getKnownPropertyIds() == null ? List.of()
                    : unknown.getKnownPropertyIds().stream().map(String::valueOf).sorted().toList();
            return "unknown field '" + unknown.getPropertyName() + "'; this endpoint takes " + String.join(", ", known);
        }
        return UNREADABLE_BODY;
    }

    static Response response(Response.Status status, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(new ApiError(message)).build();
    }
}
