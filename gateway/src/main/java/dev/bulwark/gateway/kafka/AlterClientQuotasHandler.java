package dev.bulwark.gateway.kafka;

import dev.bulwark.acl.quota.QuotaEntity;
import dev.bulwark.acl.quota.QuotaKind;
import dev.bulwark.acl.quota.QuotaStore;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.message.AlterClientQuotasRequestData;
import org.apache.kafka.common.message.AlterClientQuotasRequestData.EntityData;
import org.apache.kafka.common.message.AlterClientQuotasRequestData.EntryData;
import org.apache.kafka.common.message.AlterClientQuotasRequestData.OpData;
import org.apache.kafka.common.message.AlterClientQuotasResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * AlterClientQuotas: sets and removes quotas of user / client-id and ip entities, validated as Kafka validates them:
 * an entity the caller may not manage is CLUSTER_AUTHORIZATION_FAILED ({@link ClientQuotaEntities}); an unknown key, a
 * key of the other kind of entity (connection_creation_rate belongs to ip entities, the others to users and client
 * ids), a key given twice, a byte or connection rate that is not a whole number, or a value that is not positive is
 * INVALID_REQUEST. Each entry succeeds or fails on its own; the valid ones are stored together, unless
 * {@code validate_only}.
 */
public final class AlterClientQuotasHandler implements ApiHandler {

    private static final Logger LOG = LoggerFactory.getLogger(AlterClientQuotasHandler.class);

    private final QuotaStore quotas;
    private final ClientQuotaEntities entities;

    public AlterClientQuotasHandler(QuotaStore quotas, ClientQuotaEntities entities) {
        this.quotas = quotas;
        this.entities = entities;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        AlterClientQuotasRequestData data = request.data();
        AlterClientQuotasResponseData response = new AlterClientQuotasResponseData();
        List<QuotaStore.Alteration> valid = new ArrayList<>();
        List<AlterClientQuotasResponseData.EntryData> validEntries = new ArrayList<>();
        for (EntryData entry : data.entries()) {
            AlterClientQuotasResponseData.EntryData result = new AlterClientQuotasResponseData.EntryData();
            for (EntityData part : entry.entity()) {
                result.entity().add(new AlterClientQuotasResponseData.EntityData()
                        .setEntityType(part.entityType()).setEntityName(part.entityName()));
            }
            response.entries().add(result);
            try {
                valid.addAll(alterations(request, entry));
                validEntries.add(result);
            } catch (ApiException e) {
                result.setErrorCode(Errors.forException(e).code()).setErrorMessage(e.getMessage());
            }
        }
        if (!data.validateOnly() && !valid.isEmpty()) {
            try {
                quotas.alter(valid);
            } catch (IOException e) {
                LOG.error("storing client quotas failed", e);
                for (AlterClientQuotasResponseData.EntryData result : validEntries) {
                    result.setErrorCode(Errors.UNKNOWN_SERVER_ERROR.code())
                            .setErrorMessage("the quotas could not be stored");
                }
            }
        }
        return Reply.completed(response);
    }

    private List<QuotaStore.Alteration> alterations(Request request, EntryData entry) {
        Map<String, String> parts = new LinkedHashMap<>();
        for (EntityData part : entry.entity()) {
            if (parts.containsKey(part.entityType())) {
                throw new InvalidRequestException("Duplicate " + part.entityType() + " entity type in the entity");
            }
            parts.put(part.entityType(), part.entityName());
        }
        QuotaEntity entity = entities.resolve(request.principal(), parts);
        boolean ip = parts.containsKey(ClientQuotaEntity.IP);
        Set<String> seen = new HashSet<>();
        List<QuotaStore.Alteration> alterations = new ArrayList<>(entry.ops().size());
        for (OpData op : entry.ops()) {
            if (!seen.add(op.key())) {
                throw new InvalidRequestException("Duplicate quota key " + op.key());
            }
            QuotaKind kind = QuotaKind.fromConfigName(op.key())
                    .orElseThrow(() -> new InvalidRequestException("Invalid configuration key " + op.key()));
            if (ip != (kind == QuotaKind.CONNECTION_CREATION_RATE)) {
                throw new InvalidRequestException("Invalid configuration key " + op.key() + " for "
                        + (ip ? "an ip entity" : "a user or client-id entity"));
            }
            if (op.remove()) {
                alterations.add(new QuotaStore.Alteration(entity, kind, null));
                continue;
            }
            double value = op.value();
            if (kind != QuotaKind.REQUEST_PERCENTAGE && (value != Math.rint(value) || value > Long.MAX_VALUE)) {
                throw new InvalidRequestException("Configuration " + op.key() + " must be a "
                        + (kind == QuotaKind.CONNECTION_CREATION_RATE ? "Int" : "Long") + " value");
            }
            if (!(value > 0) || Double.isInfinite(value)) {
                throw new InvalidRequestException("Configuration " + op.key() + " must be positive, not " + value);
            }
            alterations.add(new QuotaStore.Alteration(entity, kind, value));
        }
        return alterations;
    }
}
