package dev.ccx.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads ccx's contact detail records (topic {@code cc.cdr}) and prints one JSON line per record.
 *
 * <p>Every value is in the Confluent wire format: byte 0, a 4-byte big-endian schema id, then the
 * record in Avro binary. The writer schema of an id comes from a Schema Registry when {@code
 * --registry URL} is given ({@code GET /schemas/ids/{id}}), else from ccx's compacted {@code
 * _ccx-schemas} topic, whose values are {@code {"id": N, "subject": "...", "schema": "<json>"}}
 * (the first record of an id wins). Topics and the group get the deployment's namespace in front.
 *
 * <p>The consumer joins a group, reads {@code read_committed} (only records of committed ccx
 * transactions) and commits its offsets after printing each batch. With {@code --until-caught-up} it
 * exits once it has read every partition up to where it stood when the partitions were assigned.
 */
public final class CdrConsumer {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Writer schemas by id. */
  interface Schemas extends AutoCloseable {
    Schema byId(int id) throws IOException;

    @Override
    default void close() {}
  }

  /** A Confluent-compatible Schema Registry over HTTP. */
  static final class Registry implements Schemas {
    private final String url;
    private final HttpClient http = HttpClient.newHttpClient();
    private final Map<Integer, Schema> cache = new HashMap<>();

    Registry(String url) {
      this.url = url.replaceAll("/+$", "");
    }

    @Override
    public Schema byId(int id) throws IOException {
      Schema cached = cache.get(id);
      if (cached != null) {
        return cached;
      }
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(url + "/schemas/ids/" + id))
              .header("Accept", "application/vnd.schemaregistry.v1+json")
              .timeout(Duration.ofSeconds(10))
              .build();
      HttpResponse<String> response;
      try {
        response = http.send(request, HttpResponse.BodyHandlers.ofString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted asking " + url + " for schema id " + id, e);
      }
      if (response.statusCode() != 200) {
        throw new IOException(
            "schema registry " + url + ": schema id " + id + ": HTTP " + response.statusCode());
      }
      Schema schema = new Schema.Parser().parse(JSON.readTree(response.body()).get("schema").asText());
      cache.put(id, schema);
      return schema;
    }
  }

  /** ccx's compacted schema topic (one partition), read again when an id is not known yet. */
  static final class SchemaTopic implements Schemas {
    private final KafkaConsumer<byte[], byte[]> reader;
    private final TopicPartition partition;
    private final Map<Integer, Schema> byId = new HashMap<>();

    SchemaTopic(String bootstrap, String topic) {
      Properties props = common(bootstrap);
      props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
      reader = new KafkaConsumer<>(props);
      partition = new TopicPartition(topic, 0);
      reader.assign(List.of(partition));
      reader.seekToBeginning(List.of(partition));
    }

    @Override
    public Schema byId(int id) throws IOException {
      if (!byId.containsKey(id)) {
        catchUp();
      }
      Schema schema = byId.get(id);
      if (schema == null) {
        throw new IOException("schema id " + id + " is not in " + partition.topic());
      }
      return schema;
    }

