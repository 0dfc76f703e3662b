package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.ApiRegistry;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.Errors;

import java.util.concurrent.CompletionStage;

/** ApiVersions: exactly the APIs and versions this broker serves (the registry's table). */
public final class ApiVersionsHandler implements ApiHandler {

    private final ApiRegistry apis;

    public ApiVersionsHandler(ApiRegistry apis) {
        this.apis = apis;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        ApiVersionsResponseData response = new ApiVersionsResponseData().setApiKeys(apis.versions());
        if (request.body() instanceof ApiVersionsRequest versions && !versions.isValid()) {
            response.setErrorCode(Errors.INVALID_REQUEST.code());
        }
        return Reply.completed(response);
    }
}
