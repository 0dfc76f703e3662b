package dev.bulwark.auth.jwt;

import dev.bulwark.auth.sasl.BearerTokenValidator;
import dev.bulwark.auth.sasl.InvalidTokenException;

/** OAUTHBEARER's token check: the JWT validator, its verdict in the shape the SASL layer takes. */
public final class JwtBearerTokens implements BearerTokenValidator {

    private final JwtValidator validator;

    public JwtBearerTokens(JwtValidator validator) {
        this.validator = validator;
    }

    @Override
    public ValidatedToken validate(String token) throws InvalidTokenException {
        try {
            dev.bulwark.auth.jwt.ValidatedToken jwt = validator.validate(token);
            return new ValidatedToken(jwt.userName(), jwt.role(), jwt.scopes(),
                    jwt.issuedAt() == null ? -1 : jwt.issuedAt().toEpochMilli(), jwt.expiresAt().toEpochMilli());
        } catch (JwtValidationException e) {
            throw new InvalidTokenException(e.getMessage(), e);
        }
    }
}