    private void catchUp() throws IOException {
      long end = reader.endOffsets(List.of(partition)).get(partition);
      while (reader.position(partition) < end) {
        for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(500))) {
          JsonNode claim = JSON.readTree(r.value());
          int id = claim.get("id").asInt();
          if (!byId.containsKey(id)) { // the first claim of an id wins
            byId.put(id, new Schema.Parser().parse(claim.get("schema").asText()));
          }
        }
      }
    }

    @Override
    public void close() {
      reader.close();
    }
  }

  static Properties common(String bootstrap) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return props;
  }

  /** The JSON line of one record: where it was, its schema id and type, and the record itself. */
  static String line(ConsumerRecord<byte[], byte[]> r, Schemas schemas) throws IOException {
    ByteBuffer value = ByteBuffer.wrap(r.value() == null ? new byte[0] : r.value());
    if (value.remaining() < 5 || value.get() != 0) {
      throw new IOException("not in the Confluent wire format (magic byte 0 + schema id)");
    }
    int id = value.getInt();
    Schema writer = schemas.byId(id);
    GenericRecord record =
        new GenericDatumReader<GenericRecord>(writer)
            .read(null, DecoderFactory.get().binaryDecoder(r.value(), 5, r.value().length - 5, null));
    ObjectNode out = JSON.createObjectNode();
    out.put("topic", r.topic());
    out.put("partition", r.partition());
    out.put("offset", r.offset());
    out.put("key", r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8));
    out.put("schema_id", id);
    out.put("type", writer.getFullName());
    out.set("record", JSON.readTree(GenericData.get().toString(record)));
    return JSON.writeValueAsString(out);
  }

  private static String option(Map<String, String> opts, String name, String env, String fallback) {
    String value = opts.getOrDefault(name, System.getenv(env));
    return value == null || value.isEmpty() ? fallback : value;
  }

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--until-caught-up" -> opts.put(args[i], "true");
        case "--bootstrap", "--namespace", "--registry", "--group", "--timeout-s" -> {
          if (i + 1 == args.length) {
            usage("missing the value of " + args[i]);
          }
          opts.put(args[i], args[++i]);
        }
        default -> usage("unknown option " + args[i]);
      }
    }
    String bootstrap = option(opts, "--bootstrap", "CCX_BOOTSTRAP", null);
    if (bootstrap == null) {
      usage("--bootstrap HOST:PORT (or CCX_BOOTSTRAP) is required");
    }
    String ns = option(opts, "--namespace", "CCX_NAMESPACE", "");
    String registry = option(opts, "--registry", "CCX_SCHEMA_REGISTRY_URL", null);
    boolean bounded = opts.containsKey("--until-caught-up");
    long deadline = System.nanoTime() + Long.parseLong(opts.getOrDefault("--timeout-s", "120")) * 1_000_000_000L;

    Properties props = common(bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, ns + opts.getOrDefault("--group", "cdr-consumer-java"));
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    String topic = ns + "cc.cdr";
    int count = 0;
    try (Schemas schemas = registry != null ? new Registry(registry) : new SchemaTopic(bootstrap, ns + "_ccx-schemas");
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      Thread main = Thread.currentThread();
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> { // Ctrl-C: wake the poll up, let main close the consumer (leaves the group)
                    consumer.wakeup();
                    try {
                      main.join(5000);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }));
      consumer.subscribe(List.of(topic));
      Map<TopicPartition, Long> ends = null;
      while (true) {
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(200));
        for (ConsumerRecord<byte[], byte[]> r : batch) {
          try {
            System.out.println(line(r, schemas));
            count++;
          } catch (IOException e) { // a real consumer would dead-letter it; here: say so, go on
            System.err.printf("skipping %s-%d@%d: %s%n", r.topic(), r.partition(), r.offset(), e.getMessage());
          }
        }
        System.out.flush();
        if (!batch.isEmpty()) {
          consumer.commitSync();
        }
        if (!bounded) {
          continue;
        }
        Set<TopicPartition> assigned = consumer.assignment();
        if (ends == null && !assigned.isEmpty()) {
          ends = consumer.endOffsets(assigned); // read_committed: the last stable offsets
        }
        if (ends != null && caughtUp(consumer, ends)) {
          break;
        }
        if (System.nanoTime() > deadline) {
          System.err.println(
              ends == null
                  ? "no partition of " + topic + " was assigned: does it exist (check --namespace)?"
                  : "not caught up with " + topic + " before --timeout-s; giving up");
          System.exit(1);
        }
      }
    } catch (WakeupException e) {
      // Ctrl-C: the shutdown hook woke the consumer up
    }
    System.err.println("read " + count + " CDRs from " + topic);
  }

  private static boolean caughtUp(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> ends) {
    for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
      if (consumer.assignment().contains(end.getKey()) && consumer.position(end.getKey()) < end.getValue()) {
        return false;
      }
    }
    return true;
  }

  private static void usage(String problem) {
    System.err.println(problem);
    System.err.println(
        "usage: java -jar target/cdr-consumer.jar --bootstrap HOST:PORT [--namespace NS] [--registry URL]"
            + " [--group G] [--until-caught-up] [--timeout-s 120]");
    System.exit(2);
  }
}
