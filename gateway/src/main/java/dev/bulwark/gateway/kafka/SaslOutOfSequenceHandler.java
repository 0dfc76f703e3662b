package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * SaslHandshake and SaslAuthenticate that are not part of a SASL exchange: on a listener without SASL, or a
 * SaslAuthenticate on an authenticated connection that did not start a re-authentication. Kafka answers them with
 * ILLEGAL_SASL_STATE; the exchange itself is the connection's (see {@code SaslSession}).
 */
public final class SaslOutOfSequenceHandler implements ApiHandler {

    @Override
    public CompletionStage<Reply> handle(Request request) {
        if (request.apiKey() == ApiKeys.SASL_HANDSHAKE) {
            return Reply.completed(new SaslHandshakeResponseData().setErrorCode(Errors.ILLEGAL_SASL_STATE.code())
                    .setMechanisms(List.of()));
        }
        return Reply.completed(new SaslAuthenticateResponseData().setErrorCode(Errors.ILLEGAL_SASL_STATE.code())
                .setErrorMessage("SaslAuthenticate is not expected here: the listener does not use SASL, or the "
                        + "connection is authenticated and did not start a re-authentication with SaslHandshake"));
    }
}
