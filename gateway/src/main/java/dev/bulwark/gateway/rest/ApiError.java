package dev.bulwark.gateway.rest;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The body of every error the REST API answers: {@code {"error": "..."}}. Registered for reflection: the error
 * mappers and the authentication filter answer it inside a plain {@code Response}, which the native image cannot see.
 */
@RegisterForReflection
public record ApiError(String error) {
}
