"""A kafka-python application: creates a topic, produces JSON events, and reads them back by assign and seek.

Usage: json_round_trip.py BOOTSTRAP TOPIC COUNT [SECURITY_PROTOCOL MECHANISM USER PASSWORD CAFILE]
"""
import json
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
security = {}
if len(sys.argv) > 4:
    protocol, mechanism, user, password, cafile = sys.argv[4:9]
    security = dict(security_protocol=protocol, sasl_mechanism=mechanism, sasl_plain_username=user,
                    sasl_plain_password=password)
    if cafile != "-":
        security.update(ssl_cafile=cafile, ssl_check_hostname=False)

admin = KafkaAdminClient(bootstrap_servers=bootstrap, **security)
admin.create_topics([NewTopic(topic, 2, 1)])
admin.close()

producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", compression_type="gzip",
                         key_serializer=str.encode, value_serializer=lambda v: json.dumps(v).encode(), **security)
futures = [producer.send(topic, key="patient-%d" % (i % 7), value={"seq": i, "heart_rate": 60 + i % 40})
           for i in range(count)]
producer.flush()
acked = [f.get(timeout=30) for f in futures]
producer.close()

consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=5000,
                         value_deserializer=lambda v: json.loads(v.decode()), **security)
partitions = [TopicPartition(topic, p) for p in range(2)]
consumer.assign(partitions)
for tp in partitions:
    consumer.seek(tp, 0)
seen = {}
for message in consumer:
    seen[(message.partition, message.offset)] = message.value["seq"]
consumer.close()

expected = {(m.partition, m.offset): i for i, m in enumerate(acked)}
if seen != expected:
    print("MISMATCH: read %d records, expected %d" % (len(seen), len(expected)))
    sys.exit(1)
print("OK %d" % len(seen))
