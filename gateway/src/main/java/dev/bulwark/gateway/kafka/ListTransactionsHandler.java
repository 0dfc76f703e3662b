package dev.bulwark.gateway.kafka;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import dev.bulwark.acl.Subject;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.txn.TransactionCoordinator;
import dev.bulwark.gateway.txn.TransactionFilter;
import dev.bulwark.gateway.txn.TransactionState;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.ListTransactionsResponseData;
import org.apache.kafka.common.protocol.Errors;

import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;

/**
 * ListTransactions: the tenant's transactional ids, filtered by state (Kafka's names, matched exactly; names it does
 * not know are answered in unknownStateFilters and match nothing), producer id, duration (v1+: running longer than)
 * and transactional id pattern (v2+, KIP-1152: a regular expression the whole id must match). Only the ids the sender
 * may DESCRIBE are listed; the others are left out silently, as Kafka does.
 *
 * <p>The pattern comes from the client, so it is matched with RE2J, in time linear in the id, as Kafka matches it: a
 * backtracking engine would let one request hold a request thread for as long as its pattern likes.
 */
public final class ListTransactionsHandler implements ApiHandler {

    private final TransactionCoordinator coordinator;
    private final AccessControl access;

    public ListTransactionsHandler(TransactionCoordinator coordinator, AccessControl access) {
        this.coordinator = coordinator;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        ListTransactionsRequestData data = request.data();
        ListTransactionsResponseData response = new ListTransactionsResponseData();
        Set<TransactionState> states = data.stateFilters().isEmpty()
                ? EnumSet.allOf(TransactionState.class) : EnumSet.noneOf(TransactionState.class);
        for (String name : data.stateFilters()) {
            Optional<TransactionState> state = TransactionState.fromKafkaName(name);
            state.ifPresentOrElse(states::add, () -> response.unknownStateFilters().add(name));
        }
        Predicate<String> transactionalIds;
        try {
            transactionalIds = matching(data.transactionalIdPattern());
        } catch (PatternSyntaxException e) {
            return Reply.completed(response.setErrorCode(Errors.INVALID_REGULAR_EXPRESSION.code()));
        }
        TransactionFilter filter = new TransactionFilter(states, Set.copyOf(data.producerIdFilters()),
                data.durationFilter(), transactionalIds);
        Subject subject = access.subject(request);
        for (TransactionCoordinator.Listing listing : coordinator.list(request.tenantId(), filter)) {
            if (access.transactionalId(subject, AclOperation.DESCRIBE, listing.transactionalId())) {
                response.transactionStates().add(new ListTransactionsResponseData.TransactionState()
                        .setTransactionalId(listing.transactionalId()).setProducerId(listing.producerId())
                        .setTransactionState(listing.state().kafkaName()));
            }
        }
        return Reply.completed(response);
    }

    /** Every id for no pattern (null before v2, or empty); otherwise the ids the pattern matches whole. */
    private static Predicate<String> matching(String pattern) {
        if (pattern == null || pattern.isEmpty()) {
            return id -> true;
        }
        Pattern compiled = Pattern.compile(pattern);
        return id -> compiled.matcher(id).matches();
    }
}
