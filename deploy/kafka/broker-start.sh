#!/usr/bin/env bash
# A Kith broker's first start formats its KRaft storage with the `admin` SCRAM credential
# (brokers authenticate to each other as admin; without it no listener would let them in),
# then hands over to the image's own start script.
set -euo pipefail
: "${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}"
data="${KAFKA_LOG_DIRS:-/var/lib/kafka/data}"
if [ ! -f "$data/meta.properties" ]; then
  config="$(mktemp /tmp/server.XXXXXX.properties)"
  # The image builds server.properties from KAFKA_* variables; format needs the same file.
  /etc/kafka/docker/configure >/dev/null 2>&1 || true
  cp /opt/kafka/config/server.properties "$config" 2>/dev/null || true
  /opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$CLUSTER_ID" \
    --config /opt/kafka/config/server.properties \
    --add-scram "SCRAM-SHA-512=[name=admin,password=${KAFKA_ADMIN_PASSWORD}]"
fi
exec /etc/kafka/docker/run
