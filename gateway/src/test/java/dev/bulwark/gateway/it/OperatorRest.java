package dev.bulwark.gateway.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The REST API as the tests' operator uses it to set up tenants and users: every call must succeed. */
final class OperatorRest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final BulwarkProcess server;
    private final String authorization;

    OperatorRest(BulwarkProcess server, String user, String password) {
        this.server = server;
        this.authorization = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
    }

    /** Sends {@code body} as JSON and returns the JSON answer; fails the test unless the status is 2xx. */
    JsonNode call(String method, String path, Object body) throws IOException, InterruptedException {
        HttpResponse<String> response = send(method, path, body);
        assertTrue(response.statusCode() / 100 == 2, method + " " + path + ": " + response.statusCode() + " "
                + response.body());
        return response.body().isEmpty() ? JSON.nullNode() : JSON.readTree(response.body());
    }

    /** Sends {@code body} as JSON (none when null) and returns the response, whatever its status. */
    HttpResponse<String> send(String method, String path, Object body) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.http() + path))
                .header("Authorization", authorization);
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode post(String path, Object body) throws IOException, InterruptedException {
        return call("POST", path, body);
    }
}
