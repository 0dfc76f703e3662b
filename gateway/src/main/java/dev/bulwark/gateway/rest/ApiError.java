package dev.bulwark.gateway.rest;

/** The body of every error the REST API answers: {@code {"error": "..."}}. */
public record ApiError(String error) {
}
