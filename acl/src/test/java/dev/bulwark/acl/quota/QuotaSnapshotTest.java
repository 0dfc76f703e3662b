package dev.bulwark.acl.quota;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuotaSnapshotTest {

    private static final String T = "tenant-1";
    private static final EntityName ALICE = EntityName.of("alice");
    private static final EntityName APP = EntityName.of("app");
    private static final EntityName DEF = EntityName.DEFAULT;

    /** Kafka's order, most specific first; each entry's quota is its position, so the winner is easy to read. */
    private static final List<QuotaEntity.Client> ORDER = List.of(
            new QuotaEntity.Client(T, ALICE, APP),
            new QuotaEntity.Client(T, ALICE, DEF),
            new QuotaEntity.Client(T, ALICE, null),
            new QuotaEntity.Client(T, DEF, APP),
            new QuotaEntity.Client(T, DEF, DEF),
            new QuotaEntity.Client(T, DEF, null),
            new QuotaEntity.Client(T, null, APP),
            new QuotaEntity.Client(T, null, DEF));

    private static QuotaLimits produce(double value) {
        return QuotaLimits.of(Map.of(QuotaKind.PRODUCER_BYTE_RATE, value));
    }

    @Test
    void theMostSpecificEntityWinsInKafkasOrder() {
        for (int winner = 0; winner < ORDER.size(); winner++) {
            Map<QuotaEntity, QuotaLimits> entries = new LinkedHashMap<>();
            for (int i = winner; i < ORDER.size(); i++) {
                entries.put(ORDER.get(i), produce(i + 1));
            }
            QuotaSnapshot.Resolution resolution = new QuotaSnapshot(1, entries)
                    .resolve(T, "alice", "app", QuotaKind.PRODUCER_BYTE_RATE);
            assertEquals(winner + 1, resolution.bound(), "with entries from position " + winner);
            assertEquals(ORDER.get(winner), resolution.matched());
        }
    }

    @Test
    void whoSharesAQuotaFollowsTheEntityItIsSetOn() {
        String[][] expected = {
                {"alice", "app"}, {"alice", "app"}, {"alice", null}, {"alice", "app"},
                {"alice", "app"}, {"alice", null}, {null, "app"}, {null, "app"}};
        for (int i = 0; i < ORDER.size(); i++) {
            QuotaSnapshot.Resolution resolution = new QuotaSnapshot(1, Map.of(ORDER.get(i), produce(10)))
                    .resolve(T, "alice", "app", QuotaKind.PRODUCER_BYTE_RATE);
            assertEquals(expected[i][0], resolution.user(), ORDER.get(i).toString());
            assertEquals(expected[i][1], resolution.clientId(), ORDER.get(i).toString());
        }
    }

    @Test
    void eachKindResolvesOnItsOwn() {
        QuotaSnapshot snapshot = new QuotaSnapshot(1, Map.of(
                new QuotaEntity.Client(T, ALICE, null), produce(100),
                new QuotaEntity.Client(T, DEF, null), QuotaLimits.of(Map.of(QuotaKind.CONSUMER_BYTE_RATE, 200.0))));
        assertEquals(100, snapshot.resolve(T, "alice", "x", QuotaKind.PRODUCER_BYTE_RATE).bound());
        assertEquals(200, snapshot.resolve(T, "alice", "x", QuotaKind.CONSUMER_BYTE_RATE).bound());
        assertNull(snapshot.resolve(T, "alice", "x", QuotaKind.REQUEST_PERCENTAGE));
    }

    @Test
    void anotherTenantsQuotasNeverApply() {
        QuotaSnapshot snapshot = new QuotaSnapshot(1, Map.of(
                new QuotaEntity.Client("tenant-2", ALICE, null), produce(100),
                new QuotaEntity.Client("tenant-2", DEF, DEF), produce(100),
                new QuotaEntity.Tenant("tenant-2"), produce(100)));
        assertNull(snapshot.resolve(T, "alice", "app", QuotaKind.PRODUCER_BYTE_RATE));
        assertTrue(snapshot.tenantLimit(T, QuotaKind.PRODUCER_BYTE_RATE).isEmpty());
    }

    @Test
    void aClientIdThatReadsDefaultIsNotTheDefault() {
        QuotaSnapshot snapshot = new QuotaSnapshot(1, Map.of(
                new QuotaEntity.Client(T, null, EntityName.of("<default>")), produce(5)));
        assertNull(snapshot.resolve(T, "alice", "app", QuotaKind.PRODUCER_BYTE_RATE));
        assertEquals(5, snapshot.resolve(T, "alice", "<default>", QuotaKind.PRODUCER_BYTE_RATE).bound());
    }

    @Test
    void anAddressFallsBackToTheDefaultAddress() {
        QuotaLimits rate = QuotaLimits.of(Map.of(QuotaKind.CONNECTION_CREATION_RATE, 3.0));
        QuotaSnapshot snapshot = new QuotaSnapshot(1, Map.of(
                new QuotaEntity.Ip(EntityName.of("10.0.0.7")), QuotaLimits.of(Map.of(QuotaKind.CONNECTION_CREATION_RATE, 1.0)),
                new QuotaEntity.Ip(DEF), rate));
        assertEquals(1.0, snapshot.ipLimit("10.0.0.7", QuotaKind.CONNECTION_CREATION_RATE).getAsDouble());
        assertEquals(3.0, snapshot.ipLimit("10.0.0.8", QuotaKind.CONNECTION_CREATION_RATE).getAsDouble());
    }
}
