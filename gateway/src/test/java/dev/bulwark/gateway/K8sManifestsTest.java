package dev.bulwark.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.bulwark.gateway.config.BrokerConfigs;
import dev.bulwark.gateway.config.BulwarkConfig;
import dev.bulwark.gateway.config.ConfigMappingKeys;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Kubernetes manifests in {@code k8s/} against what Bulwark actually reads: every overlay is rendered with
 * {@code kubectl kustomize}, and its settings, ports, probes, mounts and security context are checked against
 * Bulwark's configuration mapping, its {@code application.properties} and Quarkus's own configuration model (the
 * {@code quarkus-config-model.json} its extensions ship), so that the manifests cannot drift from the application.
 */
class K8sManifestsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LISTENER = Pattern.compile("([A-Z_]+)://([^:/]*):(\\d+)");
    private static final Pattern REFERENCE = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");
    /** Settings whose value is key material: never a literal in a manifest, only a reference to a Secret. */
    private static final Set<String> SECRET_VALUES = Set.of("BULWARK_MASTER_KEY", "BULWARK_OPERATOR");
    private static final Set<String> BIND_ALL = Set.of("0.0.0.0", "::", "[::]", "");

    private static Path k8s;
    private static Map<String, Overlay> overlays;
    private static QuarkusConfigModel quarkus;
    private static Properties application;

    @BeforeAll
    static void renderOverlays() throws Exception {
        Path kubectl = onPath("kubectl");
        if (kubectl == null) {
            return;
        }
        k8s = repositoryRoot().resolve("k8s");
        overlays = new TreeMap<>();
        try (Stream<Path> dirs = Files.list(k8s.resolve("overlays"))) {
            for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
                overlays.put(dir.getFileName().toString(),
                        new Overlay(dir.getFileName().toString(), render(kubectl, dir)));
            }
        }
        assertTrue(overlays.keySet().containsAll(List.of("dev", "prod")), "k8s/overlays has dev and prod: "
                + overlays.keySet());
        quarkus = QuarkusConfigModel.load();
        application = new Properties();
        try (InputStream in = BulwarkConfig.class.getResourceAsStream("/application.properties")) {
            application.load(in);
        }
    }

    /** Each test, not the class, is skipped, so that every report shows it and why. */
    @BeforeEach
    void needsKubectl() {
        assumeTrue(overlays != null, "kubectl is not on PATH, so the k8s/ overlays cannot be rendered and their "
                + "consistency with the application is not checked here (.ci/run renders them where kubectl is)");
    }

    @Test
    void probesAreSmallRyeHealthsPathsOnTheHttpPort() {
        Problems problems = new Problems();
        for (Overlay o : overlays.values()) {
            String health = resolve(nonApplicationRoot(o), quarkusValue(o, "quarkus.smallrye-health.root-path"));
            Map<String, String> expected = Map.of(
                    "startupProbe", resolve(health, quarkusValue(o, "quarkus.smallrye-health.startup-path")),
                    "livenessProbe", resolve(health, quarkusValue(o, "quarkus.smallrye-health.liveness-path")),
                    "readinessProbe", resolve(health, quarkusValue(o, "quarkus.smallrye-health.readiness-path")));
            int httpPort = httpPort(o);
            for (Map.Entry<String, String> probe : expected.entrySet()) {
                JsonNode httpGet = o.container().path(probe.getKey()).path("httpGet");
                if (httpGet.isMissingNode()) {
                    problems.add(o, probe.getKey() + " has no httpGet: expected GET " + probe.getValue());
                    continue;
                }
                if (!httpGet.path("path").asText().equals(probe.getValue())) {
                    problems.add(o, probe.getKey() + " path is " + httpGet.path("path").asText()
                            + ", but SmallRye Health serves it at " + probe.getValue());
                }
                Integer port = o.containerPort(httpGet.path("port"));
                if (port == null || port != httpPort) {
                    problems.add(o, probe.getKey() + " port " + httpGet.path("port").asText() + " is container port "
                            + port + ", not the HTTP port " + httpPort + " (quarkus.http.port)");
                }
            }
        }
        problems.assertNone();
    }

    @Test
    void portsAreTheHttpPortAndTheKafkaListenersBoundOnEveryInterface() {
        Problems problems = new Problems();
        for (Overlay o : overlays.values()) {
            int httpPort = httpPort(o);
            String httpHost = o.env().containsKey("QUARKUS_HTTP_HOST") ? o.env().get("QUARKUS_HTTP_HOST").value()
                    : application.getProperty("quarkus.http.host");
            if (!BIND_ALL.contains(httpHost)) {
                problems.add(o, "QUARKUS_HTTP_HOST is " + httpHost + ": the HTTP server must bind every interface "
                        + "(0.0.0.0) for probes and clients outside the pod to reach it");
            }
            Set<Integer> configured = new TreeSet<>(List.of(httpPort));
            Set<Integer> kafkaPorts = new TreeSet<>();
            for (Matcher listener : listeners(o, problems)) {
                kafkaPorts.add(Integer.parseInt(listener.group(3)));
                if (!BIND_ALL.contains(listener.group(2))) {
                    problems.add(o, "listener " + listener.group() + " binds " + listener.group(2)
                            + ": it must bind every interface (0.0.0.0) to be reachable from outside the pod");
                }
            }
            configured.addAll(kafkaPorts);
            Set<Integer> declared = new TreeSet<>(o.containerPorts().values());
            if (!declared.equals(configured)) {
                problems.add(o, "container ports " + declared + " differ from the configured HTTP port and Kafka "
                        + "listener ports " + configured);
            }
            if (!o.containerPorts().containsKey("http") || o.containerPorts().get("http") != httpPort) {
                problems.add(o, "the container port named http is " + o.containerPorts().get("http")
                        + ", not the HTTP port " + httpPort);
            }

            JsonNode annotations = o.statefulSet().at("/spec/template/metadata/annotations");
            if (!"true".equals(annotations.path("prometheus.io/scrape").asText())
                    || !String.valueOf(httpPort).equals(annotations.path("prometheus.io/port").asText())
                    || !annotations.path("prometheus.io/path").asText().startsWith(nonApplicationRoot(o) + "/")) {
                problems.add(o, "the Prometheus annotations " + annotations + " must scrape the HTTP port " + httpPort
                        + " under " + nonApplicationRoot(o) + "/");
            }

            String headlessName = o.statefulSet().at("/spec/serviceName").asText();
            for (JsonNode service : o.all("Service")) {
                String name = service.at("/metadata/name").asText();
                if (!o.selects(service.at("/spec/selector"))) {
                    problems.add(o, "Service " + name + " does not select the pod's labels");
                }
                Set<Integer> targets = new TreeSet<>();
                for (JsonNode port : service.at("/spec/ports")) {
                    Integer target = o.containerPort(port.has("targetPort") ? port.get("targetPort") : port.get("port"));
                    if (target == null) {
                        problems.add(o, "Service " + name + " port " + port.path("name").asText()
                                + " targets " + port.path("targetPort").asText() + ", which is no container port");
                    } else {
                        targets.add(target);
                    }
                }
                boolean headless = "None".equals(service.at("/spec/clusterIP").asText());
                Set<Integer> expected = headless ? kafkaPorts : configured;
                if (!targets.equals(expected)) {
                    problems.add(o, "Service " + name + " reaches container ports " + targets + ", expected "
                            + expected + (headless ? " (every Kafka listener)" : " (the Kafka listeners and HTTP)"));
                }
                if (headless != name.equals(headlessName)) {
                    problems.add(o, "Service " + name + (headless ? " is headless but is not" : " is")
                            + " the StatefulSet's serviceName " + headlessName);
                }
            }
            if (o.named("Service", headlessName) == null) {
                problems.add(o, "the StatefulSet's serviceName " + headlessName + " is no Service of the overlay");
            }

            for (JsonNode policy : o.all("NetworkPolicy")) {
                String name = policy.at("/metadata/name").asText();
                if (!o.selects(policy.at("/spec/podSelector/matchLabels"))) {
                    problems.add(o, "NetworkPolicy " + name + " does not select the pod's labels");
                }
                Set<Integer> allowed = new TreeSet<>();
                for (JsonNode rule : policy.at("/spec/ingress")) {
                    for (JsonNode port : rule.path("ports")) {
                        allowed.add(o.containerPort(port.path("port")));
                    }
                }
                if (!allowed.equals(configured)) {
                    problems.add(o, "NetworkPolicy " + name + " admits ports " + allowed + ", expected exactly "
                            + configured);
                }
                Set<String> types = new TreeSet<>();
                policy.at("/spec/policyTypes").forEach(t -> types.add(t.asText()));
                if (!types.equals(Set.of("Ingress", "Egress"))) {
                    problems.add(o, "NetworkPolicy " + name + " restricts " + types + ", not Ingress and Egress");
                }
            }
            if (o.all("NetworkPolicy").isEmpty()) {
                problems.add(o, "no NetworkPolicy");
            }
            for (JsonNode budget : o.all("PodDisruptionBudget")) {
                if (!o.selects(budget.at("/spec/selector/matchLabels"))) {
                    problems.add(o, "PodDisruptionBudget " + budget.at("/metadata/name").asText()
                            + " does not select the pod's labels");
                }
            }
            if (o.all("PodDisruptionBudget").isEmpty()) {
                problems.add(o, "no PodDisruptionBudget");
            }
        }
        problems.assertNone();
    }

    @Test
    void clientsAreToldThePodsStableNameUnderTheHeadlessService() {
        Problems problems = new Problems();
        for (Overlay o : overlays.values()) {
            Env advertised = o.env().get("BULWARK_ADVERTISED_HOST");
            String expectedStart = "$(POD_NAME)." + o.statefulSet().at("/spec/serviceName").asText()
                    + ".$(POD_NAMESPACE).svc";
            if (advertised == null || advertised.value() == null || !advertised.value().startsWith(expectedStart)) {
                problems.add(o, "BULWARK_ADVERTISED_HOST is " + (advertised == null ? "not set" : advertised.value())
                        + ", expected the pod's name under the headless Service, " + expectedStart + "...");
                continue;
            }
            Map<String, String> fields = Map.of("POD_NAME", "metadata.name", "POD_NAMESPACE", "metadata.namespace");
            List<String> order = new ArrayList<>(o.env().keySet());
            for (Map.Entry<String, String> field : fields.entrySet()) {
                Env env = o.env().get(field.getKey());
                if (env == null || !field.getValue().equals(env.valueFrom().at("/fieldRef/fieldPath").asText())
                        || order.indexOf(field.getKey()) > order.indexOf("BULWARK_ADVERTISED_HOST")) {
                    problems.add(o, field.getKey() + " must be set from " + field.getValue()
                            + " before BULWARK_ADVERTISED_HOST, which refers to it");
                }
            }
        }
        problems.assertNone();
    }

    @Test
    void everyBulwarkAndQuarkusVariableIsASettingTheApplicationReads() {
        Map<String, String> bulwarkKeys = new TreeMap<>();
        for (String key : ConfigMappingKeys.bulwark().keySet()) {
            if (!key.endsWith(".*")) {
                bulwarkKeys.put(ConfigMappingKeys.environmentVariable(key), key);
            }
        }
        Problems problems = new Problems();
        for (Overlay o : overlays.values()) {
            for (Map.Entry<String, Env> e : o.env().entrySet()) {
                String name = e.getKey();
                if (name.startsWith("BULWARK_KAFKA_")) {
                    String setting = name.substring("BULWARK_KAFKA_".length()).toLowerCase(Locale.ROOT)
                            .replace('_', '.');
                    if (!BrokerConfigs.DEFINITIONS.names().contains(setting)) {
                        problems.add(o, name + " (" + e.getValue().source() + ") is no Kafka broker setting Bulwark "
                                + "knows: bulwark.kafka." + setting);
                    }
                } else if (name.startsWith("BULWARK_")) {
                    if (!bulwarkKeys.containsKey(name)) {
                        problems.add(o, name + " (" + e.getValue().source() + ") is no bulwark.* setting; known: "
                                + bulwarkKeys.keySet());
                    }
                } else if (name.startsWith("QUARKUS_")) {
                    QuarkusConfigModel.Property property = quarkus.byEnvironmentVariable(name);
                    if (property == null) {
                        problems.add(o, name + " (" + e.getValue().source() + ") is no Quarkus setting of the "
                                + "extensions on the class path");
                    } else if (!property.runtime()) {
                        problems.add(o, name + " (" + e.getValue().source() + ") sets " + property.name()
                                + ", which is fixed when Bulwark is built (" + property.phase() + ")");
                    }
                } else if (!o.referencedVariables().contains(name)) {
                    problems.add(o, name + " (" + e.getValue().source() + ") is neither a Bulwark nor a Quarkus "
                            + "setting, and no other variable refers to it");
                }
                if (SECRET_VALUES.contains(name) && e.getValue().value() != null) {
                    problems.add(o, name + " has a literal value in " + e.getValue().source()
                            + ": key material comes from a Secret (valueFrom.secretKeyRef), never from the manifests");
                }
            }
        }
        problems.assertNone();
    }

    @Test
    void everyFileSettingPointsIntoAMountedVolumeAndTheDataDirIntoTheVolumeClaim() {
        Map<String, String> fileVariables = new TreeMap<>();
        for (String key : ConfigMappingKeys.bulwark().keySet()) {
            if (key.endsWith("-file")) {
                fileVariables.put(ConfigMappingKeys.environmentVariable(key), key);
            }
        }
        fileVariables.putAll(quarkus.fileVariables());
        Problems problems = new Problems();
        for (Overlay o : overlays.values()) {
            Set<String> claims = new TreeSet<>();
            o.statefulSet().at("/spec/volumeClaimTemplates").forEach(t -> claims.add(t.at("/metadata/name").asText()));
            Set<String> volumes = new TreeSet<>(claims);
            o.pod().path("volumes").forEach(v -> volumes.add(v.path("name").asText()));
            for (JsonNode mount : o.container().path("volumeMounts")) {
                if (!volumes.contains(mount.path("name").asText())) {
                    problems.add(o, "volumeMount " + mount.path("mountPath").asText() + " names volume "
                            + mount.path("name").asText() + ", which the pod does not have");
                }
            }
            for (Map.Entry<String, Env> e : o.env().entrySet()) {
                if (!fileVariables.containsKey(e.getKey())) {
                    continue;
                }
                for (String file : e.getValue().value() == null ? new String[0] : e.getValue().value().split(",")) {
                    JsonNode mount = o.mountHolding(file.trim());
                    if (mount == null) {
                        problems.add(o, e.getKey() + "=" + file + " (" + fileVariables.get(e.getKey())
                                + ") is in no volumeMount: " + o.mountPaths());
                    } else if (!mount.path("readOnly").asBoolean()) {
                        problems.add(o, e.getKey() + "=" + file + " is in volumeMount " + mount.path("mountPath")
                                .asText() + ", which is not readOnly");
                    }
                }
            }
            Env dataDir = o.env().get("BULWARK_DATA_DIR");
            JsonNode dataMount = dataDir == null ? null : o.mountHolding(dataDir.value());
            if (dataMount == null || !claims.contains(dataMount.path("name").asText())) {
                problems.add(o, "BULWARK_DATA_DIR " + (dataDir == null ? "is not set" : "=" + dataDir.value())
                        + ": the log store must lie in a volumeMount of a volumeClaimTemplate " + claims);
            }
            if (o.statefulSet().at("/spec/replicas").asInt() != 1) {
                problems.add(o, "the StatefulSet must have 1 replica: Bulwark runs as a single node");
            }
        }
        problems.assertNone();
    }

    @Test
    void podAndContainerAreLockedDown() {
        Duration shutdown = duration(application.getProperty("quarkus.shutdown.timeout", "0"));
        Problems problems = new Problems();
        for (Overlay o : overlays.values()) {
            JsonNode pod = o.pod().path("securityContext");
            JsonNode container = o.container().path("securityContext");
            expect(problems, o, pod, "/runAsNonRoot", "true");
            expect(problems, o, pod, "/seccompProfile/type", "RuntimeDefault");
            for (String id : List.of("/runAsUser", "/runAsGroup", "/fsGroup")) {
                if (!pod.at(id).canConvertToInt() || pod.at(id).asInt() <= 0) {
                    problems.add(o, "pod securityContext" + id.replace('/', '.') + " is " + pod.at(id)
                            + ", expected a fixed id other than root's");
                }
            }
            expect(problems, o, container, "/allowPrivilegeEscalation", "false");
            expect(problems, o, container, "/readOnlyRootFilesystem", "true");
            List<String> dropped = new ArrayList<>();
            container.at("/capabilities/drop").forEach(c -> dropped.add(c.asText()));
            if (!dropped.contains("ALL") || container.at("/capabilities/add").size() > 0) {
                problems.add(o, "the container must drop ALL capabilities and add none: " + container
                        .path("capabilities"));
            }
            if (container.has("privileged") && container.get("privileged").asBoolean()) {
                problems.add(o, "the container is privileged");
            }
            JsonNode tmp = o.mountHolding("/tmp/x");
            if (tmp == null || !"/tmp".equals(tmp.path("mountPath").asText())
                    || !o.volume(tmp.path("name").asText()).has("emptyDir")) {
                problems.add(o, "/tmp must be an emptyDir: the root file system is read-only");
            }
            if (!"false".equals(o.pod().path("enableServiceLinks").asText())) {
                problems.add(o, "enableServiceLinks must be false: Services named bulwark* would inject BULWARK_* "
                        + "variables that Quarkus reads as settings");
            }
            long grace = o.pod().path("terminationGracePeriodSeconds").asLong(30);
            if (grace <= shutdown.toSeconds()) {
                problems.add(o, "terminationGracePeriodSeconds " + grace + " leaves no margin over "
                        + "quarkus.shutdown.timeout " + shutdown.toSeconds() + "s for a clean stop");
            }
            JsonNode resources = o.container().path("resources");
            for (String field : List.of("/requests/cpu", "/requests/memory", "/limits/memory")) {
                if (resources.at(field).isMissingNode()) {
                    problems.add(o, "the container's resources have no " + field.substring(1).replace('/', '.'));
                }
            }
            String image = o.container().path("image").asText();
            if (!image.matches("(.*/)?bulwark(:[\\w][\\w.-]*|@sha256:[0-9a-f]{64})")) {
                problems.add(o, "image " + image + " is not bulwark with a tag or digest set by the overlay's images:");
            }
        }
        problems.assertNone();
    }

    @Test
    void noKeyMaterialIsInTheManifestsAndEverySecretTheyUseIsDocumented() throws IOException {
        String readme = Files.readString(k8s.resolve("README.md"));
        Problems problems = new Problems();
        for (Overlay o : overlays.values()) {
            for (JsonNode secret : o.all("Secret")) {
                if (secret.path("data").size() > 0 || secret.path("stringData").size() > 0) {
                    problems.add(o, "Secret " + secret.at("/metadata/name").asText() + " carries data: key material "
                            + "is never committed, the operator creates Secrets (k8s/README.md)");
                }
            }
            Set<String> used = new TreeSet<>();
            o.pod().path("volumes").forEach(v -> {
                if (v.has("secret")) {
                    used.add(v.at("/secret/secretName").asText());
                }
            });
            o.env().values().forEach(e -> {
                if (e.valueFrom() != null && e.valueFrom().has("secretKeyRef")) {
                    used.add(e.valueFrom().at("/secretKeyRef/name").asText());
                }
            });
            for (String name : used) {
                if (!Pattern.compile("kubectl (-n \\S+ )?create secret \\w+ " + Pattern.quote(name) + "\\b")
                        .matcher(readme).find()) {
                    problems.add(o, "Secret " + name + " is used, but k8s/README.md has no `kubectl create secret ... "
                            + name + "` command");
                }
            }
        }
        problems.assertNone();
    }

    @Test
    void prodRequiresItsMasterKeyAndTlsSecretsAndServesOnlySaslSsl() {
        Overlay prod = overlays.get("prod");
        Problems problems = new Problems();
        for (String name : List.of("BULWARK_MASTER_KEY_FILE", "BULWARK_TLS_CERTIFICATE_FILE", "BULWARK_TLS_KEY_FILE")) {
            if (!prod.env().containsKey(name)) {
                problems.add(prod, name + " is not set: prod would run on a generated dev key or dev CA");
            }
        }
        for (String name : List.of("BULWARK_MASTER_KEY_FILE", "BULWARK_TLS_CERTIFICATE_FILE")) {
            JsonNode mount = prod.env().containsKey(name) ? prod.mountHolding(prod.env().get(name).value()) : null;
            JsonNode volume = mount == null ? null : prod.volume(mount.path("name").asText());
            if (volume != null && !volume.has("secret")) {
                problems.add(prod, name + " is not in a mounted Secret");
            }
        }
        for (Matcher listener : listeners(prod, problems)) {
            if (!listener.group(1).equals("SASL_SSL")) {
                problems.add(prod, "listener " + listener.group() + ": prod serves SASL_SSL only");
            }
        }
        problems.assertNone();
    }

    // ---------------------------------------------------------------- what the application reads

    /**
     * A Quarkus setting's value in an overlay: its environment variable (read at run time only), else
     * application.properties, else its default.
     */
    private static String quarkusValue(Overlay o, String name) {
        QuarkusConfigModel.Property property = quarkus.byName(name);
        assertTrue(property != null, name + " is in no quarkus-config-model.json of the extensions Bulwark uses");
        Env env = o.env().get(property.environmentVariable());
        if (property.runtime() && env != null && env.value() != null) {
            return env.value();
        }
        String value = application.getProperty(name, property.defaultValue());
        assertTrue(value != null, name + " has no value in application.properties and no default");
        return value;
    }

    private static int httpPort(Overlay o) {
        return Integer.parseInt(quarkusValue(o, "quarkus.http.port"));
    }

    /** Where Quarkus serves its own endpoints (health, metrics): {@code /q} by default. */
    private static String nonApplicationRoot(Overlay o) {
        return resolve(quarkusValue(o, "quarkus.http.root-path"),
                quarkusValue(o, "quarkus.http.non-application-root-path"));
    }

    /** A Quarkus path: absolute when it starts with a slash, else under {@code base}. */
    private static String resolve(String base, String path) {
        return path.startsWith("/") ? path : (base.endsWith("/") ? base : base + "/") + path;
    }

    private static List<Matcher> listeners(Overlay o, Problems problems) {
        Env env = o.env().get("BULWARK_LISTENERS");
        String value = env != null ? env.value() : ConfigMappingKeys.bulwark().get("bulwark.listeners");
        List<Matcher> listeners = new ArrayList<>();
        for (String listener : value.split(",")) {
            Matcher m = LISTENER.matcher(listener.trim());
            if (m.matches()) {
                listeners.add(m);
            } else {
                problems.add(o, "BULWARK_LISTENERS entry " + listener + " is not PROTOCOL://host:port");
            }
        }
        return listeners;
    }

    private static Duration duration(String quarkusDuration) {
        String value = quarkusDuration.trim();
        return value.matches("\\d+") ? Duration.ofSeconds(Long.parseLong(value))
                : Duration.parse("PT" + value.toUpperCase(Locale.ROOT));
    }

    private static void expect(Problems problems, Overlay o, JsonNode context, String field, String expected) {
        if (!expected.equals(context.at(field).asText())) {
            problems.add(o, "securityContext" + field.replace('/', '.') + " is " + context.at(field) + ", expected "
                    + expected);
        }
    }

    // ---------------------------------------------------------------- rendering

    private static List<JsonNode> render(Path kubectl, Path overlay) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(kubectl.toString(), "kustomize", overlay.toString())
                .redirectError(ProcessBuilder.Redirect.PIPE).start();
        byte[] stdout = process.getInputStream().readAllBytes();
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize " + overlay + " did not finish");
        assertTrue(process.exitValue() == 0, "kubectl kustomize " + overlay + " failed: " + stderr);
        YAMLMapper yaml = new YAMLMapper();
        List<JsonNode> objects = new ArrayList<>();
        try (var documents = yaml.readerFor(JsonNode.class).<JsonNode>readValues(stdout)) {
            while (documents.hasNext()) {
                JsonNode object = documents.next();
                if (object != null && !object.isEmpty()) {
                    objects.add(object);
                }
            }
        }
        return objects;
    }

    private static Path onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, command);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private static Path repositoryRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("k8s").resolve("overlays"))) {
                return dir;
            }
        }
        throw new AssertionError("no k8s/overlays above " + Path.of("").toAbsolutePath());
    }

    /** A variable of the container: from the ConfigMap its envFrom names, or its own env (which wins). */
    private record Env(String value, JsonNode valueFrom, String source) {
    }

    /** One rendered overlay, with the single Bulwark pod it describes. */
    private record Overlay(String name, List<JsonNode> objects) {

        List<JsonNode> all(String kind) {
            return objects.stream().filter(o -> kind.equals(o.path("kind").asText())).toList();
        }

        JsonNode named(String kind, String name) {
            return all(kind).stream().filter(o -> name.equals(o.at("/metadata/name").asText())).findFirst()
                    .orElse(null);
        }

        JsonNode statefulSet() {
            List<JsonNode> sets = all("StatefulSet");
            assertTrue(sets.size() == 1, name + ": expected one StatefulSet, found " + sets.size());
            return sets.get(0);
        }

        JsonNode pod() {
            return statefulSet().at("/spec/template/spec");
        }

        JsonNode container() {
            JsonNode containers = pod().path("containers");
            assertTrue(containers.size() == 1, name + ": expected one container, found " + containers.size());
            return containers.get(0);
        }

        JsonNode volume(String volumeName) {
            for (JsonNode volume : pod().path("volumes")) {
                if (volumeName.equals(volume.path("name").asText())) {
                    return volume;
                }
            }
            return JSON.createObjectNode();
        }

        /** The container's ports by name. */
        Map<String, Integer> containerPorts() {
            Map<String, Integer> ports = new LinkedHashMap<>();
            for (JsonNode port : container().path("ports")) {
                ports.put(port.path("name").asText(), port.path("containerPort").asInt());
            }
            return ports;
        }

        /** The container port a Service or probe names, by number or by name; null when there is none. */
        Integer containerPort(JsonNode reference) {
            if (reference.isNumber()) {
                return containerPorts().containsValue(reference.asInt()) ? reference.asInt() : null;
            }
            return containerPorts().get(reference.asText());
        }

        boolean selects(JsonNode selector) {
            JsonNode labels = statefulSet().at("/spec/template/metadata/labels");
            if (selector.isMissingNode() || selector.isEmpty()) {
                return false;
            }
            for (Map.Entry<String, JsonNode> label : selector.properties()) {
                if (!label.getValue().asText().equals(labels.path(label.getKey()).asText(null))) {
                    return false;
                }
            }
            return true;
        }

        /** The container's variables in the order the container sees them. */
        Map<String, Env> env() {
            Map<String, Env> env = new LinkedHashMap<>();
            for (JsonNode from : container().path("envFrom")) {
                String configMap = from.at("/configMapRef/name").asText();
                JsonNode map = named("ConfigMap", configMap);
                assertTrue(map != null, name + ": envFrom names ConfigMap " + configMap + ", which is not rendered");
                for (Map.Entry<String, JsonNode> e : map.path("data").properties()) {
                    env.put(e.getKey(), new Env(e.getValue().asText(), null, "ConfigMap " + configMap));
                }
            }
            for (JsonNode variable : container().path("env")) {
                env.remove(variable.path("name").asText());
                env.put(variable.path("name").asText(), new Env(variable.has("value") ? variable.get("value").asText()
                        : null, variable.get("valueFrom"), "container env"));
            }
            return env;
        }

        /** Variables that other variables' values refer to as $(NAME). */
        Set<String> referencedVariables() {
            Set<String> referenced = new TreeSet<>();
            for (Env env : env().values()) {
                Matcher m = REFERENCE.matcher(env.value() == null ? "" : env.value());
                while (m.find()) {
                    referenced.add(m.group(1));
                }
            }
            return referenced;
        }

        /** The volumeMount whose directory holds {@code file}, the deepest one when mounts nest. */
        JsonNode mountHolding(String file) {
            JsonNode holding = null;
            for (JsonNode mount : container().path("volumeMounts")) {
                String dir = mount.path("mountPath").asText();
                if (file != null && file.startsWith(dir.endsWith("/") ? dir : dir + "/") && (holding == null
                        || dir.length() > holding.path("mountPath").asText().length())) {
                    holding = mount;
                }
            }
            return holding;
        }

        List<String> mountPaths() {
            List<String> paths = new ArrayList<>();
            container().path("volumeMounts").forEach(m -> paths.add(m.path("mountPath").asText()));
            return paths;
        }
    }

    private static final class Problems {
        private final List<String> found = new ArrayList<>();

        void add(Overlay overlay, String problem) {
            found.add("k8s/overlays/" + overlay.name() + ": " + problem);
        }

        void assertNone() {
            assertTrue(found.isEmpty(), found.size() + " problem(s):\n" + String.join("\n", found));
        }
    }

    /**
     * Quarkus's settings as its extensions describe them in {@code META-INF/quarkus-config-doc/quarkus-config-model.json}:
     * the runtime modules' on the class path, and the deployment modules' (build-time settings such as SmallRye Health's
     * paths) beside them in the Maven repository, where the Quarkus build resolved them.
     */
    private static final class QuarkusConfigModel {
        private static final String MODEL = "META-INF/quarkus-config-doc/quarkus-config-model.json";

        record Property(String name, String environmentVariable, String phase, String defaultValue) {
            boolean runtime() {
                return phase.equals("RUN_TIME");
            }
        }

        private final Map<String, Property> byName = new HashMap<>();
        private final Map<String, Property> byEnvironmentVariable = new HashMap<>();

        static QuarkusConfigModel load() throws IOException {
            QuarkusConfigModel model = new QuarkusConfigModel();
            ClassLoader loader = K8sManifestsTest.class.getClassLoader();
            for (URL url : Collections.list(loader.getResources(MODEL))) {
                try (InputStream in = url.openStream()) {
                    model.read(JSON.readTree(in));
                }
            }
            for (URL url : Collections.list(loader.getResources("META-INF/quarkus-extension.properties"))) {
                Path deployment = deploymentJar(url);
                if (deployment != null) {
                    try (JarFile jar = new JarFile(deployment.toFile())) {
                        if (jar.getEntry(MODEL) != null) {
                            try (InputStream in = jar.getInputStream(jar.getEntry(MODEL))) {
                                model.read(JSON.readTree(in));
                            }
                        }
                    }
                }
            }
            return model;
        }

        /** The deployment module of a runtime extension jar, in the Maven repository layout the jar comes from. */
        private static Path deploymentJar(URL extensionProperties) throws IOException {
            URLConnection connection = extensionProperties.openConnection();
            if (!(connection instanceof JarURLConnection jarConnection)) {
                return null;
            }
            Properties properties = new Properties();
            try (InputStream in = connection.getInputStream()) {
                properties.load(in);
            }
            String artifact = properties.getProperty("deployment-artifact");
            if (artifact == null) {
                return null;
            }
            String[] gav = artifact.split(":");
            Path runtimeJar = Path.of(jarConnection.getJarFileURL().getPath());
            Path groupDir = runtimeJar.getParent().getParent().getParent();
            String version = gav[gav.length - 1];
            Path jar = groupDir.resolve(gav[1]).resolve(version).resolve(gav[1] + "-" + version + ".jar");
            return Files.isRegularFile(jar) ? jar : null;
        }

        private void read(JsonNode node) {
            JsonNode path = node.path("path");
            if (path.has("property") && path.has("environmentVariable")) {
                Property property = new Property(path.get("property").asText(),
                        path.get("environmentVariable").asText(), node.path("phase").asText(),
                        node.path("defaultValue").isTextual() ? node.get("defaultValue").asText() : null);
                byName.put(property.name(), property);
                byEnvironmentVariable.put(property.environmentVariable(), property);
            }
            node.forEach(this::read);
        }

        Property byName(String name) {
            return byName.get(name);
        }

        Property byEnvironmentVariable(String variable) {
            return byEnvironmentVariable.get(variable);
        }

        /** The variables of settings that name files, as {@code quarkus.http.ssl.certificate.files}. */
        Map<String, String> fileVariables() {
            Map<String, String> files = new TreeMap<>();
            for (Property p : byName.values()) {
                if (p.name().matches(".*[.-]files?")) {
                    files.put(p.environmentVariable(), p.name());
                }
            }
            return files;
        }
    }
}
