package dev.bulwark.gateway.kafka;

import dev.bulwark.acl.quota.QuotaEntity;
import dev.bulwark.acl.quota.QuotaKind;
import dev.bulwark.acl.quota.QuotaLimits;
import dev.bulwark.acl.quota.QuotaStore;
import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData.ComponentData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData.EntityData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData.EntryData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData.ValueData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.requests.DescribeClientQuotasRequest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * DescribeClientQuotas: the quotas of the entities a filter matches, among those the caller may see
 * ({@link ClientQuotaEntities}), with Kafka's filter semantics: each component matches an entity type by exact name,
 * by the default, or by any name; a strict filter also excludes entities with types it does not name. A filter that
 * names a type twice, an unknown type or ip with user or client id is INVALID_REQUEST (unknown types
 * UNSUPPORTED_VERSION), as Kafka answers.
 */
public final class DescribeClientQuotasHandler implements ApiHandler {

    private final QuotaStore quotas;
    private final ClientQuotaEntities entities;

    public DescribeClientQuotasHandler(QuotaStore quotas, ClientQuotaEntities entities) {
        this.quotas = quotas;
        this.entities = entities;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        DescribeClientQuotasRequestData data = request.data();
        AuthenticatedPrincipal caller = request.principal();
        try {
            if (!ClientQuotaEntities.mayManageQuotas(caller)) {
                throw ClientQuotaEntities.notAuthorized();
            }
            List<ComponentData> filter = normalize(caller, data.components());
            List<EntryData> entries = new ArrayList<>();
            for (Map.Entry<QuotaEntity, QuotaLimits> entry : quotas.snapshot().entries().entrySet()) {
                Optional<Map<String, String>> shown = entities.display(caller, entry.getKey());
                if (shown.isPresent() && matches(shown.get(), filter, data.strict())) {
                    entries.add(entry(shown.get(), entry.getValue()));
                }
            }
            return Reply.completed(new DescribeClientQuotasResponseData().setEntries(entries));
        } catch (ApiException e) {
            return Reply.completed(new DescribeClientQuotasResponseData().setErrorCode(Errors.forException(e).code())
                    .setErrorMessage(e.getMessage()).setEntries(null));
        }
    }

    /** Checks the filter as Kafka does and writes exact names the way {@link ClientQuotaEntities#display} does. */
    private List<ComponentData> normalize(AuthenticatedPrincipal caller, List<ComponentData> components) {
        Map<String, ComponentData> byType = new HashMap<>();
        List<ComponentData> normalized = new ArrayList<>(components.size());
        for (ComponentData component : components) {
            String type = component.entityType();
            if (type == null || type.isEmpty()) {
                throw new InvalidRequestException("Invalid empty entity type.");
            }
            if (byType.put(type, component) != null) {
                throw new InvalidRequestException("Entity type " + type + " cannot appear more than once in the "
                        + "filter.");
            }
            if (!type.equals(ClientQuotaEntity.USER) && !type.equals(ClientQuotaEntity.CLIENT_ID)
                    && !type.equals(ClientQuotaEntity.IP)) {
                throw new UnsupportedVersionException("Unsupported entity type " + type);
            }
            byte match = component.matchType();
            if (match == DescribeClientQuotasRequest.MATCH_TYPE_EXACT && component.match() == null) {
                throw new InvalidRequestException("Request specified MATCH_TYPE_EXACT, but set match string to null.");
            }
            if (match != DescribeClientQuotasRequest.MATCH_TYPE_EXACT && component.match() != null) {
                throw new InvalidRequestException("Request specified a match string with a match type that takes "
                        + "none.");
            }
            if (match < DescribeClientQuotasRequest.MATCH_TYPE_EXACT
                    || match > DescribeClientQuotasRequest.MATCH_TYPE_SPECIFIED) {
                throw new InvalidRequestException("Unknown match type " + match);
            }
            if (type.equals(ClientQuotaEntity.IP) && caller.role() != Role.OPERATOR) {
                throw ClientQuotaEntities.notAuthorized();
            }
            normalized.add(match == DescribeClientQuotasRequest.MATCH_TYPE_EXACT
                    ? component.duplicate().setMatch(exactName(caller, type, component.match())) : component);
        }
        if (byType.containsKey(ClientQuotaEntity.IP)
                && (byType.containsKey(ClientQuotaEntity.USER) || byType.containsKey(ClientQuotaEntity.CLIENT_ID))) {
            throw new InvalidRequestException("Invalid entity filter component combination, IP filter component "
                    + "should not be used with user or clientId filter component.");
        }
        return normalized;
    }

    /** An exact name of a filter, written as {@link ClientQuotaEntities#display} writes names to the caller. */
    private String exactName(AuthenticatedPrincipal caller, String type, String name) {
        if (type.equals(ClientQuotaEntity.IP)) {
            return ClientQuotaEntities.normalizeAddress(name);
        }
        return type.equals(ClientQuotaEntity.USER) ? entities.displayedUserName(caller, name) : name;
    }

    private static boolean matches(Map<String, String> entity, List<ComponentData> filter, boolean strict) {
        if (strict && entity.size() != filter.size()) {
            return false;
        }
        for (ComponentData component : filter) {
            if (!entity.containsKey(component.entityType())) {
                return false;
            }
            String name = entity.get(component.entityType());
            boolean ok = switch (component.matchType()) {
                case DescribeClientQuotasRequest.MATCH_TYPE_EXACT -> Objects.equals(name, component.match());
                case DescribeClientQuotasRequest.MATCH_TYPE_DEFAULT -> name == null;
                default -> true;
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static EntryData entry(Map<String, String> entity, QuotaLimits limits) {
        EntryData entry = new EntryData();
        entity.forEach((type, name) -> entry.entity().add(new EntityData().setEntityType(type).setEntityName(name)));
        for (Map.Entry<QuotaKind, Double> value : limits.asMap().entrySet()) {
            entry.values().add(new ValueData().setKey(value.getKey().configName()).setValue(value.getValue()));
        }
        return entry;
    }
}
