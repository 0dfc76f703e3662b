package dev.bulwark.gateway.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kafka's VerifiableProducer feeding three VerifiableConsumers in one group: assignments are disjoint and complete,
 * a stopped and a killed member's partitions move to the others, and with commits after processing every
 * acknowledged record is consumed at least once and none is skipped.
 */
@Timeout(600)
class VerifiableClientsIT {

    private static final String TOPIC = "verifiable";
    private static final int PARTITIONS = 6;
    private static final int MESSAGES = 15_000;

    @TempDir
    static Path dir;
    static BulwarkProcess server;

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.start(dir.resolve("data"), Map.of("BULWARK_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "500"));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    /** What one consumer process has reported. */
    private static final class Member {
        final Set<TopicPartition> owned = ConcurrentHashMap.newKeySet();
        final Map<Integer, List<long[]>> consumed = new ConcurrentHashMap<>();
        /** The last offset committed per partition, for a failure message. */
        final Map<Integer, Long> committed = new ConcurrentHashMap<>();
        volatile ToolProcess process;

        void on(JsonNode event) {
            switch (event.path("name").asText()) {
                case "partitions_revoked" -> partitions(event).forEach(owned::remove);
                case "partitions_assigned" -> owned.addAll(partitions(event));
                case "records_consumed" -> {
                    for (JsonNode p : event.path("partitions")) {
                        consumed.computeIfAbsent(p.path("partition").asInt(), k -> new java.util.concurrent
                                .CopyOnWriteArrayList<>()).add(new long[]{p.path("minOffset").asLong(),
                                p.path("maxOffset").asLong()});
                    }
                }
                case "offsets_committed" -> {
                    if (event.path("success").asBoolean()) {
                        for (JsonNode o : event.path("offsets")) {
                            committed.put(o.path("partition").asInt(), o.path("offset").asLong());
                        }
                    }
                }
                default -> { }
            }
        }

        static List<TopicPartition> partitions(JsonNode event) {
            List<TopicPartition> list = new ArrayList<>();
            for (JsonNode p : event.path("partitions")) {
                list.add(new TopicPartition(p.path("topic").asText(), p.path("partition").asInt()));
            }
            return list;
        }
    }

    private static ToolProcess consumer(String name, Member member) throws Exception {
        member.process = ToolProcess.start(name, member::on, "org.apache.kafka.tools.VerifiableConsumer",
                "--bootstrap-server", server.bootstrap(), "--topic", TOPIC, "--group-id", "verifiers",
                "--session-timeout", "6000", "--reset-policy", "earliest");
        return member.process;
    }

    @Test
    void membersShareThePartitionsAndLoseNothingThroughStopAndKill() throws Exception {
        Map<Integer, Set<Long>> acknowledged = new ConcurrentHashMap<>();
        List<ToolProcess> processes = new ArrayList<>();
        try (ToolProcess producer = ToolProcess.start("producer", event -> {
            if ("producer_send_success".equals(event.path("name").asText())) {
                acknowledged.computeIfAbsent(event.path("partition").asInt(), p -> ConcurrentHashMap.newKeySet())
                        .add(event.path("offset").asLong());
            }
        }, "org.apache.kafka.tools.VerifiableProducer", "--bootstrap-server", server.bootstrap(), "--topic", TOPIC,
                "--max-messages", Integer.toString(MESSAGES), "--throughput", "600", "--acks", "-1")) {
            Member a = new Member();
            Member b = new Member();
            Member c = new Member();
            ToolProcess pa = consumer("a", a);
            ToolProcess pb = consumer("b", b);
            ToolProcess pc = consumer("c", c);
            processes.addAll(List.of(pa, pb, pc));
            awaitAssignment("three members", a, b, c);

            pa.stop();
            awaitAssignment("after a stopped", b, c);

            Member d = new Member();
            ToolProcess pd = consumer("d", d);
            processes.add(pd);
            awaitAssignment("after d joined", b, c, d);

            pb.kill();
            awaitAssignment("after b was killed", c, d);

            assertEquals(0, producer.waitFor(120), "the producer finished");
            int total = acknowledged.values().stream().mapToInt(Set::size).sum();
            assertEquals(MESSAGES, total, "every record was acknowledged");

            List<Member> all = List.of(a, b, c, d);
            await(() -> "every acknowledged record consumed; missing " + new TreeSet<>(missing(acknowledged, all))
                    .stream().limit(20).toList() + ", consumed up to " + consumedUpTo(all),
                    () -> missing(acknowledged, all).isEmpty());
            for (Map.Entry<Integer, Set<Long>> partition : acknowledged.entrySet()) {
                long max = partition.getValue().stream().mapToLong(Long::longValue).max().orElse(-1);
                TreeSet<Long> covered = covered(partition.getKey(), all);
                for (long offset = 0; offset <= max; offset++) {
                    assertTrue(covered.contains(offset), "offset " + offset + " of partition " + partition.getKey()
                            + " was skipped");
                }
            }
        } finally {
            for (ToolProcess p : processes) {
                p.close();
            }
        }
    }

    private static Set<String> missing(Map<Integer, Set<Long>> acknowledged, List<Member> members) {
        Set<String> missing = new HashSet<>();
        for (Map.Entry<Integer, Set<Long>> partition : acknowledged.entrySet()) {
            TreeSet<Long> covered = covered(partition.getKey(), members);
            for (long offset : partition.getValue()) {
                if (!covered.contains(offset)) {
                    missing.add(partition.getKey() + "@" + offset);
                }
            }
        }
        return missing;
    }

    /** Per member, the highest offset consumed of each partition: what a stall shows on failure. */
    private static String consumedUpTo(List<Member> members) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < members.size(); i++) {
            Map<Integer, Long> highest = new java.util.TreeMap<>();
            members.get(i).consumed.forEach((partition, ranges) -> highest.put(partition,
                    ranges.stream().mapToLong(r -> r[1]).max().orElse(-1)));
            List<String> printed = members.get(i).process.otherOutput();
            out.append(" member ").append(i).append(" owns ").append(members.get(i).owned).append(" read ")
                    .append(highest).append(" committed ").append(members.get(i).committed).append(" other output ")
                    .append(printed.subList(Math.max(0, printed.size() - 5), printed.size()));
        }
        return out.toString();
    }

    private static TreeSet<Long> covered(int partition, List<Member> members) {
        TreeSet<Long> covered = new TreeSet<>();
        for (Member m : members) {
            for (long[] range : m.consumed.getOrDefault(partition, List.of())) {
                for (long o = range[0]; o <= range[1]; o++) {
                    covered.add(o);
                }
            }
        }
        return covered;
    }

    /** Waits until the members' assignments are disjoint and together cover every partition. */
    private static void awaitAssignment(String when, Member... members) throws InterruptedException {
        await("a complete, disjoint assignment " + when, () -> {
            Set<TopicPartition> union = new HashSet<>();
            int sum = 0;
            for (Member m : members) {
                if (m.owned.isEmpty()) {
                    return false;
                }
                union.addAll(m.owned);
                sum += m.owned.size();
            }
            return union.size() == PARTITIONS && sum == PARTITIONS;
        });
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        await(() -> what, condition);
    }

    private static void await(Supplier<String> what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what.get());
            }
            Thread.sleep(100);
        }
    }
}
