#!/usr/bin/env bash
# Writes the admin's client properties (SASL_SSL as `admin`) to a private file and prints its
# path, for kafka-topics.sh, kafka-acls.sh and kafka-configs.sh (--command-config).
set -euo pipefail
: "${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}"
file="$(mktemp /tmp/kith-admin.XXXXXX.properties)"
chmod 600 "$file"
cat > "$file" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}";
ssl.truststore.type=PEM
ssl.truststore.location=/etc/kafka/certs/ca.pem
PROPERTIES
echo "$file"
