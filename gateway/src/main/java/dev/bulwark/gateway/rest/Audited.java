package dev.bulwark.gateway.rest;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a REST method that changes something: {@link RestAuditFilter} records each call's outcome in the audit trail,
 * and a success is answered only once its entry is on disk.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Audited {

    /** The action, e.g. {@code tenant.create}. */
    String action();

    /**
     * What it acts on, as {@code <type>:<name>}, with {@code {param}} replaced by the path parameter and
     * {@code {location}} by the last segment of the created resource's location, e.g. {@code user:{tenant}/{location}}.
     */
    String resource();
}
